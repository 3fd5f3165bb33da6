"""For every POST route, the valid actions the audit walk performs; the POSTs not audited."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from django.utils import timezone

from applications.models import Application
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from tests.factories import PASSWORD, make_user

from .steps import (
    Step,
    _allocation,
    _answer_coreview,
    _api_key_revoke,
    _api_keys,
    _api_result,
    _api_token_revoke,
    _api_tokens,
    _batch_actions,
    _decide_role,
    _dispute_source,
    _dossiers,
    _draft_evidence,
    _end,
    _enterprise_create,
    _entitlement_answer,
    _lift_lock,
    _login,
    _members,
    _password_reset_confirm,
    _pdf,
    _profile,
    _register_resend,
    _rendered_form,
    _review,
    _second_factor,
    _statistics_decisions,
    _statistics_upload,
    _units,
    _verification,
    _verification_decisions,
)
from .world import World

NOT_AUDITED = {
    # The interface language of the session; no data changes.
    "set_language": "interface language only",
    # Marks the user's own notifications read; nothing is decided or disclosed.
    "applications:notifications": "own notifications marked read",
    # An unsubmitted draft saved every few seconds while typing; only the enterprise sees it and
    # nothing is decided on it. The figures are audited when the application is submitted
    # (application.submit with the declared figures) and on every change after that.
    "applications:autosave": "draft autosave; audited at submission",
    # Anyone checks whether a PDF is a notice the portal issued: read-only, rate-limited, no login.
    "notices:verify": "public, read-only check of a notice file",
}


STEPS: dict[str, Callable[[World], list[Step]]] = {
    "login": _login,
    "logout": lambda w: [Step(w.member, reverse("logout"), expect="logout")],
    "password_change": lambda w: [
        Step(
            make_user(Role.APPLICANT, username="walk-changer"),
            reverse("password_change"),
            {
                "old_password": PASSWORD,
                "new_password1": "Xq7#changed-2026-walk",
                "new_password2": "Xq7#changed-2026-walk",
            },
            "account.password_change",
        )
    ],
    "password_reset": lambda w: [
        Step(
            None,
            reverse("password_reset"),
            {"email": w.member.email},
            "account.password_reset_requested",
        )
    ],
    "password_reset_confirm": _password_reset_confirm,
    "accounts:second_factor": _second_factor,
    "accounts:two_factor": lambda w: [
        Step(
            w.crew.commerce,
            reverse("accounts:two_factor"),
            {"action": "codes"},
            "second_factor.recovery_codes_issued",
        )
    ],
    "accounts:security": lambda w: [
        Step(
            w.security_admins[0],
            reverse("accounts:security"),
            {
                "username": w.member.username,
                "role": Role.COMMERCE_REVIEWER.value,
                "reason": "调岗",
            },
            "role.grant_requested",
        )
    ],
    "accounts:decide_role": lambda w: _decide_role(w),
    "accounts:lift_lock": lambda w: _lift_lock(w),
    "applications:register": lambda w: [
        Step(
            None,
            reverse("applications:register"),
            {
                "username": "walk-registering",
                "full_name": "周八",
                "email": "walk-registering@example.test",
                "phone": "13600000000",
                "password1": "Xq7#register-2026-walk",
                "password2": "Xq7#register-2026-walk",
            },
            "account.register",
        )
    ],
    "applications:register_resend": _register_resend,
    "applications:enterprise": lambda w: [
        Step(
            w.member,
            reverse("applications:enterprise"),
            {**_profile(w.enterprise, bank_account="6222000011112222333"), "password": PASSWORD},
            "enterprise.update",
        )
    ],
    "applications:enterprise_create": _enterprise_create,
    "applications:verification": _verification,
    "applications:enterprise_join": lambda w: [
        Step(
            make_user(Role.APPLICANT, username="walk-joiner"),
            reverse("applications:enterprise_join"),
            {"uscc": w.enterprise.uscc},
            "membership.request",
        )
    ],
    "applications:members": _members,
    "applications:application_start": lambda w: [
        Step(
            w.member,
            reverse("applications:application_start", args=["M16"]),
            {"year": timezone.localdate().year},
            "application.start",
        )
    ],
    "applications:evidence_upload": lambda w: [
        Step(
            w.member,
            reverse(
                "applications:evidence_upload",
                args=[(d := w.application(State.DRAFT, own=True)).pk],
            ),
            {"document_type": d.measure.evidence_types[0], "file": _pdf()},
            "application.evidence_add",
        )
    ],
    "applications:evidence_delete": lambda w: [
        Step(
            w.member,
            reverse(
                "applications:evidence_delete",
                args=[(e := _draft_evidence(w)).application_id, e.pk],
            ),
            expect="application.evidence_remove",
        )
    ],
    "applications:application_check": lambda w: [
        Step(
            w.member,
            reverse("applications:application_check", args=[(d := w.complete_draft()).pk]),
            {"declared": "on", "signer_name": "王芳", "version": d.version},
            "application.submit",
        )
    ],
    "applications:withdraw": lambda w: [
        Step(
            w.member,
            reverse("applications:withdraw", args=[w.application(own=True).pk]),
            {"reason": "不再申报"},
            "application.withdraw",
        )
    ],
    "applications:discard": lambda w: [
        Step(
            w.member,
            reverse("applications:discard", args=[w.application(State.DRAFT, own=True).pk]),
            expect="application.discard",
        )
    ],
    "reviews:take": _review("take", State.SUBMITTED, "commerce", lambda w, a: {}, "review.take"),
    "reviews:assign": _review(
        "assign",
        State.COMMERCE_REVIEW,
        "commerce",
        lambda w, a: {"assignee": w.staff(Role.COMMERCE_REVIEWER, "assignee").pk},
        "review.assign",
    ),
    "reviews:save_facts": lambda w: [
        Step(
            w.crew.commerce,
            reverse("reviews:save_facts", args=[(a := w.application(State.COMMERCE_REVIEW)).pk]),
            _rendered_form(
                reverse("reviews:review_detail", args=[a.pk]),
                reverse("reviews:save_facts", args=[a.pk]),
                cbec_export_volume_usd="500000",
                reason="海关数据核减",
            ),
            "review.verify",
        )
    ],
    "reviews:request_coreview": _review(
        "request_coreview",
        State.COMMERCE_REVIEW,
        "commerce",
        lambda w, a: {"units": _units(a)[:1], "message": "请出具意见"},
        "review.coreview_request",
    ),
    "reviews:return": _review(
        "return",
        State.COMMERCE_REVIEW,
        "commerce",
        lambda w, a: {
            "fields_to_reopen": ["cbec_export_volume_usd"],
            "message": "请更正出口额。",
            "working_days": 5,
        },
        "review.return",
    ),
    "reviews:reject": _review(
        "reject",
        State.COMMERCE_REVIEW,
        "commerce",
        lambda w, a: {"reason": "不符合条件"},
        "review.reject",
    ),
    "reviews:recommend": _review(
        "recommend",
        State.COMMERCE_REVIEW,
        "commerce",
        lambda w, a: {"amount": "100000", "reason": ""},
        "review.recommend",
    ),
    "reviews:return_to_commerce": _review(
        "return_to_commerce",
        State.FINANCE_REVIEW,
        "finance",
        lambda w, a: {"message": "请复核金额"},
        "review.return_to_commerce",
    ),
    "reviews:commit": _review(
        "commit",
        State.FINANCE_REVIEW,
        "finance",
        lambda w, a: {"allocation": _allocation().pk},
        "review.commit",
    ),
    "reviews:answer_coreview": lambda w: _answer_coreview(w),
    "reviews:resolve_objection": lambda w: [
        Step(
            w.crew.commerce,
            reverse("reviews:resolve_objection", args=[(o := w.objection()).pk]),
            {
                "version": Application.objects.get(pk=o.application_id).version,
                "outcome": "dismissed",
                "resolution": "经核查，异议不成立。",
            },
            "review.objection_dismiss",
        )
    ],
    "reviews:publish_notice": lambda w: [
        Step(
            w.crew.registrar,
            reverse("reviews:publish_notice"),
            {"applications": [w.application(State.PUBLIC_NOTICE).pk]},
            "review.notice_publish",
        )
    ],
    "reviews:close_notices": lambda w: [
        Step(
            w.crew.registrar,
            reverse("reviews:close_notices"),
            expect="review.close_notice",
            prepare=lambda client: _end(w.on_notice()),
        )
    ],
    "reviews:record_approval": lambda w: [
        Step(
            w.crew.registrar,
            reverse("reviews:record_approval"),
            {
                "applications": [w.application(State.GOVERNMENT_APPROVAL).pk],
                "document_number": "衡政函〔2026〕99号",
                "document_date": timezone.localdate().isoformat(),
            },
            "review.record_approval",
        )
    ],
    "reviews:lodge_objection": lambda w: [
        Step(
            w.newcomer,
            reverse("reviews:lodge_objection", args=[w.notice_item(w.on_notice()).pk]),
            {"real_name": "赵六", "contact": "13900000000", "text": "出口额不实。"},
            "review.objection_lodge",
        )
    ],
    "reviews:finance_disbursements": lambda w: [
        Step(
            w.officers[0],
            reverse("reviews:finance_disbursements"),
            {"award": [w.award().pk], "note": "第一批"},
            "finance.batch_create",
        )
    ],
    "reviews:finance_batch": _batch_actions,
    "reviews:verification_detail": _verification_decisions,
    "reviews:dossiers": _dossiers,
    "api_keys": _api_keys,
    "api_key_revoke": _api_key_revoke,
    "api_tokens": _api_tokens,
    "api_token_revoke": _api_token_revoke,
    "api_result": _api_result,
    "reviews:statistics": _statistics_upload,
    "reviews:statistics_approve": _statistics_decisions(
        "reviews:statistics_approve", "statistics.approve"
    ),
    "reviews:statistics_reject": _statistics_decisions(
        "reviews:statistics_reject", "statistics.reject", reason="出口额单位有误，请海关重新导出。"
    ),
    "reviews:entitlement_match": lambda w: [
        Step(
            w.crew.commerce,
            reverse("reviews:entitlement_match"),
            expect="entitlements.match_requested",
        )
    ],
    "reviews:dispute_source": _dispute_source,
    "applications:entitlement_confirm": _entitlement_answer(
        "applications:entitlement_confirm", "entitlement.confirm"
    ),
    "applications:entitlement_decline": _entitlement_answer(
        "applications:entitlement_decline", "entitlement.decline", reason="本年度不申请该项扶持。"
    ),
    "notices:retry": lambda w: [
        Step(
            w.crew.registrar,
            reverse("notices:retry", args=[w.notice("failed").pk]),
            expect="notice.retry",
        )
    ],
    "notices:regenerate": lambda w: [
        Step(
            w.crew.registrar,
            reverse("notices:regenerate", args=[w.notice("ready").pk]),
            expect="notice.regenerate",
        )
    ],
}
