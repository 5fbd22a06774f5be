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

# GOV.UK-styled error pages (beacon/templates/core/error.html) for staff and public pages alike.
handler400 = "beacon.core.views.bad_request"
handler403 = "beacon.core.views.permission_denied"
handler404 = "beacon.core.views.page_not_found"
handler500 = "beacon.core.views.server_error"
