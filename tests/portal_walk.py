"""The portal's URLs as the URLconf declares them, which of them take a POST, who may reach each,
and for every POST a valid action as the right persona (the audit walk and the fuzz test use it).

`portal_routes()` reads the URLconf (never a hand-made list), so a new view is walked as soon as it
is routed. `STEPS` maps each POST route's name to the valid actions that exercise it; a POST route
that is neither there nor in `NOT_AUDITED` makes the audit walk fail.
"""

from __future__ import annotations

import contextlib
import inspect
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from html.parser import HTMLParser

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from applications.models import Application, Enterprise, Evidence, Membership
from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from tests.factories import PASSWORD, make_user

# --- Forms as a browser submits them ---


class FormFields(HTMLParser):
    """The name/value pairs a browser submits for one form of a page: the form with this id, or
    the one whose action is this path."""

    def __init__(self, form_id: str | None = None, action: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id, self.action = form_id, action
        self.inside = False
        self.pairs: list[tuple[str, str]] = []
        self._select: str | None = None
        self._select_multiple = False
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self.inside = (
                attributes.get("id") == self.form_id
                if self.form_id
                else attributes.get("action") == self.action
            )
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            self.pairs.append((name, attributes.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select, self._select_multiple = name, "multiple" in attributes
            self._select_first, self._select_chosen = None, False
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attributes:
                self.pairs.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            if not self._select_chosen and not self._select_multiple and self._select_first:
                self.pairs.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def submitted_form(html: str, *, form_id: str | None = None, action: str | None = None):
    """{name: [values]} as a browser submits the form unchanged."""
    parser = FormFields(form_id, action)
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    return data


# --- Discovery ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name"
    pattern: str  # the path pattern, e.g. "staff/applications/<int:pk>/take/"
    methods: frozenset[str]
    params: tuple[str, ...]  # the names of its path converters


def _methods(view) -> frozenset[str]:
    """The methods a view answers: its class's handlers, its require_http_methods list, or (for a
    plain function) POST when its code reads the request body."""
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        return frozenset(m.upper() for m in view_class.http_method_names if hasattr(view_class, m))
    allowed: set[str] | None = None
    source = ""
    function = view
    while function is not None:
        for cell in getattr(function, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if (
                isinstance(value, list | tuple | set | frozenset)
                and value
                and all(isinstance(item, str) and item.isupper() for item in value)
            ):
                allowed = set(value) if allowed is None else allowed & set(value)
        with contextlib.suppress(OSError, TypeError):  # a builtin or generated function
            source += inspect.getsource(function)
        function = getattr(function, "__wrapped__", None)
    if allowed is not None:
        return frozenset(allowed)
    reads_body = any(token in source for token in ("request.POST", "request.FILES", '"POST"'))
    return frozenset({"GET", "POST"} if reads_body else {"GET"})


def portal_routes() -> list[Route]:
    """Every routed portal view (the admin has its own walk), first pattern of each name."""
    routes: dict[str, Route] = {}

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern), entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                path = prefix + str(entry.pattern)
                if path.startswith("admin/") or name in routes:
                    continue
                routes[name] = Route(
                    name,
                    path,
                    _methods(entry.callback),
                    tuple(entry.pattern.converters),
                )

    walk(get_resolver().url_patterns, "", None)
    return list(routes.values())


def post_routes() -> list[Route]:
    return [route for route in portal_routes() if "POST" in route.methods]


_FILE_ANSWERS = ("FileResponse(", "StreamingHttpResponse(", "serve_evidence(", "_file_response(")


def download_routes() -> list[str]:
    """The names of the routes whose view answers with a file (read from the views' code)."""
    from django.urls import get_resolver

    names = []
    for route in portal_routes():
        view = get_resolver().resolve(_sample_path(route)).func
        source = ""
        while view is not None:
            with contextlib.suppress(OSError, TypeError):
                source += inspect.getsource(view)
            view = getattr(view, "__wrapped__", None)
        if any(token in source for token in _FILE_ANSWERS):
            names.append(route.name)
    return names


def _sample_path(route: Route) -> str:
    """A path that resolves to the route (1 for each int, "x" for each str converter)."""
    import re

    return "/" + re.sub(
        r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", route.pattern
    )


# POSTs that change nothing security-relevant: no audit event is expected (each says why).
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


# --- A world of states ----------------------------------------------------------------------------


class World:
    """Objects in every state a valid action needs, built on first use (through the services)."""

    def __init__(self):
        from reviews.tests.factories import Crew

        self.crew = Crew()

    # People
    @cached_property
    def enterprise(self) -> Enterprise:
        from reviews.tests.factories import make_enterprise

        return make_enterprise("衡阳巡检跨境电商有限公司")

    @cached_property
    def member(self):
        from reviews.tests.factories import make_member

        return make_member(self.enterprise, "walk-member")

    @cached_property
    def newcomer(self):
        """An applicant without an enterprise yet."""
        return make_user(Role.APPLICANT, username="walk-newcomer")

    def staff(self, role: Role, name: str):
        return make_user(role, username=f"walk-{name}")

    @cached_property
    def officers(self):
        return (
            self.staff(Role.DISBURSEMENT_OFFICER, "maker"),
            self.staff(Role.DISBURSEMENT_OFFICER, "checker"),
        )

    @cached_property
    def security_admins(self):
        return (
            self.staff(Role.SECURITY_ADMINISTRATOR, "security1"),
            self.staff(Role.SECURITY_ADMINISTRATOR, "security2"),
        )

    # Applications
    def application(
        self, state: State = State.SUBMITTED, *, own: bool = False, year: int | None = None
    ) -> Application:
        """An application in `state`: of the walk's own enterprise (whose member acts on it), or
        of a fresh enterprise (one application per enterprise, measure and year)."""
        from reviews.tests.factories import (
            advance,
            make_allocation,
            make_application,
            make_enterprise,
            make_member,
        )

        if own:
            self._own_years = getattr(self, "_own_years", 0) + 1
            application = make_application(  # 2026 is kept for the complete draft
                enterprise=self.enterprise,
                submitter=self.member,
                year=year or 2026 - self._own_years,
            )
        else:
            enterprise = make_enterprise()
            application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
        if state in (State.SUBMITTED, State.DRAFT):
            if state == State.DRAFT:
                application.state = State.DRAFT
                application.reference = None
                application.submitted_at = application.submitted_by = None
                application.save()
            return application
        return advance(application, state, crew=self.crew, allocation=make_allocation())

    def complete_draft(self) -> Application:
        """A draft with every figure and every required document: ready to submit."""
        from applications import services
        from reviews.tests.factories import add_evidence

        application = self.application(State.DRAFT, own=True, year=2026)
        application = services.application_autosave(
            user=self.member,
            application=application,
            values={"cbec_export_volume_usd": "600000", "had_cbec_exports_before": "no"},
        )
        for n, code in enumerate(application.measure.evidence_types):
            evidence = add_evidence(application, sha256=f"{n:02d}" * 32)
            Evidence.objects.filter(pk=evidence.pk).update(document_type=code, frozen=False)
        return application

    def on_notice(self) -> Application:
        from reviews.tests.factories import publish

        application = self.application(State.PUBLIC_NOTICE)
        publish(application, self.crew.registrar)
        return application

    def notice_item(self, application: Application):
        from reviews.models import PublicNoticeItem

        return PublicNoticeItem.objects.get(application=application, batch__closed_at__isnull=True)

    def objection(self, *, with_file: bool = False):
        from reviews.services.publicity import objection_lodge

        application = self.on_notice()
        upload = None
        if with_file:
            from django.core.files.uploadedfile import SimpleUploadedFile

            from applications.tests.factories import pdf_bytes

            upload = SimpleUploadedFile("异议.pdf", pdf_bytes(), content_type="application/pdf")
        objection = objection_lodge(
            user=self.newcomer,
            item=self.notice_item(application),
            real_name="赵六",
            contact="13900000000",
            text="该企业出口额不实。",
            upload=upload,
        )
        if with_file:
            from applications.models import Evidence as _Evidence

            type(objection).objects.filter(pk=objection.pk).update(
                scan_state=_Evidence.ScanState.CLEAN
            )
        return objection

    def award(self):
        from reviews.models import Award

        application = self.application(State.APPROVED)
        return Award.objects.get(application=application, status=Award.Status.FIXED)

    def open_batch(self):
        from reviews.services import finance

        return finance.batch_create(user=self.officers[0], award_ids=[self.award().pk])

    def confirmed_batch(self):
        from reviews.services import finance

        return finance.batch_confirm(user=self.officers[1], batch=self.open_batch())

    def notice(self, status: str):
        from reviews.models import Notice

        application = self.application(State.APPROVED)
        notice = Notice.objects.get(application=application)
        files = {}
        if status == "ready":  # as a finished render leaves it (the walk renders no PDF)
            from django.core.files.base import ContentFile
            from django.core.files.storage import default_storage

            for language in ("zh", "en"):
                name = default_storage.save(f"notices/walk-{language}.pdf", ContentFile(b"%PDF-"))
                files.update({f"file_{language}": name, f"sha256_{language}": "ab" * 32})
        Notice.objects.filter(pk=notice.pk).update(status=status, **files)
        return notice


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
    from hengyang_cbec.accounts import registration

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

    assert registration  # the view sends the link again for the address in the session
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
    "applications:enterprise_create": lambda w: [
        Step(
            w.newcomer,
            reverse("applications:enterprise_create"),
            _profile(
                w.enterprise, uscc=_fresh_uscc(), name="衡阳新设跨境电商有限公司", customs_code=""
            ),
            "enterprise.register",
        )
    ],
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


# --- Every file download, as the persona it is for ------------------------------------------------


def _image_evidence(application: Application) -> Evidence:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buffer, format="PNG")
    png = buffer.getvalue()
    name = default_storage.save("evidence/test/walk.png", ContentFile(png))
    return Evidence.objects.create(
        application=application,
        document_type="business_licence",
        file=name,
        original_name="照片.png",
        kind="png",
        content_type="image/png",
        size=len(png),
        sha256="ef" * 32,
        scan_state=Evidence.ScanState.CLEAN,
        frozen=True,
        uploaded_by=application.created_by,
    )


def _evidence(w: World) -> Evidence:
    from reviews.tests.factories import add_evidence

    return add_evidence(w.application(own=True))


def _export_job(w: World):
    from reviews.models import ExportJob
    from reviews.services.export_jobs import export_job_run

    batch = w.confirmed_batch()
    job = ExportJob.objects.create(
        batch=batch, file_format="xlsx", requested_by=w.officers[0], rows_total=1
    )
    export_job_run(job.pk)
    return job


# name → (user, url, expected audit action); a GET of each must answer the file and audit it.
DOWNLOADS: dict[str, Callable[[World], tuple]] = {
    "applications:evidence_download": lambda w: (
        w.member,
        reverse(
            "applications:evidence_download",
            args=[(e := _evidence(w)).application_id, e.pk],
        ),
        "evidence.download",
    ),
    "reviews:evidence_download": lambda w: (
        w.crew.commerce,
        reverse("reviews:evidence_download", args=[_evidence(w).pk]),
        "evidence.download",
    ),
    "reviews:evidence_inline": lambda w: (
        w.crew.commerce,
        reverse("reviews:evidence_inline", args=[_image_evidence(w.application()).pk]),
        "evidence.download",
    ),
    "reviews:objection_file": lambda w: (
        w.crew.commerce,
        reverse("reviews:objection_file", args=[w.objection(with_file=True).pk]),
        "review.objection_file_download",
    ),
    "reviews:finance_export": lambda w: (
        w.officers[0],
        reverse("reviews:finance_export", args=[w.confirmed_batch().pk, "csv"]),
        "finance.export",
    ),
    "reviews:finance_export_job_download": lambda w: (
        w.officers[0],
        reverse("reviews:finance_export_job_download", args=[_export_job(w).pk]),
        "finance.export_download",
    ),
    "reviews:finance_report_export": lambda w: (
        w.crew.finance,
        reverse("reviews:finance_report_export", args=["by_measure"]),
        "report.export",
    ),
    "notices:download": lambda w: (
        Membership.objects.get(enterprise=(n := w.notice("ready")).application.enterprise).user,
        reverse("notices:download", args=[n.pk, "zh"]),
        "notice.download",
    ),
}
