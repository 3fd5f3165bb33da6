from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("accounts/code/", views.second_factor_view, name="second_factor"),
    path("accounts/recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("accounts/two-factor/", views.two_factor_settings, name="two_factor"),
    path("accounts/start/", views.landing, name="landing"),
    path("staff/security/", views.security, name="security"),
    path("staff/security/roles/<int:pk>/decide/", views.decide_role, name="decide_role"),
    path("staff/security/locks/<int:pk>/lift/", views.lift_lock, name="lift_lock"),
]
