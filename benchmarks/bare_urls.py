"""The portal's URLs plus the bare reference views (benchmarks only)."""

from django.urls import path

from hengyang_cbec.urls import urlpatterns as portal

from . import bare_views

urlpatterns = [
    path("bare/queue/", bare_views.queue),
    path("bare/batches/<int:pk>/", bare_views.batch),
    path("bare/batches/<int:pk>/export.csv", bare_views.export_csv),
    path("bare/batches/<int:pk>/export.xlsx", bare_views.export_xlsx),
    path("bare/applications/<int:pk>/", bare_views.review),
    path("bare/measures/<str:code>/", bare_views.calculator),
    path("bare/my/", bare_views.dashboard),
    path("bare/reports/", bare_views.reports),
    *portal,
]
