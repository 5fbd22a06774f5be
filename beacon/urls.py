from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("beacon.core.urls")),
    path("account/", include("beacon.accounts.urls")),
    path("schools/", include("beacon.schools.urls")),
    path("imports/", include("beacon.imports.urls")),
    path("risk/", include("beacon.assessments.urls")),
    path("support/", include("beacon.support.urls")),
    path("interventions/", include("beacon.interventions.urls")),
    path("accountability/", include("beacon.accountability.urls")),
    path("future-options/", include("beacon.futureoptions.urls")),
    path("reporting/", include("beacon.reporting.urls")),
    path("find-a-school/", include("beacon.profiles.urls")),
    path("admin/", admin.site.urls),
]
