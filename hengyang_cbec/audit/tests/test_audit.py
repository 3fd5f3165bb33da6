from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import record, verify_chain

pytestmark = pytest.mark.django_db


def test_events_form_a_chain_that_verifies():
    for n in range(5):
        record(action="test", object_type="thing", object_id=n, data={"n": n})
    report = verify_chain()
    assert report.ok and report.checked == 5


def test_updating_or_deleting_an_event_through_the_application_fails():
    event = record(action="test")
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_the_database_refuses_an_update_of_an_audit_row():
    event = record(action="test")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk])


@pytest.mark.postgres
def test_postgresql_refuses_a_delete_of_an_audit_row():
    event = record(action="test")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])


def test_a_row_edited_in_the_database_is_detected_by_the_chain_check():
    record(action="first")
    victim = record(action="approve", data={"amount_cny": "100000.00"})
    record(action="third")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What a database superuser bypassing the triggers could do.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "UPDATE audit_auditevent SET data = %s WHERE id = %s",
                ['{"amount_cny": "900000.00"}', victim.pk],
            )
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
            cursor.execute(
                "UPDATE audit_auditevent SET data = %s WHERE id = %s",
                ['{"amount_cny": "900000.00"}', victim.pk],
            )
    report = verify_chain()
    assert not report.ok
    assert report.broken_at == victim.pk


def test_secrets_never_reach_the_log():
    event = record(action="test", data={"password": "hunter2", "nested": {"otp": "123456"}})
    assert "hunter2" not in event.canonical() and "123456" not in event.canonical()


def test_login_success_and_failure_are_audited_with_the_peer_address(client, applicant, password):
    client.post(
        "/accounts/login/",
        {"username": applicant.username, "password": "wrong"},
        HTTP_X_FORWARDED_FOR="6.6.6.6",
        REMOTE_ADDR="10.1.2.3",
    )
    client.post(
        "/accounts/login/",
        {"username": applicant.username, "password": password},
        REMOTE_ADDR="10.1.2.3",
    )
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.ip == "10.1.2.3"  # the forged X-Forwarded-For is ignored
    assert failed.data == {"username": applicant.username}
    assert failed.result == "refused"
    assert AuditEvent.objects.get(action="login").actor == applicant


def test_deleting_every_event_is_detected_by_the_chain_check():
    record(action="first")
    record(action="second")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM audit_auditevent")
    report = verify_chain()
    assert not report.ok
    assert report.reason == "events are missing at the end"
