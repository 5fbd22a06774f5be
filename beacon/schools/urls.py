from django.urls import path

from beacon.schools import views

app_name = "schools"
urlpatterns = [
    path("", views.school_list, name="list"),
    path("local-authority/", views.la_overview, name="la_overview"),
    path("<int:urn>/", views.school_detail, name="detail"),
]
