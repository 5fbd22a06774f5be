from django.urls import path

from beacon.reporting import views

app_name = "reporting"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("targets/<str:ref>/", views.target_detail, name="target"),
    path("targets/<str:ref>/edit/", views.edit_target, name="edit_target"),
    path("gaps/", views.gaps, name="gaps"),
]
