"""URLs of the approval notices: the applicant's and staff's download, staff's list and actions,
and the public verification page the QR code points at."""

from django.urls import path

from . import notice_views as views

app_name = "notices"

urlpatterns = [
    path(
        "approval-notices/<int:pk>/download/<str:language>/",
        views.download,
        name="download",
    ),
    path("staff/notices/", views.staff_list, name="staff_list"),
    path("staff/notices/<int:pk>/retry/", views.retry, name="retry"),
    path("staff/notices/<int:pk>/regenerate/", views.regenerate, name="regenerate"),
    path("verify/<str:code>/", views.verify, name="verify"),
]
