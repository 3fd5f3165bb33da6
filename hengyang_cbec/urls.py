from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from reviews.urls import notice_urls

from . import views
from .accounts import views as account_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/broker", views.healthz_broker, name="healthz-broker"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("accounts/login/", account_views.PortalLoginView.as_view(), name="login"),
    path(
        "accounts/password_change/",
        account_views.OwnPasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        account_views.OwnPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password_reset/",
        account_views.AuditedPasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("hengyang_cbec.accounts.urls")),
    path("admin/", admin.site.urls),
    path("", include("policies.urls")),
    path("", include("applications.urls")),
    path("", include("reviews.urls")),
    path("", include(notice_urls)),
    path("", include("hengyang_cbec.api.urls")),
]

handler400 = "hengyang_cbec.views.bad_request"
handler403 = "hengyang_cbec.views.permission_denied"
handler404 = "hengyang_cbec.views.page_not_found"
handler500 = "hengyang_cbec.views.server_error"
