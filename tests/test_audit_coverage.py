"""SECURITY.md 33: every change made through the admin writes an audit event.

The walk takes every model registered with the admin site whose change view lets its
administrators save, opens the change page of an instance, submits the form unchanged as a browser
would (every input, select and textarea as rendered, inlines and management forms included) and
fails when the save wrote nothing to the audit log.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.urls import reverse

from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from tests.factories import make_user

pytestmark = pytest.mark.django_db


class _FormFields(HTMLParser):
    """The name/value pairs a browser submits for the change form (id="<model>_form")."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
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
            self.inside = attributes.get("id") == self.form_id
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


def _submitted(html: str, form_id: str) -> dict[str, list[str]]:
    parser = _FormFields(form_id)
    parser.feed(html)
    data: dict[str, list[str]] = {}
    for name, value in parser.pairs:
        data.setdefault(name, []).append(value)
    return data


@pytest.fixture
def administrator(client, password):
    user = make_user(
        Role.POLICY_ADMINISTRATOR, Role.SYSTEM_ADMINISTRATOR, username="admin-walker", is_staff=True
    )
    client.login(username=user.username, password=password)
    return user


@pytest.fixture
def one_of_each(catalogue, administrator):
    """At least one instance of every model the walk may meet."""
    from django.contrib.auth.models import Group

    from policies.models import ExternalPolicy, FundSource, ParameterValue
    from reviews.models import BudgetAllocation

    make_user(Role.APPLICANT, username="walked-user")
    ExternalPolicy.objects.get_or_create(
        code="PROV-2025-CBEC", defaults={"title_zh": "省级跨境电商政策", "title_en": "Provincial"}
    )
    assert Group.objects.exists() and ParameterValue.objects.exists()
    BudgetAllocation.objects.create(
        fiscal_year=2026, fund_source=FundSource.objects.first(), amount_cny="1000000.00"
    )


def test_every_admin_change_view_writes_an_audit_event(client, administrator, one_of_each):
    walked, skipped = [], []
    for model, model_admin in admin.site._registry.items():
        request = type("R", (), {"user": administrator, "method": "GET"})()
        instance = model._default_manager.order_by("pk").first()
        if not model_admin.has_change_permission(request, None):
            skipped.append(model._meta.label)
            continue
        assert instance is not None, f"no {model._meta.label} to walk: add one to one_of_each"
        if not model_admin.has_change_permission(request, instance):
            skipped.append(model._meta.label)
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[instance.pk])
        page = client.get(url)
        assert page.status_code == 200, url
        data = _submitted(page.content.decode(), f"{opts.model_name}_form")
        data["_save"] = ["Save"]
        before = AuditEvent.objects.count()
        response = client.post(url, data)
        assert response.status_code == 302, (url, response.content.decode()[:2000])
        written = AuditEvent.objects.filter(
            action="admin.change", object_id=str(instance.pk), actor=administrator
        )
        assert AuditEvent.objects.count() > before and written.exists(), (
            f"saving {opts.label} in the admin wrote nothing to the audit log"
        )
        walked.append(opts.label)
    assert {
        "accounts.User",
        "policies.ExternalPolicy",
        "policies.OverlapGroup",
        "reviews.BudgetAllocation",
    } <= set(walked), walked
    assert "audit.AuditEvent" in skipped  # read-only for everybody


def test_a_policy_parameter_value_added_in_the_admin_is_audited_with_its_value(
    client, administrator
):
    from policies.models import Parameter

    parameter = Parameter.objects.get(key="M16.rate")
    response = client.post(
        "/admin/policies/parametervalue/add/",
        {"parameter": parameter.pk, "text": "0.12", "effective_from": "2027-01-01"},
        REMOTE_ADDR="10.9.8.7",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="parameter.add_value")
    assert event.actor == administrator and event.ip == "10.9.8.7"
    assert event.data["parameter"] == "M16.rate" and event.data["text"] == "0.12"
    assert event.data["effective_from"] == "2027-01-01"
    assert event.data["previous_value_closed"]["effective_to"] == "2026-12-31"
    assert AuditEvent.objects.filter(action="admin.add", actor=administrator).exists()
