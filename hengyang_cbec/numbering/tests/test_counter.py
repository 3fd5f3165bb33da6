"""One gap-free counter for references, notice numbers and batch numbers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from hengyang_cbec.numbering.models import Counter
from hengyang_cbec.numbering.services import (
    APPLICATION_REFERENCE,
    DISBURSEMENT_BATCH,
    next_number,
    notice_series,
)


def test_each_series_and_year_counts_from_one_without_gaps(db):
    assert [next_number(APPLICATION_REFERENCE, 2026) for _ in range(3)] == [1, 2, 3]
    assert next_number(APPLICATION_REFERENCE, 2027) == 1
    assert next_number(DISBURSEMENT_BATCH, 2026) == 1
    assert next_number(notice_series("HSKB"), 2026) == 1
    assert next_number(notice_series("OTHER"), 2026) == 1
    assert Counter.objects.get(series=APPLICATION_REFERENCE, year=2026).last == 3


def test_a_rolled_back_transaction_gives_its_number_back(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number(DISBURSEMENT_BATCH, 2026) == 1
        raise RuntimeError("the batch was not saved")
    assert next_number(DISBURSEMENT_BATCH, 2026) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_callers_of_three_series_get_consecutive_unique_numbers():
    series = [APPLICATION_REFERENCE, DISBURSEMENT_BATCH, notice_series("CONC")]
    count = 18
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def take(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                number = next_number(series[index % 3], 2026)
                if index % 6 == 0:
                    raise RuntimeError("this transaction fails and rolls back")
            outcomes[index] = (series[index % 3], number)
        except RuntimeError:
            outcomes[index] = "rolled back"
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("rolled back") == 3
    for name in series:
        taken = sorted(
            number for o in outcomes if isinstance(o, tuple) and o[0] == name for number in [o[1]]
        )
        assert taken == list(range(1, len(taken) + 1)), name  # no gap, no repeat
        assert Counter.objects.get(series=name, year=2026).last == len(taken)


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_numbers_of_the_three_old_counters():
    before = [
        ("numbering", "0001_counter"),
        ("applications", "0005_personal_data_purged_at"),
        ("reviews", "0008_objection_scan_state"),
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("applications", "ReferenceCounter").objects.create(year=2026, last=41)
    old.get_model("reviews", "DisbursementCounter").objects.create(year=2026, last=7)
    old.get_model("reviews", "NoticeCounter").objects.create(issuer="HSKB", year=2025, last=12)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    with transaction.atomic():
        assert next_number(APPLICATION_REFERENCE, 2026) == 42
        assert next_number(DISBURSEMENT_BATCH, 2026) == 8
        assert next_number(notice_series("HSKB"), 2025) == 13
