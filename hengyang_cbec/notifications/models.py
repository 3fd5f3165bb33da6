from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message in the applicant's inbox, and the outbox entry of the e-mail that repeats it."""

    class EmailState(models.TextChoices):
        NONE = "none", _("no e-mail address")
        PENDING = "pending", _("to be sent")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    application = models.ForeignKey(
        "applications.Application",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    message_zh = models.TextField()
    message_en = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    email_state = models.CharField(
        max_length=10, choices=EmailState.choices, default=EmailState.NONE
    )
    email_attempts = models.PositiveSmallIntegerField(default=0)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        # The table keeps the name it had when the model lived in applications.
        db_table = "applications_notification"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="application_user_id_77df74_idx"),
            models.Index(
                fields=["created_at"],
                name="notification_email_pending",
                condition=models.Q(email_state="pending"),
            ),
        ]

    def __str__(self) -> str:
        return self.message_en[:60]
