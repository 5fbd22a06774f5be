from django.urls import path

from beacon.accountability import views

app_name = "accountability"
urlpatterns = [
    path("", views.index, name="index"),
    path("commissioner/", views.half_termly, name="half_termly"),
    path("commissioner/update.<str:fmt>", views.half_termly_document, name="half_termly_document"),
    path("commissioner/annual/", views.annual, name="annual"),
    path("commissioner/annual.<str:fmt>", views.annual_document, name="annual_document"),
    path("notifications/", views.notifications, name="notifications"),
    path("strategy/", views.strategy, name="strategy"),
    path("strategy/pledges/<int:pk>/actions/new/", views.new_action, name="new_action"),
    path("strategy/actions/<int:pk>/", views.action_detail, name="action"),
    path("strategy/board-report/", views.board_report, name="board_report"),
    path("strategy/board-report.<str:fmt>", views.board_report_document, name="board_report_document"),
    path("commission/", views.outputs, name="outputs"),
    path("commission/outputs/<int:pk>/", views.output_detail, name="output"),
]
