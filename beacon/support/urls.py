from django.urls import path

from beacon.support import views, views_records

app_name = "support"
urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("overdue/", views.overdue, name="overdue"),
    path("schools/<int:urn>/new/", views.new_case, name="new_case"),
    path("schools/<int:urn>/entitlement/", views_records.entitlement, name="entitlement"),
    path("schools/<int:urn>/entitlement/<int:year>/", views_records.entitlement, name="entitlement_year"),
    path(
        "schools/<int:urn>/entitlement/<int:year>/brokered/new/",
        views_records.brokered_new,
        name="brokered_new",
    ),
    path("brokered/<int:pk>/", views_records.brokered_edit, name="brokered_edit"),
    path("schools/<int:urn>/visits/new/", views_records.visit_new, name="visit_new"),
    path("visits/<int:pk>/", views_records.visit_edit, name="visit_edit"),
    path("capacity/", views_records.capacity_overview, name="capacity"),
    path("capacity/<int:year>/", views_records.capacity_overview, name="capacity_year"),
    path("advisers/<int:adviser_id>/", views_records.adviser_capacity, name="adviser_capacity"),
    path(
        "advisers/<int:adviser_id>/<int:year>/",
        views_records.adviser_capacity,
        name="adviser_capacity_year",
    ),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/meetings/new/", views.record_meeting, name="record_meeting"),
    path("cases/<int:pk>/exit/", views.agree_exit, name="exit"),
    path("cases/<int:pk>/schedule/", views.schedule_meeting, name="schedule_meeting"),
    path("cases/<int:pk>/letters/<str:kind>.<str:fmt>", views.case_letter, name="letter"),
    path("meetings/<int:pk>/report.<str:fmt>", views.meeting_report, name="report"),
    path("meetings/<int:pk>/letter.<str:fmt>", views.meeting_letter, name="meeting_letter"),
]
