from django.urls import path

from beacon.assessments import views

app_name = "assessments"
urlpatterns = [
    path("", views.register, name="register"),
    path("terms/new/", views.create_term, name="create_term"),
    path("meetings/", views.meetings, name="meetings"),
    path("meeting-pack.pdf", views.meeting_pack_pdf, name="meeting_pack"),
    path("intelligence/<int:pk>/withdraw/", views.withdraw_intelligence, name="withdraw_intelligence"),
    path("<int:urn>/", views.school_assessment, name="school"),
    path("<int:urn>/decide/", views.decide, name="decide"),
    path("<int:urn>/judgements/", views.record_judgement, name="judgement"),
    path("<int:urn>/intelligence/new/", views.add_intelligence, name="add_intelligence"),
]
