# The three counters (application references, notice numbers per issuer, disbursement batch
# numbers) move into the one Counter table; the old tables are dropped after this runs.

from django.db import migrations

APPLICATION_REFERENCE = "application"
DISBURSEMENT_BATCH = "disbursement_batch"
NOTICE_PREFIX = "notice:"


def _old_counters(apps):
    """(series, year, last) of every row of the old tables."""
    for row in apps.get_model("applications", "ReferenceCounter").objects.all():
        yield APPLICATION_REFERENCE, row.year, row.last
    for row in apps.get_model("reviews", "DisbursementCounter").objects.all():
        yield DISBURSEMENT_BATCH, row.year, row.last
    for row in apps.get_model("reviews", "NoticeCounter").objects.all():
        yield NOTICE_PREFIX + row.issuer, row.year, row.last


def forwards(apps, schema_editor):
    Counter = apps.get_model("numbering", "Counter")
    for series, year, last in _old_counters(apps):
        Counter.objects.update_or_create(series=series, year=year, defaults={"last": last})


def backwards(apps, schema_editor):
    Counter = apps.get_model("numbering", "Counter")
    for counter in Counter.objects.all():
        if counter.series == APPLICATION_REFERENCE:
            model, keys = apps.get_model("applications", "ReferenceCounter"), {}
        elif counter.series == DISBURSEMENT_BATCH:
            model, keys = apps.get_model("reviews", "DisbursementCounter"), {}
        elif counter.series.startswith(NOTICE_PREFIX):
            model = apps.get_model("reviews", "NoticeCounter")
            keys = {"issuer": counter.series.removeprefix(NOTICE_PREFIX)}
        else:
            continue
        model.objects.update_or_create(year=counter.year, **keys, defaults={"last": counter.last})


class Migration(migrations.Migration):

    dependencies = [
        ("numbering", "0001_counter"),
        ("applications", "0005_personal_data_purged_at"),
        ("reviews", "0008_objection_scan_state"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
