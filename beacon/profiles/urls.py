from django.urls import path

from beacon.profiles import views

app_name = "profiles"
urlpatterns = [
    # Public, no sign-in.
    path("", views.search, name="search"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("<int:urn>/", views.profile, name="profile"),
    path("<int:urn>/<slug:group>/", views.section, name="section"),
    # Signed in: the school writes its narrative, the director or commissioner publishes it.
    path("manage/", views.narratives, name="narratives"),
    path("manage/<int:urn>/", views.edit_narrative, name="edit"),
    path("manage/<int:urn>/review/", views.review_narrative, name="review"),
]
