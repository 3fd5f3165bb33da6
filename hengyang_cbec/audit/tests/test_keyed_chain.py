"""SECURITY.md 34: the keyed chain, its guards in the database and its anchors outside it."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from hengyang_cbec.audit.anchors import read_anchors, write_anchor
from hengyang_cbec.audit.models import AuditChainHead, AuditEvent
from hengyang_cbec.audit.services import record, verify_chain
from hengyang_cbec.audit.tasks import anchor_audit_chain

pytestmark = pytest.mark.django_db

KEY_2026 = "first-audit-key-of-the-tests-0123456789abcdef"
KEY_2027 = "second-audit-key-of-the-tests-0123456789abcdef"


@pytest.fixture
def anchors(settings, tmp_path):
    settings.AUDIT_HMAC_KEYS = {"k2026": KEY_2026}
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors" / "audit-anchors.jsonl")
    return tmp_path / "anchors" / "audit-anchors.jsonl"


def _sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _rewrite_ip_and_rehash(event_pk: int, *, key: str | None, key_id: str) -> None:
    """Change one event's IP and re-chain every event after it, as the given key allows."""
    prev = AuditEvent.objects.filter(pk__lt=event_pk).order_by("-pk").first()
    prev_hash = prev.hash if prev else "0" * 64
    for event in AuditEvent.objects.filter(pk__gte=event_pk).order_by("pk"):
        if event.pk == event_pk:
            event.ip = "203.0.113.99"
        canonical = event.canonical()
        if key is None:  # what the database alone can compute: a plain SHA-256
            new_hash = hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()
            new_key_id = ""
        else:
            message = f"{key_id}\n{prev_hash}\n{canonical}"
            new_hash = hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()
            new_key_id = key_id
        _sql(
            "UPDATE audit_auditevent SET ip = %s, prev_hash = %s, hash = %s, key_id = %s"
            " WHERE id = %s",
            [event.ip, prev_hash, new_hash, new_key_id, event.pk],
        )
        prev_hash = new_hash
    last = AuditEvent.objects.order_by("-pk").first()
    _sql("UPDATE audit_auditchainhead SET last_hash = %s WHERE id = 1", [last.hash])


def _disable_guards() -> None:
    """What the application's database role may do to its own tables (it owns them)."""
    if connection.vendor == "postgresql":
        _sql("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no deferred checks
        _sql("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        _sql("ALTER TABLE audit_auditchainhead DISABLE TRIGGER USER")
    else:
        _sql("DROP TRIGGER audit_auditevent_no_update")
        _sql("DROP TRIGGER audit_auditchainhead_guard")


def test_each_event_carries_the_key_id_and_an_hmac_no_one_without_the_key_can_recompute(anchors):
    event = record(action="approve", ip="10.0.0.1", data={"amount_cny": "100000.00"})
    assert event.key_id == "k2026"
    plain = hashlib.sha256(f"{event.prev_hash}\n{event.canonical()}".encode()).hexdigest()
    assert event.hash != plain
    assert verify_chain().ok


def test_a_rotated_key_signs_new_events_and_the_old_key_still_verifies_old_ones(settings, anchors):
    old = record(action="before rotation")
    settings.AUDIT_HMAC_KEYS = {"k2027": KEY_2027, "k2026": KEY_2026}
    new = record(action="after rotation")
    assert (old.key_id, new.key_id) == ("k2026", "k2027")
    report = verify_chain()
    assert report.ok and report.checked == 2

    settings.AUDIT_HMAC_KEYS = {"k2027": KEY_2027}  # the old key thrown away too early
    report = verify_chain()
    assert not report.ok
    assert (report.broken_at, report.reason) == (old.pk, "the event names an unknown key")


def test_the_beat_job_appends_a_signed_chain_head_outside_the_database(settings, anchors):
    from hengyang_cbec.celery import app

    assert (
        app.conf.beat_schedule["anchor-audit-chain"]["task"]
        == "hengyang_cbec.audit.tasks.anchor_audit_chain"
    )
    record(action="one")
    last = record(action="two")
    assert anchor_audit_chain.apply().get() == last.pk
    lines = anchors.read_text().splitlines()
    assert len(lines) == 1
    written = json.loads(lines[0])
    assert (written["event_id"], written["hash"], written["key_id"]) == (
        last.pk,
        last.hash,
        "k2026",
    )
    assert len(written["sig"]) == 64
    record(action="three")
    write_anchor()
    assert len(anchors.read_text().splitlines()) == 2  # appended, never rewritten
    report = verify_chain()
    assert report.ok and report.anchors == 2


def test_a_forged_anchor_line_is_refused(anchors):
    record(action="one")
    write_anchor()
    line = json.loads(anchors.read_text())
    line["hash"] = "f" * 64
    anchors.write_text(json.dumps(line) + "\n")
    report = verify_chain()
    assert not report.ok
    assert report.reason == "anchor line 1 has a wrong signature"


def test_the_database_refuses_a_chain_head_that_is_not_the_newest_event(anchors):
    record(action="one")
    record(action="two")
    with pytest.raises(DatabaseError), transaction.atomic():
        _sql("UPDATE audit_auditchainhead SET last_hash = %s, last_id = 0", ["0" * 64])


@pytest.mark.postgres
def test_postgresql_refuses_truncating_the_log_or_deleting_its_head(anchors):
    record(action="one")
    for statement in (
        "TRUNCATE audit_auditevent CASCADE",
        "TRUNCATE audit_auditchainhead",
        "DELETE FROM audit_auditchainhead",
    ):
        with pytest.raises(DatabaseError, match="audit"), transaction.atomic():
            _sql(statement)
    assert AuditEvent.objects.count() == 1 and AuditChainHead.objects.get().last_id > 0


@pytest.mark.postgres
def test_truncate_and_reset_head_with_the_applications_own_rights_is_detected(anchors):
    for n in range(3):
        record(action="approve", object_id=n)
    write_anchor()
    _disable_guards()
    _sql("TRUNCATE audit_auditevent")
    _sql("UPDATE audit_auditchainhead SET last_hash = %s, last_id = 0 WHERE id = 1", ["0" * 64])
    report = verify_chain()
    assert not report.ok
    assert report.reason == "events signed outside the database are missing"


def test_rewriting_an_ip_and_rehashing_without_the_key_is_detected(anchors):
    first = record(action="login", ip="10.0.0.1")
    victim = record(action="approve", ip="10.0.0.2")
    record(action="logout", ip="10.0.0.3")
    _disable_guards()
    _rewrite_ip_and_rehash(victim.pk, key=None, key_id="")
    report = verify_chain()
    assert not report.ok
    assert (report.broken_at, report.reason) == (victim.pk, "an unkeyed event follows keyed ones")
    assert first.pk < victim.pk


def test_rewriting_with_a_guessed_key_is_detected(anchors):
    record(action="login", ip="10.0.0.1")
    victim = record(action="approve", ip="10.0.0.2")
    _disable_guards()
    _rewrite_ip_and_rehash(victim.pk, key="a-guess-at-the-key-0123456789abcdefgh", key_id="k2026")
    report = verify_chain()
    assert not report.ok
    assert report.broken_at == victim.pk
    assert report.reason == "the event's content does not match its hash"


def test_rewriting_an_anchored_event_even_with_the_key_is_detected_by_the_anchor(anchors):
    record(action="login", ip="10.0.0.1")
    victim = record(action="approve", ip="10.0.0.2")
    write_anchor()
    record(action="logout", ip="10.0.0.3")
    _disable_guards()
    _rewrite_ip_and_rehash(victim.pk, key=KEY_2026, key_id="k2026")
    report = verify_chain()
    assert not report.ok
    assert report.broken_at == victim.pk
    assert report.reason == "the event differs from the chain head signed outside the database"


def test_the_verify_command_fails_on_a_broken_chain_and_passes_on_a_sound_one(anchors, capsys):
    record(action="one")
    call_command("verify_audit_log", "--anchor")
    assert "audit chain verifies: 1 events, 1 anchors" in capsys.readouterr().out
    assert len(read_anchors()) == 1
    _disable_guards()
    _sql("UPDATE audit_auditevent SET action = 'forged'")
    with pytest.raises(CommandError, match="content does not match its hash"):
        call_command("verify_audit_log")


def test_the_audit_page_says_in_chinese_where_and_why_the_chain_broke(client, anchors, password):
    from django.urls import reverse

    from hengyang_cbec.accounts.roles import Role
    from tests.factories import make_user

    auditor = make_user(Role.AUDITOR, username="auditor")
    client.login(username=auditor.username, password=password)
    record(action="one")
    write_anchor()
    html = client.get(reverse("reviews:audit_log") + "?verify=1").content.decode()
    assert 'data-chain="ok"' in html and "与数据库之外保存的 1 个签名链头一致" in html
    line = json.loads(anchors.read_text())
    line["event_id"] += 1
    anchors.write_text(json.dumps(line) + "\n")
    html = client.get(reverse("reviews:audit_log") + "?verify=1").content.decode()
    assert 'data-chain="broken"' in html
    assert "数据库之外的链头记录文件第 1 行有误" in html
