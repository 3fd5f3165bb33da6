"""The applicant's side: enterprises, their members, applications, evidence, notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hengyang_cbec.fieldcrypto import EncryptedTextField, KeyedHashField, KeyedHashMixin

from .validators import validate_uscc
from .workflow import OPEN_STATES, State


class ScanState(models.TextChoices):
    """The virus scan of an uploaded file (evidence, enterprise documents)."""

    PENDING = "pending", _("Waiting for the virus scan")
    CLEAN = "clean", _("Checked")
    INFECTED = "infected", _("Quarantined: a virus was found")


class Enterprise(KeyedHashMixin, models.Model):
    """An applicant organisation, described once and used by every application it files.

    Nothing is submitted for it until the Bureau of Commerce has verified, from the business
    licence and the legal representative's authorisation letter, that its administrator may
    represent it (EnterpriseClaim).
    """

    class Verification(models.TextChoices):
        PENDING = "pending", _("Waiting for the Bureau of Commerce's verification")
        RETURNED = "returned", _("Returned: new documents are needed")
        VERIFIED = "verified", _("Verified by the Bureau of Commerce")
        REJECTED = "rejected", _("Not verified")

    name = models.CharField(_("enterprise name"), max_length=200)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    entity_type = models.CharField(_("type of applicant"), max_length=40)
    district = models.ForeignKey(
        "policies.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    registered_address = models.CharField(_("registered address"), max_length=300)
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(_("contact phone"), max_length=30)
    bank_name = models.CharField(_("bank name"), max_length=200)
    # Text, never a number: leading zeros matter. Stored encrypted; found by its keyed hash.
    bank_account = EncryptedTextField(_("bank account"), max_length=40, purpose="bank_account")
    bank_account_hash = KeyedHashField(source="bank_account", purpose="bank_account")
    customs_code = models.CharField(_("customs registration code"), max_length=20, blank=True)
    registered_in_hengyang = models.BooleanField(_("legally registered in Hengyang"), default=False)
    pays_taxes = models.BooleanField(_("pays taxes in Hengyang"), default=False)
    independent_legal_person = models.BooleanField(_("independent legal person"), default=False)
    has_cbec_performance = models.BooleanField(
        _("has cross-border e-commerce import and export performance"), default=False
    )
    in_customs_cbec_statistics = models.BooleanField(
        _("included in Hengyang Customs' cross-border e-commerce statistics"), default=False
    )
    verification = models.CharField(
        _("verification"),
        max_length=10,
        choices=Verification.choices,
        default=Verification.PENDING,
        db_index=True,
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    GENERAL_FACTS = (
        "registered_in_hengyang",
        "pays_taxes",
        "independent_legal_person",
        "has_cbec_performance",
        "in_customs_cbec_statistics",
    )

    def general_facts(self) -> dict:
        """The Art. I facts and entity type, as the rules engine reads them."""
        facts = {name: getattr(self, name) for name in self.GENERAL_FACTS}
        facts["entity_type"] = self.entity_type
        return facts

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED

    @property
    def masked_bank_account(self) -> str:
        return f"•••• {self.bank_account[-4:]}" if self.bank_account else ""


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMINISTRATOR = "administrator", _("Administrator")
        FILER = "filer", _("Filer")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="members")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.FILER)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "enterprise"], name="membership_unique"),
            # A person files for one enterprise at a time.
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="active"), name="membership_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise}"


class EnterpriseClaim(models.Model):
    """A person's claim to administer an enterprise, proven by documents; the bureau decides.

    The first registration of a credit code is a REGISTRATION claim; any later claim on the same
    code (by someone who is not its administrator) is a DISPUTE, never a silent join request.
    """

    class Kind(models.TextChoices):
        REGISTRATION = "registration", _("Registration")
        DISPUTE = "dispute", _("Dispute over the administrator")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the Bureau of Commerce")
        RETURNED = "returned", _("Returned: new documents are needed")
        VERIFIED = "verified", pgettext_lazy("enterprise claim", "Verified")
        REJECTED = "rejected", pgettext_lazy("enterprise claim", "Rejected")
        KEPT = "kept", _("Decided: the current administrator stays")
        TRANSFERRED = "transferred", _("Decided: the administration passed to the claimant")

    OPEN = (Status.PENDING, Status.RETURNED)

    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="claims")
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enterprise_claims"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    statement = models.TextField(_("statement of the claimant"), blank=True)
    reason = models.TextField(_("reason given by the Bureau of Commerce"), blank=True)
    created_at = models.DateTimeField(_("lodged at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("enterprise claim")
        verbose_name_plural = _("enterprise claims")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["claimant", "enterprise"],
                condition=Q(status__in=["pending", "returned"]),
                name="enterprise_claim_one_open_per_claimant",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "returned", "verified"]) | ~Q(reason=""),
                name="enterprise_claim_refusal_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} ({self.get_kind_display()}, {self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class EnterpriseDocument(models.Model):
    """A document proving a claim, kept like evidence: checked by content, virus-scanned,
    downloadable only when clean, every download audited."""

    class Kind(models.TextChoices):
        LICENCE = "licence", _("Business licence")
        AUTHORISATION = (
            "authorisation",
            _("Authorisation letter naming the account holder, signed by the legal representative"),
        )
        OTHER = "other", _("Other evidence")

    REQUIRED = (Kind.LICENCE, Kind.AUTHORISATION)

    claim = models.ForeignKey(EnterpriseClaim, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("document"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    file_kind = models.CharField(_("detected type"), max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    scan_state = models.CharField(
        _("scan"), max_length=10, choices=ScanState.choices, default=ScanState.PENDING
    )
    scan_detail = models.CharField(max_length=200, blank=True)
    # Replaced after a return: kept in the record, no longer part of the claim.
    superseded_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise document")
        verbose_name_plural = _("enterprise documents")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class Application(models.Model):
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="applications"
    )
    measure = models.ForeignKey(
        "policies.Measure", on_delete=models.PROTECT, related_name="+", verbose_name=_("measure")
    )
    year = models.PositiveIntegerField(_("performance year"))
    # The store or warehouse for measures that count per store or warehouse (M09A, M10B).
    scope_key = models.CharField(_("store or warehouse"), max_length=100, blank=True, default="")
    state = models.CharField(
        _("state"), max_length=30, choices=State.choices, default=State.DRAFT, db_index=True
    )
    reference = models.CharField(_("reference"), max_length=30, unique=True, null=True, blank=True)
    # What the applicant typed, as typed (so nothing is lost, even if not yet valid).
    draft_facts = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    # Facts taken from imported official statistics (免申即享): locked on the form, verified at
    # the source. {fact: {"value", "source", "record", "import", "line", "imported_at", ...}}
    sourced_facts = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Frozen at submission: the validated facts as the engine read them.
    declared_facts = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    estimate_cny = models.DecimalField(
        _("estimated amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    estimate = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    # Fixed at the first submission (I-7): the policy version in force that day and the day
    # itself. Every later assessment (review, finance commit, resubmission) uses both.
    policy = models.ForeignKey(
        "policies.Policy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("policy version"),
    )
    reference_date = models.DateField(_("reference date"), null=True, blank=True)
    # The components of the approved amount ({"rent": "60000.00", ...}), so that later
    # applications count each component (I-9).
    approved_components = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    approved_amount_cny = models.DecimalField(
        _("approved amount"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    signer_name = models.CharField(_("declared by"), max_length=100, blank=True)
    declared_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    # A return for correction: what the reviewer reopened, and until when.
    return_message = models.TextField(_("message from the reviewer"), blank=True)
    return_fields = models.JSONField(default=list, blank=True)
    return_documents = models.JSONField(default=list, blank=True)
    return_deadline = models.DateField(_("correction deadline"), null=True, blank=True)
    resubmission_count = models.PositiveSmallIntegerField(default=0)
    # Bumped by every change; a form carries it so a stale page cannot overwrite newer data.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # When the retention rule removed this closed application's personal data (retention.py).
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-created_at"]
        indexes = [
            # The queue's "resubmitted" tab counts these few rows, not every submitted one.
            models.Index(
                fields=["state"],
                condition=Q(resubmission_count__gt=0),
                name="application_resubmitted_state",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "measure", "year", "scope_key"],
                condition=Q(state__in=sorted(s.value for s in OPEN_STATES)),
                name="application_one_open_per_enterprise_measure_year",
                violation_error_message=_(
                    "Your enterprise already has an open application for this measure and year."
                ),
            ),
            models.CheckConstraint(
                condition=Q(approved_amount_cny__isnull=True) | Q(approved_amount_cny__gte=0),
                name="application_approved_amount_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"{self.measure_id} {self.year} ({self.get_state_display()})"


class Evidence(models.Model):
    ScanState = ScanState

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="evidence")
    document_type = models.CharField(_("document type"), max_length=60)
    file = models.FileField(_("file"), max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("detected type"), max_length=10)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(max_length=64, db_index=True)
    scan_state = models.CharField(
        _("scan"), max_length=10, choices=ScanState.choices, default=ScanState.PENDING
    )
    scan_detail = models.CharField(max_length=200, blank=True)
    # Frozen evidence was part of a submission and is kept as it was.
    frozen = models.BooleanField(default=False)
    # A frozen file removed or replaced in a slot that a return reopened: no longer part of the
    # application, but kept (row and file) in the record, and shown to the reviewer as withdrawn.
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


# The inbox moved to the shell (both sides notify); still importable from here.
from hengyang_cbec.notifications.models import Notification  # noqa: E402, F401
