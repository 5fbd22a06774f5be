from django.urls import path

from beacon.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.run_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("data/", views.data_held, name="data"),
    path("<int:pk>/", views.run_detail, name="detail"),
]
