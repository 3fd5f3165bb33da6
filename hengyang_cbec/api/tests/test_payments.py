"""The bank's result as data: a proposal until a disbursement officer confirms it; confirmed, it
goes through the same reconciliation as an uploaded file (same rules, same audit)."""

from __future__ import annotations

import json

import pytest

from applications.workflow import State
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.api.models import BankResultProposal, Scope
from hengyang_cbec.audit.models import AuditEvent
from reviews.models import DisbursementLine
from reviews.tests.factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(make_key):
    return make_key(Scope.EXCHANGE_PAYMENTS, name="工商银行衡阳分行")


def _row(line, **changes):
    row = {
        "line": line.line_reference,
        "account": line.bank_account,
        "amount": f"{line.amount_cny:.2f}",
        "reference": "ICBC-20260601-1",
        "status": "paid",
        "reason": "",
    }
    row.update(changes)
    return row


def _send(client, bank, batch, rows):
    return client.post(
        f"/api/v1/disbursement-batches/{batch.number}/results",
        data=json.dumps({"rows": rows}),
        content_type="application/json",
        HTTP_X_API_KEY=bank,
    )


def test_a_confirmed_batch_reads_as_the_export_with_money_as_strings(client, bank, confirmed_batch):
    listed = client.get("/api/v1/disbursement-batches", HTTP_X_API_KEY=bank).json()
    assert listed == [
        {
            "number": confirmed_batch.number,
            "state": "confirmed",
            "confirmed_at": listed[0]["confirmed_at"],
            "lines": 1,
            "total_cny": "100000.00",
        }
    ]
    detail = client.get(
        f"/api/v1/disbursement-batches/{confirmed_batch.number}", HTTP_X_API_KEY=bank
    ).json()
    line = detail["lines_detail"][0]
    assert line["amount_cny"] == "100000.00"
    assert line["amount_in_capitals"] == "壹拾万元整"
    assert line["line_reference"] == f"{confirmed_batch.number}-00001"
    assert line["bank_account"] == "6222020000012345678"
    assert line["payee_name"] == "衡阳湘南跨境贸易有限公司"


def test_an_open_batch_is_not_shown_to_the_bank(client, bank, confirmed_batch):
    from reviews.models import DisbursementBatch

    DisbursementBatch.objects.filter(pk=confirmed_batch.pk).update(state="open")
    response = client.get(
        f"/api/v1/disbursement-batches/{confirmed_batch.number}", HTTP_X_API_KEY=bank
    )
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_batch"


def test_the_banks_result_waits_for_an_officer_then_pays_through_the_reconciliation(
    client, bank, confirmed_batch, officers
):
    line = confirmed_batch.lines.get()
    response = _send(client, bank, confirmed_batch, [_row(line)])
    assert response.status_code == 202
    sent = response.json()
    assert sent["status"] == "pending"
    line.refresh_from_db()
    assert line.state == DisbursementLine.State.TO_PAY  # nothing is paid on arrival
    assert AuditEvent.objects.filter(action="api.bank_result_propose").count() == 1

    client.force_login(officers[0])
    page = client.get(f"/finance/api-results/{sent['id']}/").content.decode()
    assert "衡阳湘南跨境贸易有限公司" in page and "ICBC-20260601-1" in page
    response = client.post(f"/finance/api-results/{sent['id']}/", {"decision": "confirm"})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.state == DisbursementLine.State.PAID
    assert line.bank_reference == "ICBC-20260601-1"
    assert line.award.application.state == State.DISBURSED
    # The file's own audit trail, with the officer as the one who reconciled.
    reconcile = AuditEvent.objects.get(action="finance.reconcile")
    assert reconcile.actor == officers[0]
    assert AuditEvent.objects.filter(action="finance.pay").count() == 1
    client.logout()
    status = client.get(
        f"/api/v1/disbursement-batches/{confirmed_batch.number}/results/{sent['id']}",
        HTTP_X_API_KEY=bank,
    ).json()
    assert (status["status"], status["paid"], status["failed"]) == ("applied", 1, 0)


def test_a_row_the_file_would_refuse_is_refused_the_same_way(
    client, bank, confirmed_batch, officers
):
    line = confirmed_batch.lines.get()
    sent = _send(client, bank, confirmed_batch, [_row(line, amount="99999.00")]).json()
    proposal = BankResultProposal.objects.get(pk=sent["id"])
    client.force_login(officers[1])
    client.post(f"/finance/api-results/{proposal.pk}/", {"decision": "confirm"})
    proposal.refresh_from_db()
    assert proposal.status == BankResultProposal.Status.REFUSED
    assert any("the account or the amount differs" in e or "账" in e for e in proposal.errors)
    line.refresh_from_db()
    assert line.state == DisbursementLine.State.TO_PAY
    assert AuditEvent.objects.filter(action="finance.reconcile_refused").exists()


def test_an_officer_may_reject_a_result_and_it_is_decided_once(
    client, bank, confirmed_batch, officers
):
    line = confirmed_batch.lines.get()
    sent = _send(client, bank, confirmed_batch, [_row(line)]).json()
    client.force_login(officers[0])
    client.post(f"/finance/api-results/{sent['id']}/", {"decision": "reject", "reason": "金额待核"})
    client.post(f"/finance/api-results/{sent['id']}/", {"decision": "confirm"})
    proposal = BankResultProposal.objects.get(pk=sent["id"])
    assert proposal.status == BankResultProposal.Status.REJECTED
    line.refresh_from_db()
    assert line.state == DisbursementLine.State.TO_PAY
    assert AuditEvent.objects.get(action="api.bank_result_reject").actor == officers[0]


@pytest.mark.parametrize("role", [Role.FINANCE_REVIEWER, Role.SECURITY_ADMINISTRATOR])
def test_only_disbursement_officers_see_and_confirm_results(client, bank, confirmed_batch, role):
    line = confirmed_batch.lines.get()
    sent = _send(client, bank, confirmed_batch, [_row(line)]).json()
    client.force_login(make_staff(role))
    assert client.get("/finance/api-results/").status_code == 403
    response = client.post(f"/finance/api-results/{sent['id']}/", {"decision": "confirm"})
    assert response.status_code == 403
    assert BankResultProposal.objects.get(pk=sent["id"]).status == "pending"


@pytest.mark.parametrize(
    "body",
    [b"{bad json", b'{"rows": "x"}', b'{"rows": [{"line": 1}]}', b"[]", b'{"rows": []}'],
    ids=["broken", "rows-not-a-list", "row-missing-columns", "not-an-object", "no-rows"],
)
def test_a_malformed_result_is_a_translated_400_or_409_never_a_500(
    client, bank, confirmed_batch, body
):
    response = client.post(
        f"/api/v1/disbursement-batches/{confirmed_batch.number}/results",
        data=body,
        content_type="application/json",
        HTTP_X_API_KEY=bank,
    )
    assert response.status_code in {400, 409}, response.content
    answer = response.json()
    assert answer["detail"] and answer["detail_en"]
    assert not BankResultProposal.objects.exists()
