from django.urls import path

from . import enterprise_views, entitlement_views, views

app_name = "applications"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/sent/", views.register_done, name="register_done"),
    path("register/sent/again/", views.register_resend, name="register_resend"),
    path("register/verify/<str:uidb64>/<str:token>/", views.verify, name="verify"),
    path("my/", views.dashboard, name="dashboard"),
    path("my/enterprise/", views.enterprise, name="enterprise"),
    path("my/enterprise/new/", enterprise_views.enterprise_create, name="enterprise_create"),
    path("my/enterprise/verification/", enterprise_views.verification, name="verification"),
    path(
        "my/enterprise/documents/<int:pk>/",
        enterprise_views.document_download,
        name="enterprise_document",
    ),
    path("my/enterprise/join/", views.enterprise_join, name="enterprise_join"),
    path("my/enterprise/members/", views.members, name="members"),
    path("my/notifications/", views.notifications, name="notifications"),
    path(
        "my/entitlements/<int:pk>/confirm/",
        entitlement_views.confirm,
        name="entitlement_confirm",
    ),
    path(
        "my/entitlements/<int:pk>/decline/",
        entitlement_views.decline,
        name="entitlement_decline",
    ),
    path("my/apply/<str:code>/", views.application_start, name="application_start"),
    path("my/applications/", views.application_list, name="application_list"),
    path("my/applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("my/applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("my/applications/<int:pk>/autosave/", views.application_autosave, name="autosave"),
    path("my/applications/<int:pk>/evidence/", views.evidence_upload, name="evidence_upload"),
    path(
        "my/applications/<int:pk>/evidence/<int:evidence_pk>/delete/",
        views.evidence_delete,
        name="evidence_delete",
    ),
    path(
        "my/applications/<int:pk>/evidence/<int:evidence_pk>/download/",
        views.evidence_download,
        name="evidence_download",
    ),
    path("my/applications/<int:pk>/check/", views.application_check, name="application_check"),
    path("my/applications/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("my/applications/<int:pk>/withdraw/", views.application_withdraw, name="withdraw"),
    path("my/applications/<int:pk>/discard/", views.application_discard, name="discard"),
]
