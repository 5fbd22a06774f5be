from django.urls import path

from beacon.support import views

app_name = "support"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("overdue/", views.overdue, name="overdue"),
    path("schools/<int:urn>/new/", views.new_case, name="new_case"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/meetings/new/", views.record_meeting, name="record_meeting"),
    path("cases/<int:pk>/exit/", views.agree_exit, name="exit"),
    path("cases/<int:pk>/letters/<str:kind>.<str:fmt>", views.case_letter, name="letter"),
    path("meetings/<int:pk>/report.<str:fmt>", views.meeting_report, name="report"),
]
