from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .services import client_ip, record


@receiver(user_logged_in, dispatch_uid="audit.login")
def audit_login(sender, request, user, **kwargs):
    record(action="login", actor=user, ip=client_ip(request), obj=user)


@receiver(user_logged_out, dispatch_uid="audit.logout")
def audit_logout(sender, request, user, **kwargs):
    if user is not None:
        record(action="logout", actor=user, ip=client_ip(request), obj=user)


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    # The username tried is kept (it may not exist); the password never is.
    record(
        action="login_failed",
        ip=client_ip(request),
        result="refused",
        data={"username": str(credentials.get("username", ""))[:150]},
    )
