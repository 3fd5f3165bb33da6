from django.urls import path

from . import finance_views as views

# Included from reviews/urls.py under the "reviews" namespace.
urlpatterns = [
    path("finance/disbursements/", views.disbursements, name="finance_disbursements"),
    path("finance/batches/<int:pk>/", views.batch_detail, name="finance_batch"),
    path(
        "finance/batches/<int:pk>/export.<str:file_format>",
        views.batch_export,
        name="finance_export",
    ),
    path("finance/exports/<int:pk>/", views.export_job, name="finance_export_job"),
    path(
        "finance/exports/<int:pk>/download/",
        views.export_job_download,
        name="finance_export_job_download",
    ),
    path("finance/reports/", views.reports, name="finance_reports"),
    path("finance/reports/<str:table>.xlsx", views.report_export, name="finance_report_export"),
]
