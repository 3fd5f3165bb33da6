"""A valid action as a persona (Step) and the builders of the actions that need some setting up."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from applications.models import Application, Enterprise, Evidence, Membership
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from tests.factories import PASSWORD, make_user

from .discovery import submitted_form
from .world import World

# --- The valid action of each POST ----------------------------------------------------------------


@dataclass
class Step:
    """Log in as `user` (None: anonymous; "session" steps prepare the client themselves), POST
    `data` to `url`, and expect an audit event `expect` written by the POST."""

    user: object
    url: str
    data: dict | Callable = field(default_factory=dict)  # or made from the page: data(client)
    expect: str = ""
    prepare: Callable | None = None  # called with the client after logging in, before the POST
    headers: dict = field(default_factory=dict)


def _rendered_form(page: str, action: str, **changes) -> Callable:
    """The form of `page` that posts to `action`, as rendered, with `changes` typed in."""

    def data(client) -> dict:
        html = client.get(page).content.decode()
        values = submitted_form(html, action=action)
        assert values, f"no form posting to {action} on {page}"
        return {**values, **{name: [value] for name, value in changes.items()}}

    return data


def _pdf(name: str = "证明.pdf"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from applications.tests.factories import pdf_bytes

    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def _profile(enterprise: Enterprise, **changes) -> dict:
    from applications.services import PROFILE_FIELDS

    data = {name: getattr(enterprise, name) for name in PROFILE_FIELDS}
    data["district"] = enterprise.district_id
    data["uscc"] = enterprise.uscc
    data = {k: ("on" if v is True else v) for k, v in data.items() if v is not False}
    return {**data, **changes}


def _login(w: World) -> list[Step]:
    return [
        Step(
            None,
            reverse("login"),
            {"username": w.member.username, "password": PASSWORD},
            expect="login",
        )
    ]


def _second_factor(w: World) -> list[Step]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from hengyang_cbec.accounts import second_factor

    reviewer = w.staff(Role.COMMERCE_REVIEWER, "coded")
    device = TOTPDevice.objects.create(user=reviewer, name="authenticator", confirmed=True)

    def password_step(client):
        client.post(reverse("login"), {"username": reviewer.username, "password": PASSWORD})

    return [
        Step(
            None,
            reverse("accounts:second_factor"),
            {"code": second_factor.current_code(device)},
            expect="login",
            prepare=password_step,
        )
    ]


def _password_reset_confirm(w: World) -> list[Step]:
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = make_user(Role.APPLICANT, username="walk-forgetful")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = reverse("password_reset_confirm", args=[uid, token])
    new = "Xq7#newpass-2026-walk"

    def open_link(client):
        client.get(link)  # Django swaps the token for a session marker and redirects

    return [
        Step(
            None,
            reverse("password_reset_confirm", args=[uid, "set-password"]),
            {"new_password1": new, "new_password2": new},
            expect="account.password_change",
            prepare=open_link,
        )
    ]


def _register_resend(w: World) -> list[Step]:
    """A sign-up waiting for its confirmation asks for the link again (the address is in the
    session the sign-up left)."""

    def signed_up(client):
        client.post(
            reverse("applications:register"),
            {
                "username": "walk-signup",
                "full_name": "孙七",
                "email": "walk-signup@example.test",
                "phone": "13700000000",
                "password1": "Pl4n#Tea-Garden-93",
                "password2": "Pl4n#Tea-Garden-93",
            },
        )

    return [
        Step(
            None,
            reverse("applications:register_resend"),
            expect="account.verification_resent",
            prepare=signed_up,
        )
    ]


def _members(w: World) -> list[Step]:
    joining = make_user(Role.APPLICANT, username="walk-joining")
    membership = Membership.objects.create(
        user=joining, enterprise=w.enterprise, status=Membership.Status.PENDING
    )
    return [
        Step(
            w.member,
            reverse("applications:members"),
            {"membership": membership.pk, "decision": "accept"},
            expect="membership.accept",
        )
    ]


def _batch_actions(w: World) -> list[Step]:
    open_batch = w.open_batch()
    two_lines = w.open_batch()
    confirmed = w.confirmed_batch()
    paid = w.confirmed_batch()
    failed = w.confirmed_batch()
    line = confirmed.lines.get()

    def url(batch):
        return reverse("reviews:finance_batch", args=[batch.pk])

    result = (
        "line,account,amount,reference,status\n"
        f"{line.line_reference},{line.bank_account},{line.amount_cny:.2f},BOC-9,paid\n"
    ).encode()
    result_file = io.BytesIO(result)
    result_file.name = "result.csv"
    return [
        Step(w.officers[1], url(open_batch), {"action": "confirm"}, "finance.batch_confirm"),
        Step(
            w.officers[0],
            url(two_lines),
            {"action": "remove", "line": two_lines.lines.get().pk},
            "finance.batch_remove_line",
        ),
        Step(
            w.officers[0],
            url(paid),
            {
                "action": "paid",
                "line": paid.lines.get().pk,
                "paid_on": timezone.localdate().isoformat(),
                "reference": "BOC-1",
            },
            "finance.pay",
        ),
        Step(
            w.officers[0],
            url(failed),
            {"action": "failed", "line": failed.lines.get().pk, "reason": "账户已销户"},
            "finance.payment_failed",
        ),
        Step(
            w.officers[0],
            url(confirmed),
            {"action": "reconcile", "file": result_file},
            "finance.reconcile",
        ),
    ]


def _review(name: str, state: State, role: str, data: Callable, expect: str):
    """A POST of the review page's forms: the application's version comes with the form."""

    def steps(w: World) -> list[Step]:
        application = w.application(state)
        user = {
            "commerce": w.crew.commerce,
            "finance": w.crew.finance,
            "registrar": w.crew.registrar,
        }[role]
        if state == State.SUBMITTED and role == "commerce":
            user = w.staff(Role.COMMERCE_REVIEWER, "taker")
        return [
            Step(
                user,
                reverse(f"reviews:{name}", args=[application.pk]),
                {"version": application.version, **data(w, application)},
                expect,
            )
        ]

    return steps


def _fresh_uscc() -> str:
    from reviews.tests.factories import make_uscc

    return make_uscc(987_654_321)


def _allocation():
    from reviews.tests.factories import make_allocation

    return make_allocation()


def _end(application: Application) -> None:
    from reviews.tests.factories import end_notice

    end_notice(application)


def _draft_evidence(w: World) -> Evidence:
    from reviews.tests.factories import add_evidence

    evidence = add_evidence(w.application(State.DRAFT, own=True))
    Evidence.objects.filter(pk=evidence.pk).update(frozen=False)
    return evidence


def _decide_role(w: World) -> list[Step]:
    from hengyang_cbec.accounts import services

    change = services.request_role(
        actor=w.security_admins[0], user=w.member, role=Role.FINANCE_REVIEWER, reason="调岗"
    )
    return [
        Step(
            w.security_admins[1],
            reverse("accounts:decide_role", args=[change.pk]),
            {"decision": "approve"},
            "role.granted",
        )
    ]


def _lift_lock(w: World) -> list[Step]:
    from hengyang_cbec.accounts.models import AccountLock

    now = timezone.now()
    lock = AccountLock.objects.create(
        username=w.member.username,
        user=w.member,
        locked_at=now,
        locked_until=now + timedelta(minutes=15),
    )
    return [
        Step(
            w.security_admins[0],
            reverse("accounts:lift_lock", args=[lock.pk]),
            {"reason": "本人来电核实"},
            "account.unlock",
        )
    ]


def _answer_coreview(w: World) -> list[Step]:
    from reviews.services.review import coreview_request

    application = w.application(State.COMMERCE_REVIEW)
    unit = _units(application)[0]
    request = coreview_request(
        user=w.crew.commerce,
        application=application,
        units=[unit],
        message="请出具意见",
        version=application.version,
    )[0]
    co_reviewer = w.staff(Role.CO_REVIEWER, "co")
    co_reviewer.unit = unit
    co_reviewer.save(update_fields=["unit"])
    return [
        Step(
            co_reviewer,
            reverse("reviews:answer_coreview", args=[request.pk]),
            {"decision": "agree", "text": "同意。"},
            "review.coreview_answer",
        )
    ]


def _units(application: Application) -> list[str]:
    """The units a co-review can be asked of (the commerce bureau reviews itself)."""
    return [u for u in application.measure.responsible_units if u != "commerce_bureau"]


# --- Enterprise verification, the auditor's dossier, the API --------------------------------------


def _claim_documents() -> dict:
    """The two documents a claim asks for, as a browser uploads them."""
    return {"licence": _pdf("营业执照.pdf"), "authorisation": _pdf("授权委托书.pdf")}


def _enterprise_create(w: World) -> list[Step]:
    return [
        Step(
            w.newcomer,
            reverse("applications:enterprise_create"),
            {
                **_profile(
                    w.enterprise,
                    uscc=_fresh_uscc(),
                    name="衡阳新设跨境电商有限公司",
                    customs_code="",
                ),
                **_claim_documents(),
            },
            "enterprise.register",
        )
    ]


def _verification(w: World) -> list[Step]:
    """The claimant answers a return with new documents."""
    claim = w.claim(returned=True)
    return [
        Step(
            claim.claimant,
            reverse("applications:verification"),
            _claim_documents(),
            "enterprise.resubmit",
        )
    ]


def _verification_decisions(w: World) -> list[Step]:
    """The commerce reviewer verifies a registration, returns one, and decides a dispute."""

    def url(claim) -> str:
        return reverse("reviews:verification_detail", args=[claim.pk])

    reviewer = w.crew.commerce
    return [
        Step(reviewer, url(w.claim()), {"decision": "verify"}, "enterprise.verify"),
        Step(
            reviewer,
            url(w.claim()),
            {"decision": "return", "reason": "授权书未加盖公章。"},
            "enterprise.return",
        ),
        Step(
            reviewer,
            url(w.claim(dispute=True)),
            {"decision": "keep", "reason": "经电话核实法定代表人，维持现管理员。"},
            "enterprise.dispute_keep",
        ),
    ]


def _dossiers(w: World) -> list[Step]:
    return [
        Step(
            w.auditor,
            reverse("reviews:dossiers"),
            {"scope": "application", "reference": w.application().reference},
            "dossier.request",
        )
    ]


def _once_form(page: str, **values) -> Callable:
    """The form of `page` that carries the one-time field against a second send, filled in."""

    def data(client) -> dict:
        html = client.get(page).content.decode()
        once = submitted_form(html).get("once")
        assert once, f"no one-time field on {page}"
        return {"once": once, **values}

    return data


def _api_keys(w: World) -> list[Step]:
    page = reverse("api_keys")
    return [
        Step(
            w.security_admins[0],
            page,
            _once_form(page, name="省政务服务平台", scopes=["read_statuses"], days="90"),
            "api.key_create",
        )
    ]


def _api_key_revoke(w: World) -> list[Step]:
    from hengyang_cbec.api.models import Scope

    key = w.api_key(Scope.READ_STATUSES)
    return [
        Step(
            w.security_admins[1],
            reverse("api_key_revoke", args=[key.pk]),
            {"reason": "对接系统停用"},
            "api.key_revoke",
        )
    ]


def _api_tokens(w: World) -> list[Step]:
    page = reverse("api_tokens")
    return [Step(w.member, page, _once_form(page, days="30"), "api.token_create")]


def _api_token_revoke(w: World) -> list[Step]:
    from hengyang_cbec.api import keys

    token, _secret = keys.token_create(user=w.member, days=30)
    return [Step(w.member, reverse("api_token_revoke", args=[token.pk]), expect="api.token_revoke")]


def _api_result(w: World) -> list[Step]:
    """A disbursement officer confirms one bank result sent through the API, rejects another."""
    confirmed, rejected = w.bank_result(), w.bank_result()
    return [
        Step(
            w.officers[0],
            reverse("api_result", args=[confirmed.pk]),
            {"decision": "confirm"},
            "api.bank_result_confirm",
        ),
        Step(
            w.officers[0],
            reverse("api_result", args=[rejected.pk]),
            {"decision": "reject", "reason": "金额与银行回单不符"},
            "api.bank_result_reject",
        ),
    ]


# --- Official statistics and the entitlements found from them (免申即享) -----------------------


def _statistics_upload(w: World) -> list[Step]:
    """A commerce reviewer imports a customs file in the documented columns."""
    data = {"source": "customs", "file": w.statistics_upload(), "note": "2026 年海关统计"}
    return [Step(w.crew.commerce, reverse("reviews:statistics"), data, "statistics.import")]


def _statistics_decisions(name: str, expect: str, **body) -> Callable[[World], list[Step]]:
    """The second commerce reviewer decides a pending import (never its importer)."""

    def steps(w: World) -> list[Step]:
        pending = w.statistics_import()
        return [Step(w.second_commerce, reverse(name, args=[pending.pk]), body, expect)]

    return steps


def _entitlement_answer(name: str, expect: str, **body) -> Callable[[World], list[Step]]:
    """A member of the enterprise an entitlement is offered to confirms or declines it."""

    def steps(w: World) -> list[Step]:
        offered = w.entitlement()
        member = Membership.objects.filter(enterprise_id=offered.enterprise_id).first().user
        return [Step(member, reverse(name, args=[offered.pk]), body, expect)]

    return steps


def _dispute_source(w: World) -> list[Step]:
    application = w.proactive_application()
    return [
        Step(
            w.crew.commerce,
            reverse("reviews:dispute_source", args=[application.pk]),
            {"reason": "海关统计出口额与报关单汇总不符。"},
            "entitlement.dispute_source",
        )
    ]
