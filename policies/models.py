"""The policy catalogue in the database.

The YAML files in policies/catalogue/ seed these tables (`manage.py load_policy`); the rules engine
reads them back as one validated `policies.engine.Catalogue` (see services.current_catalogue).
Columns hold what pages, other apps and the admin use; `data` keeps the rest of each item exactly
as the files state it, so the engine sees the same structure whichever way it was loaded.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from hengyang_cbec.i18n import english_active


class BilingualMixin:
    """`obj.title` / `obj.name` / `obj.label` in the active language (Chinese unless English)."""

    def _localised(self, stem: str) -> str:
        return getattr(self, f"{stem}_en" if english_active() else f"{stem}_zh")


class Policy(BilingualMixin, models.Model):
    """One published version of the measures (HY-CBEC-2025, ...), with its validity window.

    A version owns its measures, parameters, interpretations, overlap groups and evidence lists;
    several versions are kept side by side and the one in force on a reference date assesses.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    issuer_zh = models.CharField(_("issuer (Chinese)"), max_length=200)
    issuer_en = models.CharField(_("issuer (English)"), max_length=200)
    published_on = models.DateField(_("published on"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"))
    source_text = models.TextField(_("source text"), blank=True)
    # The catalogue's shared parts: general conditions, sections, articles, entity types,
    # responsible units, evidence types and fact definitions.
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    loaded_at = models.DateTimeField(_("loaded at"), auto_now=True)

    class Meta:
        verbose_name = _("policy version")
        verbose_name_plural = _("policy versions")
        ordering = ["valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=F("valid_from")), name="policy_validity_ordered"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return self._localised("title")

    @property
    def issuer(self) -> str:
        return self._localised("issuer")


class Measure(BilingualMixin, models.Model):
    class Kind(models.TextChoices):
        COMPUTED = "computed", _("Computed amount")
        DISCRETIONARY = "discretionary", _("Discretionary amount")
        EXTERNAL = "external", _("Settled by another authority")

    policy = models.ForeignKey(
        Policy, on_delete=models.PROTECT, related_name="measures", verbose_name=_("policy version")
    )
    code = models.CharField(_("code"), max_length=10)
    clause = models.CharField(_("clause"), max_length=20)
    section = models.CharField(_("section"), max_length=20)
    position = models.PositiveSmallIntegerField(default=0)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    one_time = models.BooleanField(_("one-time"), default=False)
    annual_cap = models.BooleanField(_("annual cap"), default=False)
    entity_types = models.JSONField(_("admitted entity types"), default=list)
    responsible_units = models.JSONField(_("responsible units"), default=list)
    evidence_types = models.JSONField(_("required evidence"), default=list)
    article_text_zh = models.TextField(_("article text (Chinese)"))
    article_text_en = models.TextField(_("article text (English)"))
    conditions_zh = models.TextField(_("conditions (Chinese)"), blank=True)
    conditions_en = models.TextField(_("conditions (English)"), blank=True)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("measure")
        verbose_name_plural = _("measures")
        ordering = ["policy__valid_from", "position"]
        constraints = [
            # A measure code is unique inside its version: M05 of two versions are two measures.
            models.UniqueConstraint(fields=["policy", "code"], name="measure_code_per_policy")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def title(self) -> str:
        return self._localised("title")

    @property
    def article_text(self) -> str:
        return self._localised("article_text")

    @property
    def conditions(self) -> str:
        return self._localised("conditions")


class Parameter(BilingualMixin, models.Model):
    """An amount, rate, threshold or cap of the policy; its values are dated (ParameterValue)."""

    class Comparison(models.TextChoices):
        GT = "gt", _("strictly greater than (>)")
        GE = "ge", _("greater than or equal to (≥)")

    policy = models.ForeignKey(
        Policy,
        on_delete=models.PROTECT,
        related_name="parameters",
        verbose_name=_("policy version"),
    )
    key = models.CharField(_("key"), max_length=80)
    measure = models.ForeignKey(
        Measure, on_delete=models.PROTECT, null=True, blank=True, related_name="parameters"
    )
    clause = models.CharField(_("clause"), max_length=20)
    kind = models.CharField(_("kind"), max_length=20)
    unit = models.CharField(_("unit"), max_length=20)
    comparison = models.CharField(
        _("comparison"), max_length=2, choices=Comparison.choices, blank=True
    )
    interpretation = models.CharField(_("interpretation"), max_length=10, blank=True)
    label_zh = models.CharField(_("label (Chinese)"), max_length=200, blank=True)
    label_en = models.CharField(_("label (English)"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("parameter")
        verbose_name_plural = _("parameters")
        ordering = ["policy__valid_from", "key"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "key"], name="parameter_key_per_policy")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.policy.code})" if self.policy_id else self.key

    @property
    def label(self) -> str:
        return self._localised("label") or self.key


class DatedEntry(models.Model):
    """What a dated entry of the policy data holds besides its content: from when it applies,
    a note, and who added it when. Entries are never changed once saved."""

    effective_from = models.DateField(_("effective from"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        abstract = True


class ParameterValue(DatedEntry):
    """One dated value. Never changed once saved: a new value gets a later effective date."""

    parameter = models.ForeignKey(Parameter, on_delete=models.PROTECT, related_name="values")
    value = models.DecimalField(_("value"), max_digits=24, decimal_places=8)
    # The value exactly as written, so "500000" stays "500000" in traces and hashes.
    text = models.CharField(_("value as written"), max_length=40)
    effective_to = models.DateField(_("effective to (inclusive)"), null=True, blank=True)

    class Meta:
        verbose_name = _("parameter value")
        verbose_name_plural = _("parameter values")
        ordering = ["parameter__key", "effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["parameter", "effective_from"], name="parameter_value_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="parameter_value_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        end = self.effective_to or "…"
        return f"{self.parameter.key} = {self.text} ({self.effective_from} – {end})"


class Interpretation(BilingualMixin, models.Model):
    policy = models.ForeignKey(
        Policy,
        on_delete=models.PROTECT,
        related_name="interpretations",
        verbose_name=_("policy version"),
    )
    code = models.CharField(_("code"), max_length=10)
    clauses = models.JSONField(_("clauses read"), default=list)
    title_zh = models.CharField(_("title (Chinese)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=300)
    text_zh = models.TextField(_("text (Chinese)"))
    text_en = models.TextField(_("text (English)"))
    applies_to = models.JSONField(_("applies to measures"), default=list, blank=True)
    implemented_by = models.CharField(_("implemented by"), max_length=300, blank=True)
    # The measure settings this reading decides (changed from a date by InterpretationEffect).
    governs = models.JSONField(_("decides"), default=list, blank=True)
    # Set when an administrator edits it, so reloading the files does not undo the edit.
    edited_in_admin = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("interpretation")
        verbose_name_plural = _("interpretations")
        ordering = ["policy__valid_from", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "code"], name="interpretation_code_per_policy"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def title(self) -> str:
        return self._localised("title")

    @property
    def text(self) -> str:
        return self._localised("text")


class InterpretationEffect(DatedEntry):
    """A change of what an interpretation does, from a date onwards (never edited or deleted).

    It sets one measure setting the interpretation governs (one-time, annual cap, overlap groups,
    waived conditions), or only the wording, and always restates the interpretation's full text
    from that date, so that the text and what the engine does never part.
    """

    class Setting(models.TextChoices):
        ONE_TIME = "one_time", _("one-time reward (yes or no)")
        ONE_TIME_COMPONENTS = "one_time_components", _("one-time components")
        ANNUAL_CAP = "annual_cap", _("annual cap (yes or no)")
        WAIVED = "waived_general_facts", _("general conditions waived")
        OVERLAP = "overlap_groups", _("overlap groups")
        WORDING = "wording", _("wording only")

    interpretation = models.ForeignKey(
        Interpretation,
        on_delete=models.PROTECT,
        related_name="effects",
        verbose_name=_("interpretation"),
    )
    setting = models.CharField(_("setting"), max_length=30, choices=Setting.choices)
    measure = models.CharField(_("measure"), max_length=10, blank=True)
    value = models.JSONField(_("value"), null=True, blank=True)
    text_zh = models.TextField(_("text from that date (Chinese)"))
    text_en = models.TextField(_("text from that date (English)"))

    class Meta:
        verbose_name = _("interpretation effect")
        verbose_name_plural = _("interpretation effects")
        ordering = ["effective_from", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["interpretation", "setting", "measure", "effective_from"],
                name="interpretation_effect_unique_start",
            )
        ]

    def __str__(self) -> str:
        target = f" {self.measure}" if self.measure else ""
        return f"{self.interpretation.code}{target} {self.setting} ({self.effective_from})"


class ExternalPolicy(BilingualMixin, models.Model):
    """Another city policy whose awards count in an overlap group (I-6)."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    title_zh = models.CharField(_("title (Chinese)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)

    class Meta:
        verbose_name = _("other city policy")
        verbose_name_plural = _("other city policies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def title(self) -> str:
        return self._localised("title")


class OverlapGroup(BilingualMixin, models.Model):
    policy = models.ForeignKey(
        Policy,
        on_delete=models.PROTECT,
        related_name="overlap_groups",
        verbose_name=_("policy version"),
    )
    code = models.CharField(_("code"), max_length=40)
    clause = models.CharField(_("clause"), max_length=20)
    interpretation = models.CharField(_("interpretation"), max_length=10, blank=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=300, blank=True)
    measures = models.ManyToManyField(Measure, related_name="overlap_groups")
    external_policies = models.ManyToManyField(
        ExternalPolicy, related_name="overlap_groups", blank=True
    )

    class Meta:
        verbose_name = _("overlap group")
        verbose_name_plural = _("overlap groups")
        ordering = ["policy__valid_from", "code"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "code"], name="overlap_group_code_per_policy")
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def name(self) -> str:
        return self._localised("name") or self.code


class FundSource(BilingualMixin, models.Model):
    code = models.CharField(_("code"), max_length=40, unique=True)
    clause = models.CharField(_("clause"), max_length=20)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=300)

    class Meta:
        verbose_name = _("fund source")
        verbose_name_plural = _("fund sources")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self._localised("name")


class Place(BilingualMixin, models.Model):
    """A district, county, county-level city or development zone of Hengyang."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=30)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self._localised("name")
