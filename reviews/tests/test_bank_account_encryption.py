"""Bank accounts are encrypted at rest, found by a keyed hash, decrypted for export and mask.

Every stored copy: the enterprise's account and the account copied into each disbursement line.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from applications.models import Enterprise
from hengyang_cbec import fieldcrypto
from hengyang_cbec.accounts.roles import Role
from reviews.models import DisbursementLine, ExportJob
from reviews.services import export_jobs, finance
from reviews.services.assessment import review_warnings

from .factories import make_application, make_enterprise, make_staff
from .test_finance import approved_award

pytestmark = pytest.mark.django_db

ACCOUNT = "0011223344556677889"
KEY_A = "key-a-" + "A" * 40
KEY_B = "key-b-" + "B" * 40


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def officers():
    return make_staff(Role.DISBURSEMENT_OFFICER, "enc-maker"), make_staff(
        Role.DISBURSEMENT_OFFICER, "enc-checker"
    )


@pytest.fixture
def batch(officers, crew):
    award = approved_award(crew, name="衡阳密文跨境电商有限公司", account=ACCOUNT)
    maker, checker = officers
    return finance.batch_confirm(
        user=checker, batch=finance.batch_create(user=maker, award_ids=[award.pk])
    )


def test_no_stored_copy_of_an_account_holds_its_digits(batch):
    line = batch.lines.get()
    stored = [
        raw("applications_enterprise", "bank_account", line.award.application.enterprise_id),
        raw("reviews_disbursementline", "bank_account", line.pk),
        raw("applications_enterprise", "bank_account_hash", line.award.application.enterprise_id),
        raw("reviews_disbursementline", "bank_account_hash", line.pk),
    ]
    assert all(ACCOUNT not in value and ACCOUNT[-4:] not in value for value in stored)
    assert stored[0].startswith("enc1$") and stored[1].startswith("enc1$")
    # Two encryptions of one account differ (a fresh nonce each time); their hashes agree.
    assert stored[0] != stored[1]
    assert stored[2] == stored[3]


def test_an_account_reads_back_exactly_with_its_leading_zeros():
    enterprise = make_enterprise(bank_account=ACCOUNT)
    assert Enterprise.objects.get(pk=enterprise.pk).bank_account == ACCOUNT
    enterprise.bank_account = "6222000011112222333"
    enterprise.save(update_fields=["bank_account"])
    reloaded = Enterprise.objects.get(pk=enterprise.pk)
    assert reloaded.bank_account == "6222000011112222333"
    # save(update_fields=[the account]) also rewrites its hash
    assert reloaded.bank_account_hash == fieldcrypto.keyed_hash(
        "6222000011112222333", purpose="bank_account"
    )


def test_a_ciphertext_moved_to_another_row_or_changed_does_not_decrypt():
    enterprise = make_enterprise(bank_account=ACCOUNT)
    stored = raw("applications_enterprise", "bank_account", enterprise.pk)
    with pytest.raises(fieldcrypto.DecryptionError):
        fieldcrypto.decrypt(stored, purpose="contact_phone")
    tampered = stored[:-4] + ("AAAA" if not stored.endswith("AAAA") else "BBBB")
    with pytest.raises(fieldcrypto.DecryptionError):
        fieldcrypto.decrypt(tampered, purpose="bank_account")


def test_rotation_old_key_still_decrypts_new_writes_use_the_new_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = {"k2026": KEY_A}
    old = make_enterprise(bank_account=ACCOUNT)
    assert fieldcrypto.key_id_of(raw("applications_enterprise", "bank_account", old.pk)) == "k2026"

    settings.FIELD_ENCRYPTION_KEYS = {"k2027": KEY_B, "k2026": KEY_A}
    assert Enterprise.objects.get(pk=old.pk).bank_account == ACCOUNT
    new = make_enterprise(bank_account="6222000011112222333")
    assert fieldcrypto.key_id_of(raw("applications_enterprise", "bank_account", new.pk)) == "k2027"

    call_command("reencrypt_fields", stdout=io.StringIO())
    assert fieldcrypto.key_id_of(raw("applications_enterprise", "bank_account", old.pk)) == "k2027"
    settings.FIELD_ENCRYPTION_KEYS = {"k2027": KEY_B}  # the old key retired after the re-encryption
    assert Enterprise.objects.get(pk=old.pk).bank_account == ACCOUNT


def test_a_retired_key_is_refused_not_read_as_garbage(settings):
    settings.FIELD_ENCRYPTION_KEYS = {"k2026": KEY_A}
    enterprise = make_enterprise(bank_account=ACCOUNT)
    settings.FIELD_ENCRYPTION_KEYS = {"k2027": KEY_B}
    with pytest.raises(fieldcrypto.DecryptionError, match="k2026"):
        Enterprise.objects.get(pk=enterprise.pk)


def test_the_same_account_warning_works_through_the_hash(crew):
    first = make_enterprise(bank_account=ACCOUNT)
    twin = make_enterprise("衡阳同账户跨境电商有限公司", bank_account=ACCOUNT)
    make_enterprise("衡阳别的账户跨境电商有限公司", bank_account="6222000011112222333")
    application = make_application(enterprise=first)
    warnings = [w for w in review_warnings(application) if w.code == "same_bank_account"]
    assert len(warnings) == 1 and twin.name in warnings[0].text


def test_the_warning_survives_a_rotation_of_the_hash_key(settings, crew):
    settings.FIELD_HASH_KEYS = {"h1": KEY_A}
    first = make_enterprise(bank_account=ACCOUNT)
    make_enterprise("衡阳同账户跨境电商有限公司", bank_account=ACCOUNT)
    settings.FIELD_HASH_KEYS = {"h2": KEY_B, "h1": KEY_A}
    call_command("reencrypt_fields", stdout=io.StringIO())
    assert raw("applications_enterprise", "bank_account_hash", first.pk).startswith("h2$")
    application = make_application(enterprise=Enterprise.objects.get(pk=first.pk))
    assert "same_bank_account" in {w.code for w in review_warnings(application)}


def test_an_equality_lookup_on_the_ciphertext_is_refused():
    with pytest.raises(FieldError, match="keyed hash"):
        Enterprise.objects.filter(bank_account=ACCOUNT).exists()


def test_the_bank_export_has_the_full_account(client, officers, batch, password):
    client.login(username=officers[0].username, password=password)
    response = client.get(reverse("reviews:finance_export", args=[batch.pk, "csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [row[4] for row in rows if row and row[0] == "1"] == [f"\t{ACCOUNT}"]


def test_screens_show_the_account_masked(client, officers, batch, password):
    client.login(username=officers[0].username, password=password)
    html = client.get(reverse("reviews:finance_batch", args=[batch.pk])).content.decode()
    assert "•••• 7889" in html
    assert ACCOUNT not in html


def test_reconciliation_matches_the_account_by_its_hash(officers, batch):
    line = batch.lines.get()
    body = (
        "line,account,amount,reference,status\n"
        f"{line.line_reference},{ACCOUNT},100000.00,BOC-1,paid\n"
    ).encode()
    report = finance.reconcile(user=officers[0], batch=batch, upload=io.BytesIO(body))
    assert report.ok and report.paid == 1


def test_the_migration_encrypts_plaintext_rows_and_reverses():
    enterprise = make_enterprise(bank_account=ACCOUNT)
    with connection.cursor() as cursor:  # a row as it was before the migration
        cursor.execute(
            "UPDATE applications_enterprise SET bank_account = %s, bank_account_hash = '' "
            "WHERE id = %s",
            [ACCOUNT, enterprise.pk],
        )
    editor = SimpleNamespace(connection=connection)
    column = {
        "table": "applications_enterprise",
        "column": "bank_account",
        "hash_column": "bank_account_hash",
        "purpose": "bank_account",
    }
    fieldcrypto.encrypt_column(editor, **column)
    assert raw("applications_enterprise", "bank_account", enterprise.pk).startswith("enc1$")
    assert Enterprise.objects.get(pk=enterprise.pk).bank_account == ACCOUNT
    assert raw("applications_enterprise", "bank_account_hash", enterprise.pk)
    fieldcrypto.decrypt_column(editor, **column)
    assert raw("applications_enterprise", "bank_account", enterprise.pk) == ACCOUNT


def test_a_background_export_file_is_deleted_after_its_hours(
    officers, batch, settings, django_capture_on_commit_callbacks, eager_tasks
):
    settings.EXPORT_FILE_HOURS = 24
    with django_capture_on_commit_callbacks(execute=True):
        job = export_jobs.export_job_start(user=officers[0], batch=batch, file_format="xlsx")
    job.refresh_from_db()
    storage, name = job.file.storage, job.file.name
    assert job.status == ExportJob.Status.READY and storage.exists(name)
    assert export_jobs.delete_expired_export_files() == 0  # young: still there to download
    ExportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=25))
    assert export_jobs.sweep_export_jobs() == 0  # the beat sweep deletes it
    job.refresh_from_db()
    assert job.status == ExportJob.Status.EXPIRED and not job.file
    assert not storage.exists(name)


def test_a_line_copies_the_account_encrypted_at_batch_time(batch):
    line = DisbursementLine.objects.get(batch=batch)
    assert line.bank_account == ACCOUNT
    assert line.masked_account == "•••• 7889"
