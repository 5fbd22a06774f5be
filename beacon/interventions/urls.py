from django.urls import path

from beacon.interventions import views

app_name = "interventions"
urlpatterns = [path("notices/<int:pk>/", views.notice, name="notice")]
