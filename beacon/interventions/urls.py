from django.urls import path

from beacon.interventions import views

app_name = "interventions"
urlpatterns = [
    path("", views.notice_list, name="list"),
    path("cases/<int:case_pk>/notices/new/", views.new_notice, name="new_notice"),
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("notices/<int:pk>/response/", views.notice_response, name="response"),
    path("notices/<int:pk>/letter.<str:fmt>", views.notice_letter, name="notice_letter"),
    path("school-letters/", views.school_letters, name="school_letters"),
    path("schools/<int:urn>/letters/<str:kind>.<str:fmt>", views.school_letter, name="school_letter"),
    path("letters/", views.template_list, name="templates"),
    path("letters/<str:kind>/", views.template_edit, name="template"),
]
