from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from reviews.urls import notice_urls

from . import views
from .accounts.lockout import LockoutAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", set_language, name="set_language"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=LockoutAuthenticationForm
        ),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("policies.urls")),
    path("", include("applications.urls")),
    path("", include("reviews.urls")),
    path("", include(notice_urls)),
]

handler400 = "hengyang_cbec.views.bad_request"
handler403 = "hengyang_cbec.views.permission_denied"
handler404 = "hengyang_cbec.views.page_not_found"
handler500 = "hengyang_cbec.views.server_error"
