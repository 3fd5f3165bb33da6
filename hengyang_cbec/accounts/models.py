from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from .roles import Role


class User(AbstractUser):
    """A person using the portal: an enterprise member or a member of staff.

    What a person may do comes from their role groups (see roles.py), never from is_superuser:
    four-eyes rules apply to everybody.
    """

    full_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # For co-reviewers: the responsible unit (a code of the policy catalogue) they speak for.
    unit = models.CharField(_("unit"), max_length=40, blank=True)
    preferred_language = models.CharField(
        _("preferred language"),
        max_length=10,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
        default="zh-hans",
    )
    # Set for accounts an administrator created: the holder must choose a password at first login.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_unique_email",
                violation_error_message=_("A user with this e-mail address already exists."),
            )
        ]
        permissions = [
            ("act_as_applicant", _("Can act for an enterprise as an applicant")),
            ("review_commerce", _("Can perform the commerce review")),
            ("give_opinion", _("Can give a co-review opinion")),
            ("review_finance", _("Can perform the finance review")),
            ("register_approval", _("Can record government approval and publish notices")),
            ("disburse", _("Can build, confirm and pay disbursement batches")),
            ("administer_policy", _("Can maintain policies, parameters and budgets")),
            ("audit", _("Can read everything for audit")),
            ("administer_accounts", _("Can manage accounts")),
            ("administer_security", _("Can grant roles and lift account locks")),
            ("audit_log", _("Can read the audit log")),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username


class RoleChange(models.Model):
    """A grant of a role, asked for by one security administrator and approved by another.

    Revocations take effect at once and are recorded here too, already decided.
    """

    class Kind(models.TextChoices):
        GRANT = "grant", _("grant")
        REVOKE = "revoke", _("revoke")

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting approval")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="role_changes", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.GRANT)
    reason = models.CharField(_("reason"), max_length=500)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("role change")
        verbose_name_plural = _("role changes")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(status="pending"),
                name="accounts_one_pending_change_per_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.role} {self.user}"


class AccountLock(models.Model):
    """An account locked after repeated wrong passwords, as the security administrator sees it.

    The lock itself is the counter in the cache (lockout.py); this row makes it visible, and lifting
    it early (with a reason) is recorded here and in the audit log.
    """

    username = models.CharField(_("username tried"), max_length=150, db_index=True)
    user = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    locked_at = models.DateTimeField(_("locked"))
    locked_until = models.DateTimeField(_("locked until"))
    ip = models.GenericIPAddressField(_("last address"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lifted by"),
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lift_reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("account lock")
        verbose_name_plural = _("account locks")
        ordering = ["-locked_at"]

    def __str__(self) -> str:
        return self.username
