"""SECURITY.md rows 21 and 35 across the whole portal.

21: stored files leave only through a view that checks permission, never a public media URL.
35: no log line and no audit event holds a password, a second-factor code, a session id or a full
bank account, whatever the portal's POST views are asked to do (the audit walk's actions).
"""

from __future__ import annotations

import json
import logging

import pytest
from django.conf import settings as django_settings

from applications.models import Enterprise
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import DisbursementLine
from tests.factories import PASSWORD, make_user
from tests.portal_walk import STEPS, World, post_routes

pytestmark = pytest.mark.django_db


def test_a_stored_file_is_never_served_from_a_public_media_url(client, catalogue):
    from reviews.tests.factories import add_evidence, make_application

    evidence = add_evidence(make_application())
    public = f"{django_settings.MEDIA_URL.rstrip('/')}/{evidence.file.name}"
    for user in (None, make_user(Role.COMMERCE_REVIEWER, username="media-reader")):
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(public)
        assert response.status_code == 404, public
        assert not response.get("Content-Disposition")


def test_no_log_line_or_audit_event_holds_a_secret(client, catalogue, settings, caplog):
    settings.RATE_LIMITS = {name: {} for name in settings.RATE_LIMITS}
    caplog.set_level(logging.DEBUG)
    world = World()
    secrets: set[str] = {PASSWORD}
    first_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for route in post_routes():
        for step in STEPS.get(route.name, lambda w: [])(world):
            client.logout()
            if step.user is not None:
                client.force_login(type(step.user).objects.get(pk=step.user.pk))
            if step.prepare is not None:
                step.prepare(client)
            data = step.data(client) if callable(step.data) else step.data
            secrets.update(
                str(value)
                for name, value in data.items()
                if "password" in name or name == "code"  # passwords typed, second-factor codes
            )
            if client.session.session_key:
                secrets.add(client.session.session_key)
            client.post(step.url, data)
            if client.session.session_key:
                secrets.add(client.session.session_key)
    secrets.update(e.bank_account for e in Enterprise.objects.all())
    secrets.update(line.bank_account for line in DisbursementLine.objects.all())
    secrets.discard("")
    assert len(secrets) > 20  # passwords, codes, sessions and accounts were really in play
    # What the portal logged (factory_boy, a test tool, logs the passwords it sets).
    logged = "\n".join(
        record.getMessage() + (record.exc_text or "")
        for record in caplog.records
        if not record.name.startswith("factory")
    )
    assert caplog.records  # the capture works (it holds at least the test tools' lines)
    events = AuditEvent.objects.filter(pk__gt=first_event)
    assert events.count() > 40
    stored = "\n".join(
        json.dumps(event.data, ensure_ascii=False, default=str) + event.public_message
        for event in events
    )
    leaked = sorted(s for s in secrets if s in logged or s in stored)
    assert not leaked, f"secrets in the logs or the audit log: {leaked}"
