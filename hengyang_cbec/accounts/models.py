from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _


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
            ("administer_accounts", _("Can manage accounts and roles")),
        ]

    def __str__(self) -> str:
        return self.full_name or self.username
