from django.urls import path

from beacon.futureoptions import views

app_name = "futureoptions"
urlpatterns = [
    path("", views.index, name="index"),
    path("map/", views.school_map, name="map"),
    path("map/schools.json", views.map_points, name="map_points"),
    path("schools/<int:urn>/", views.school_detail, name="school"),
    path("schools/<int:urn>/summary/", views.edit_summary, name="edit_summary"),
    path("schools/<int:urn>/partners/", views.partners, name="partners"),
    path("partnerships/", views.partnership_list, name="partnerships"),
    path("partnerships/new/", views.partnership_form, name="new_partnership"),
    path("partnerships/<int:pk>/", views.partnership_detail, name="partnership"),
    path("partnerships/<int:pk>/edit/", views.partnership_form, name="edit_partnership"),
    path("system-leaders/", views.leaders, name="leaders"),
    path("toolkit/", views.toolkit, name="toolkit"),
    path("toolkit/<slug:slug>.<str:fmt>", views.toolkit_download, name="toolkit_download"),
]
