"""SECURITY.md 31 and TEAM rule "never a 500": random input to every view answers 4xx or a form.

Every portal route is taken from the URLconf (tests/portal_walk.py). For each, the personas that
reach it are found by asking as each one; Hypothesis then sends, as one of them, random values to
the route's own form fields and to random ones: text with control characters and NUL, huge and
special numbers, unicode, empty values, lists, impossible dates, bad decimals and bad files, in
the query string of a GET and the body of a POST. Path arguments are the walk's real objects
(so the view goes past its 404) or random ones. No answer may be a 500.

10 examples per route by default (a third of the profile's 30); HYPOTHESIS_PROFILE=thorough
tries 166 per route.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hengyang_cbec.accounts.roles import Role
from tests.portal_walk import DOWNLOADS, STEPS, Route, World, portal_routes, submitted_form

pytestmark = pytest.mark.django_db

ROUTES = {route.name: route for route in portal_routes()}
# Every route is a test of its own (~85): a third of the profile's examples each, 10 in everyday
# runs and 166 with HYPOTHESIS_PROFILE=thorough.
EXAMPLES = max(5, settings.default.max_examples // 3)
# Names a view reads that its form does not always show (query filters, hidden actions).
COMMON_NAMES = [
    "action", "version", "page", "year", "age", "tab", "q", "line", "membership", "decision",
    "award", "applications", "amount", "file", "next", "language", "code", "on_date", "measure",
    "fund_source", "approval_batch", "replaces", "document_type", "assignee", "allocation",
]  # fmt: skip

NASTY_TEXT = [
    "", " ", "\x00", "a\x00b", "\r\n", "\t=1+1", "-1", "0", "1e20", "1e999999", "NaN", "sNaN",
    "Infinity", "-Infinity", "1,000", "0.005", "1E+30", "99999999999999999999999999", "2026-02-30",
    "0000-00-00", "99999-12-31", "2026-13-01", "../../etc/passwd", "<script>", "' OR 1=1 --",
    "true", "on", "[]", "{}", "\ufeff=1", "ＡＢＣ１２３", "衡阳" * 300, "\u202e", "%00",
]  # fmt: skip

# Any character a browser can send (lone surrogates cannot be encoded at all).
chars = st.characters(exclude_categories=("Cs",))
texts = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(chars, max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
)
files = st.builds(
    lambda name, body: SimpleUploadedFile(name, body, content_type="application/octet-stream"),
    st.sampled_from(["a.pdf", "../../x.py", "a\x00.pdf", "衡阳" * 120 + ".pdf", ".pdf", "x.xlsx"]),
    st.one_of(
        st.binary(max_size=200),
        st.just(b"%PDF-1.4\n%%EOF"),
        st.just(b"PK\x03\x04" + b"\x00" * 40),
        st.just(b"line,account,amount,reference,status\n\x00,1,Infinity,,paid\n"),
    ),
)


def values_for(name: str):
    if name == "file":
        return st.one_of(files, texts)
    return st.one_of(texts, st.lists(texts, min_size=0, max_size=3))


def payloads(names: list[str]):
    chosen = st.lists(st.sampled_from(names), unique=True, max_size=len(names))
    extra = st.dictionaries(st.text(chars, min_size=1, max_size=12), texts, max_size=3)
    return chosen.flatmap(
        lambda keys: st.fixed_dictionaries({k: values_for(k) for k in keys}).flatmap(
            lambda data: extra.map(lambda more: {**more, **data})
        )
    )


def random_path(route: Route):
    def arg(kind: str):
        if kind == "int":
            return st.integers(min_value=0, max_value=10**25).map(str)
        return st.text(chars, min_size=1, max_size=30).map(lambda s: quote(s, safe=""))

    kinds = re.findall(r"<(?:(\w+):)?\w+>", route.pattern)
    return st.tuples(*[arg(kind or "str") for kind in kinds]).map(
        lambda args: "/" + _fill(route.pattern, args)
    )


def _fill(pattern: str, args) -> str:
    parts = iter(args)
    return re.sub(r"<(?:\w+:)?\w+>", lambda _m: next(parts), pattern)


class Personas:
    def __init__(self, world: World):
        self.world = world

    def all(self) -> dict[str, object]:
        w = self.world
        return {
            "anonymous": None,
            "applicant": w.member,
            "newcomer": w.newcomer,
            "commerce": w.crew.commerce,
            "finance": w.crew.finance,
            "registrar": w.crew.registrar,
            "officer": w.officers[0],
            "security": w.security_admins[0],
            "auditor": w.staff(Role.AUDITOR, "fuzz-auditor"),
            "policy": w.staff(Role.POLICY_ADMINISTRATOR, "fuzz-policy"),
            "co-reviewer": w.staff(Role.CO_REVIEWER, "fuzz-co", unit="customs"),
        }


def _login(client, user) -> None:
    client.logout()
    if user is not None:
        client.force_login(type(user).objects.get(pk=user.pk))


def _reaches(response) -> bool:
    if response.status_code in (403, 404, 405):
        return False
    return not (response.status_code == 302 and "/accounts/login/" in response.get("Location", ""))


def _targets(route: Route, world: World, client) -> list[tuple[object, str, list[str]]]:
    """(persona, url, field names) to fuzz: the walk's own actions first, then every persona
    that reaches the route's URL."""
    targets = []
    urls: list[str] = []
    for step in STEPS.get(route.name, lambda w: [])(world):
        _login(client, step.user)
        data = step.data(client) if callable(step.data) else step.data
        targets.append((step.user, step.url, list(data)))
        urls.append(step.url)
    if route.name in DOWNLOADS:
        user, url, _expect = DOWNLOADS[route.name](world)
        targets.append((user, url, []))
        urls.append(url)
    if not urls and not route.params:
        from django.urls import reverse

        urls.append(reverse(route.name))
    for url in urls[:1]:
        for user in Personas(world).all().values():
            _login(client, user)
            method = client.get if "GET" in route.methods else client.post
            response = method(url)
            if _reaches(response):
                names = []
                if response.status_code == 200 and "text/html" in response.get("Content-Type", ""):
                    names = list(submitted_form(response.content.decode(), action=url))
                targets.append((user, url, names))
    return targets


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_no_input_makes_a_view_answer_500(name, client, catalogue, django_settings_rates):
    route = ROUTES[name]
    client.raise_request_exception = False
    world = World()
    targets = _targets(route, world, client)
    path = random_path(route) if route.params else st.nothing()
    methods = sorted(route.methods & {"GET", "POST"})
    current: dict = {}
    if not methods:
        pytest.skip(f"{name} answers neither GET nor POST")

    @settings(
        max_examples=EXAMPLES,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        target=st.one_of(
            *([st.sampled_from(targets)] if targets else []),
            path.map(lambda url: (None, url, [])),
        )
        if targets or route.params
        else st.nothing(),
        method=st.sampled_from(methods),
        data=st.data(),
    )
    def fuzz(target, method, data):
        user, url, names = target
        payload = data.draw(payloads(sorted({*names, *COMMON_NAMES})))
        if current.get("user", "nobody") != user:  # logging in again only for another persona
            _login(client, user)
            current["user"] = user
        if method == "GET":
            query = {k: v for k, v in payload.items() if not hasattr(v, "read")}
            response = client.get(url, query)
        else:
            response = client.post(url, payload)
        assert response.status_code < 500, (method, url, payload, response.status_code)

    if not targets and not route.params:
        pytest.skip(f"no persona reaches {name}")
    fuzz()


@pytest.fixture
def django_settings_rates(settings):
    """No rate limit answers 429 before the view sees the input."""
    settings.RATE_LIMITS = {name: {} for name in settings.RATE_LIMITS}
