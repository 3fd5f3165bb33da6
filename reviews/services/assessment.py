"""Prior awards, the rules engine's assessment of verified figures, its preview, and the warnings
the reviewer must see."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from applications.models import Application, Enterprise, Evidence
from applications.services import (
    application_catalogue,
    prior_award_of,
    prior_awards_for,
    reference_for,
)
from hengyang_cbec import formatting
from hengyang_cbec.i18n import english_active
from policies.engine import AssessInputError, PriorAward
from policies.services import assess_measure

from ..models import Assessment, Award
from .steps import ReviewError, _money


def prior_awards(application: Application) -> list[PriorAward]:
    """What the engine must count against this application, read from the database now.

    Approved and paid awards (the applications app's view) plus awards already committed to a
    budget but not yet fixed: those are promised money too, and caps must see them.
    """
    awards = prior_awards_for(application.enterprise_id, exclude_application_id=application.pk)
    committed = (
        Award.objects.filter(
            application__enterprise_id=application.enterprise_id, status=Award.Status.COMMITTED
        )
        .exclude(application_id=application.pk)
        .values_list(
            "application__measure__code",
            "application__measure__data__scope_fact",
            "application__scope_key",
            "assessment__result_zh__components",
            "application__year",
            "application__reference",
            "amount_cny",
            "application__policy__code",
            "application__measure__policy__code",
        )
    )
    # As values: the components of the assessment the award rests on (I-9), not its whole trace.
    awards.extend(
        prior_award_of(
            code=code,
            scope=scope,
            scope_key=scope_key,
            components={c["name"]: c["amount_cny"] for c in components or []},
            year=year,
            reference=reference,
            amount_cny=amount,
            policy=policy or measure_policy,
        )
        for (
            code,
            scope,
            scope_key,
            components,
            year,
            reference,
            amount,
            policy,
            measure_policy,
        ) in committed
    )
    return awards


def award_components(award: Award) -> dict[str, str]:
    """The components of the assessment an award rests on ({name: amount}), for I-9."""
    return {
        c["name"]: c["amount_cny"] for c in (award.assessment.result_zh or {}).get("components", [])
    }


def _notes(
    application: Application, facts: Mapping[str, Any], on_date: date | None, reason: str
) -> tuple[date, str | None, list[tuple[str, str, str]]]:
    """The reference date and version of an assessment, and the trace notes it needs (I-7).

    The application's own reference date unless the reviewer explicitly names another one, with
    a reason; a verified loan prime rate (the M12 rate rule) needs a reason too. Both reasons are
    shown in the trace.
    """
    reference_date, policy = reference_for(application)
    reason = (reason or "").strip()
    notes: list[tuple[str, str, str]] = []
    if on_date is not None and on_date != reference_date:
        if not reason:
            raise ReviewError(_("Give the reason for assessing on another date."))
        notes.append(
            (
                "",
                f"审核人明确按 {on_date} 评估，而非申报的参考日期 {reference_date}（I-7），"
                f"理由：{reason}",
                f"The reviewer explicitly assessed on {on_date} instead of the application's "
                f"reference date {reference_date} (I-7); reason: {reason}",
            )
        )
        reference_date = on_date
    if facts.get("lpr_rate") not in (None, ""):
        if not reason:
            # A recomputation (finance commit) keeps the reason given with the same rate.
            earlier = application.assessments.exclude(reason="").order_by("-created_at", "-id")
            previous = earlier.first()
            if (
                previous is not None
                and previous.verified_facts.get("lpr_rate") == facts["lpr_rate"]
            ):
                reason = previous.reason
        if not reason:
            raise ReviewError(_("Give the reason for setting the loan prime rate as verified."))
        notes.append(
            (
                "II(6)2",
                f"贷款市场报价利率由审核人核实为 {facts['lpr_rate']}，理由：{reason}",
                f"The loan prime rate was set by the reviewer as a verified fact, "
                f"{facts['lpr_rate']}; reason: {reason}",
            )
        )
    return reference_date, policy, notes


def _serialisable(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        name: (str(value) if isinstance(value, Decimal | date) else value)
        for name, value in facts.items()
    }


def current_verified_facts(application: Application) -> dict[str, Any]:
    latest = application.assessments.order_by("-created_at", "-id").first()
    return dict(latest.verified_facts) if latest else dict(application.declared_facts)


def assess(
    application: Application,
    facts: Mapping[str, Any],
    user,
    *,
    on_date: date | None = None,
    reason: str = "",
) -> Assessment:
    """Run the engine on verified facts (+ the enterprise's general facts) and store a snapshot.

    The application's version and reference date (I-7) assess it; `on_date` assesses on another
    date, explicitly and with a `reason` that the trace shows.
    """
    facts = _serialisable({**application.enterprise.general_facts(), **facts})
    facts["year"] = facts.get("year", application.year)
    priors = prior_awards(application)
    on_date, policy, notes = _notes(application, facts, on_date, reason)
    try:
        result = assess_measure(
            application.measure.code,
            facts,
            on_date=on_date,
            policy=policy,
            prior_awards=priors,
            notes=notes,
        )
    except AssessInputError as exc:
        raise ReviewError(_("The rules engine cannot read these figures: %s") % exc) from None
    zh = result.to_dict("zh-hans")
    en = result.to_dict("en")
    return Assessment.objects.create(
        application=application,
        created_by=user,
        on_date=on_date,
        verified_facts=facts,
        prior_awards=[
            {
                "measure": p.measure,
                "year": p.year,
                "amount_cny": _money(p.amount_cny),
                "reference": p.reference,
                "policy": p.policy,
                "component_amounts": {
                    name: _money(amount) for name, amount in (p.component_amounts or {}).items()
                },
            }
            for p in priors
        ],
        result_zh=zh,
        result_en=en,
        reason=(reason or "").strip() if notes else "",
        parameters_used=[list(p) for p in result.parameters_used],
        rules_version=result.rules_version,
        eligible=result.eligible,
        cap_cny=result.cap_cny,
        amount_cny=result.amount_cny,
    )


def preview_assessment(
    application: Application,
    *,
    verified: Mapping[str, Any] | None = None,
    priors: list[PriorAward] | None = None,
) -> dict[str, Any] | None:
    """The engine's result on the current verified figures, computed now and not stored.

    A page that already read the verified figures or the prior awards passes them in. When the
    engine refuses the figures, the result is None and `error_zh` / `error_en` say why, so the
    reviewer sees which figure to verify.
    """
    if verified is None:
        verified = current_verified_facts(application)
    facts = _serialisable({**application.enterprise.general_facts(), **verified})
    reference_date, policy = reference_for(application)
    try:
        result = assess_measure(
            application.measure.code,
            facts,
            on_date=reference_date,
            policy=policy,
            prior_awards=prior_awards(application) if priors is None else priors,
        )
    except AssessInputError as exc:
        fact = application_catalogue(application).facts.get(exc.fact or "")
        zh, en = exc.message_zh, exc.message_en
        if fact is not None:
            zh, en = f"{fact.label_zh}：{zh}", f"{fact.label_en}: {en}"
        return {"result": None, "error_zh": zh, "error_en": en}
    return {"result": result, "zh": result.to_dict("zh-hans"), "en": result.to_dict("en")}


# --- Warnings the reviewer must see ---------------------------------------------------------------


@dataclass
class ReviewWarning:
    code: str
    text: str


def _describe(prior: PriorAward) -> str:
    """A prior award as the reader's language writes it."""
    zh, en = prior.describe()
    return en if english_active() else zh


def _parenthesised(text: str) -> str:
    return f" ({text})" if english_active() else f"（{text}）"


def _list(items) -> str:
    return ("; " if english_active() else "；").join(items)


def review_warnings(
    application: Application, result=None, *, priors: list[PriorAward] | None = None
) -> list[ReviewWarning]:
    """Annual cap nearly used, one-time awarded, overlap, shared evidence or bank account."""
    warnings: list[ReviewWarning] = []
    reference_date, _policy = reference_for(application)
    catalogue = application_catalogue(application).on(reference_date)
    measure = catalogue.measures.get(application.measure.code)
    if priors is None:
        priors = prior_awards(application)
    if measure is not None and measure.same_year_notice:
        for p in priors:
            if p.measure == measure.code and p.year == application.year:
                warnings.append(
                    ReviewWarning(
                        "per_project",
                        _(
                            "The applicant already has an award of this measure in %(year)s "
                            "(%(award)s): the limit applies per project (%(reading)s); confirm "
                            "that this application is another project."
                        )
                        % {
                            "year": application.year,
                            "award": p.describe()[1],
                            "reading": measure.same_year_notice,
                        },
                    )
                )
    if measure is not None and measure.annual_cap:
        parameter = catalogue.parameters.get(f"{measure.code}.annual_cap_cny")
        value = parameter.value_on(reference_date) if parameter else None
        used = sum(
            (
                p.amount_cny
                for p in priors
                if p.measure == measure.code and p.year == application.year
            ),
            Decimal(0),
        )
        if value is not None and used >= value.value * Decimal("0.8"):
            warnings.append(
                ReviewWarning(
                    "annual_cap",
                    _(
                        "Annual cap nearly used: %(used)s of %(cap)s already awarded "
                        "under %(measure)s for %(year)s."
                    )
                    % {
                        "used": formatting.cny(used),
                        "cap": formatting.cny(value.value),
                        "measure": measure.code,
                        "year": application.year,
                    },
                )
            )
    if measure is not None and measure.one_time:
        earlier = [p for p in priors if p.measure == measure.code]
        for p in earlier:
            warnings.append(
                ReviewWarning(
                    "one_time",
                    _("One-time measure already awarded: %(award)s.") % {"award": _describe(p)},
                )
            )
    if measure is not None:
        for group in measure.overlap_groups:
            others = [
                p
                for p in priors
                if p.measure in group.members
                and p.measure != measure.code
                and p.year == application.year
            ]
            if not others:
                continue
            other_total = sum((p.amount_cny for p in others), Decimal(0))
            own = Decimal(0)
            if result is not None and result.cap_cny is not None:
                own = result.cap_cny + other_total
            better = max(other_total, own)
            warnings.append(
                ReviewWarning(
                    "overlap",
                    _(
                        "Overlap group %(group)s: %(other)s already awarded (%(awards)s) in "
                        "%(year)s; only the better one is supported, at most %(better)s in "
                        "total."
                    )
                    % {
                        "group": formatting.quoted(
                            (group.name_en if english_active() else group.name_zh) or group.code
                        ),
                        "other": formatting.cny(other_total),
                        "awards": "; ".join(_describe(p) for p in others),
                        "year": application.year,
                        "better": formatting.cny(better),
                    },
                )
            )
    hashes = list(application.evidence.values_list("sha256", flat=True))
    if hashes:
        shared = (
            Evidence.objects.filter(sha256__in=hashes)
            .exclude(application__enterprise_id=application.enterprise_id)
            .select_related("application__enterprise")
            .order_by("application_id")[:200]
        )
        files: set[str] = set()
        elsewhere: dict[int, str] = {}
        for evidence in shared:
            files.add(evidence.sha256)
            other = evidence.application
            elsewhere.setdefault(
                other.pk,
                f"{other.reference or other.pk}{_parenthesised(other.enterprise.name)}",
            )
        if files:
            # One warning for all of them, naming each other application once.
            warnings.append(
                ReviewWarning(
                    "same_evidence",
                    ngettext(
                        "%(n)s file of this application is also in applications of other "
                        "enterprises: %(others)s.",
                        "%(n)s files of this application are also in applications of other "
                        "enterprises: %(others)s.",
                        len(files),
                    )
                    % {"n": len(files), "others": _list(elsewhere.values())},
                )
            )
    # Compared by the keyed hash: no account is decrypted to find its twins (after a change of
    # FIELD_HASH_KEYS, `manage.py reencrypt_fields` hashes every row under the new key).
    account_hash = application.enterprise.bank_account_hash
    if account_hash:
        twins = Enterprise.objects.filter(bank_account_hash=account_hash)
        for other in twins.exclude(pk=application.enterprise_id).only("name")[:20]:
            warnings.append(
                ReviewWarning(
                    "same_bank_account",
                    _("The same bank account is registered for another enterprise, %(name)s.")
                    % {"name": other.name},
                )
            )
    return warnings
