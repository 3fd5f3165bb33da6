"""`make run`'s demo data holds three API keys with published secrets, so the API can be tried."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from hengyang_cbec.api.models import ApiKey
from reviews.models import StatisticsImport

pytestmark = pytest.mark.django_db


def test_the_demo_keys_read_statuses_and_batches_and_send_statistics(client, catalogue):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)  # idempotent
    assert ApiKey.objects.filter(prefix__startswith="demo").count() == 3
    proposal = StatisticsImport.objects.get(api_key__prefix="demo0003")  # seeded once
    assert (proposal.state, proposal.imported_by) == (StatisticsImport.State.PENDING, None)
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
    row = {"uscc": "91430400MA4L1A2B3Y", "name": "衡阳湘南跨境贸易有限公司", "year": "2025"}
    row |= {"export_usd": "80000.00", "import_usd": "0", "customs_office": "衡阳海关"}
    sent = client.post(
        "/api/v1/statistics/imports",
        data={"source": "customs", "rows": [row]},
        content_type="application/json",
        HTTP_X_API_KEY="hyk_demo0003_statistics-demo-key-not-secret",
    )
    assert (sent.status_code, sent.json().get("state")) == (202, "pending"), sent.json()


def test_demo_keys_are_refused_in_production(settings, catalogue):
    from hengyang_cbec.api.keys import ApiKeyError, demo_key
    from tests.factories import make_user

    settings.DEMO_ALLOWED = False
    with pytest.raises(ApiKeyError):
        demo_key(
            user=make_user(), name="x", scopes=["read_statuses"], prefix="demo9", secret_tail="t"
        )
