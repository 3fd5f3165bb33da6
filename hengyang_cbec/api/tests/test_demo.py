"""`make run`'s demo data holds two API keys with published secrets, so the API can be tried."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from hengyang_cbec.api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_the_demo_keys_read_statuses_and_batches(client, catalogue):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # idempotent
    assert ApiKey.objects.filter(prefix__startswith="demo").count() == 2
    statuses = client.get(
        "/api/v1/applications?uscc=" + "9" * 18,
        HTTP_X_API_KEY="hyk_demo0001_statuses-demo-key-not-secret",
    )
    assert statuses.status_code == 200
    batches = client.get(
        "/api/v1/disbursement-batches",
        HTTP_X_API_KEY="hyk_demo0002_payments-demo-key-not-secret",
    ).json()
    assert batches and all(b["state"] in {"confirmed", "paid"} for b in batches)
    refused = client.get(
        "/api/v1/disbursement-batches", HTTP_X_API_KEY="hyk_demo0001_statuses-demo-key-not-secret"
    )
    assert refused.status_code == 403


def test_demo_keys_are_refused_in_production(settings, catalogue):
    from hengyang_cbec.api.keys import ApiKeyError, demo_key
    from tests.factories import make_user

    settings.DEMO_ALLOWED = False
    with pytest.raises(ApiKeyError):
        demo_key(
            user=make_user(), name="x", scopes=["read_statuses"], prefix="demo9", secret_tail="t"
        )
