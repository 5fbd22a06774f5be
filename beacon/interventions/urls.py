from django.urls import path

from beacon.interventions import views

app_name = "interventions"
urlpatterns = [
    path("notices/<int:pk>/", views.notice, name="notice"),
    path("notices/<int:pk>/letter.<str:fmt>", views.notice_letter, name="notice_letter"),
]
