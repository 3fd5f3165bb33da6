"""Simultaneous decisions on PostgreSQL: real threads, each with its own connection."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection

from applications.models import Application
from applications.workflow import State, TransitionRefused
from hengyang_cbec.accounts.roles import Role
from hengyang_cbec.audit.models import AuditEvent
from hengyang_cbec.audit.services import verify_chain
from hengyang_cbec.errors import StaleVersion
from reviews.models import Award, BudgetAllocation
from reviews.services.budgets import committed_total
from reviews.services.review import (
    application_commit,
    application_recommend,
    application_return_to_commerce,
)
from reviews.services.steps import BudgetExceeded

from .factories import (
    Crew,
    advance,
    make_allocation,
    make_application,
    make_enterprise,
    make_member,
    make_staff,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_at_once(calls):
    """Start every call at the same instant; return what each returned or raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_twenty_simultaneous_commits_never_overspend_the_budget(catalogue):
    budget = make_allocation("1000000")
    crew = Crew()
    applications = []
    for _ in range(20):
        application = make_application()
        advance(application, State.FINANCE_REVIEW, crew=crew)
        applications.append(Application.objects.get(pk=application.pk))
    financiers = [make_staff(Role.FINANCE_REVIEWER) for _ in range(4)]

    def commit(application, user):
        return lambda: application_commit(
            user=user, application=application, allocation=budget.pk, version=application.version
        )

    outcomes = run_at_once([commit(a, financiers[i % 4]) for i, a in enumerate(applications)])
    succeeded = [o for o in outcomes if isinstance(o, Award)]
    refused = [o for o in outcomes if isinstance(o, BudgetExceeded)]
    assert len(succeeded) == 10, outcomes
    assert len(refused) == 10, outcomes
    budget.refresh_from_db()
    assert budget.committed_cny == Decimal("1000000.00") == committed_total(budget)
    assert Application.objects.filter(state=State.PUBLIC_NOTICE).count() == 10
    assert AuditEvent.objects.filter(action="review.commit").count() == 10
    assert verify_chain().ok


def test_two_reviewers_approving_one_application_make_one_transition(catalogue):
    application = make_application()
    advance(application, State.COMMERCE_REVIEW, crew=Crew())
    application.refresh_from_db()
    reviewers = [make_staff(Role.COMMERCE_REVIEWER) for _ in range(2)]

    def recommend(user):
        return lambda: application_recommend(
            user=user, application=application, amount="100000", version=application.version
        )

    outcomes = run_at_once([recommend(r) for r in reviewers])
    assert sum(isinstance(o, Award) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, StaleVersion | TransitionRefused) for o in outcomes) == 1
    application.refresh_from_db()
    assert application.state == State.FINANCE_REVIEW
    assert (
        AuditEvent.objects.filter(action="review.recommend", application_id=application.pk).count()
        == 1
    )
    assert Award.objects.filter(application=application).exclude(status="cancelled").count() == 1


def test_annual_cap_holds_across_two_applications_committed_in_parallel(catalogue):
    """Two M16 applications of one enterprise and year, each recommended at 80,000 of the
    100,000 annual cap, committed by two finance reviewers at the same instant."""
    enterprise = make_enterprise()
    member = make_member(enterprise)
    pair = []
    for _ in range(2):
        application = make_application(
            enterprise=enterprise,
            submitter=member,
            code="M16",
            facts={"social_security_paid_cny": "800000"},
        )
        # The applications app allows one open M16 per year; the cap must hold even with two.
        Application.objects.filter(pk=application.pk).update(scope_key=f"s{application.pk}")
        advance(application, State.FINANCE_REVIEW, crew=Crew(), amount="80000")
        pair.append(Application.objects.get(pk=application.pk))
    budget = make_allocation()
    financiers = [make_staff(Role.FINANCE_REVIEWER) for _ in range(2)]

    def commit(application, user):
        return lambda: application_commit(
            user=user, application=application, allocation=budget.pk, version=application.version
        )

    outcomes = run_at_once([commit(a, u) for a, u in zip(pair, financiers, strict=True)])
    assert sum(isinstance(o, Award) for o in outcomes) == 1, outcomes
    committed = Award.objects.filter(
        application__enterprise=enterprise, status=Award.Status.COMMITTED
    )
    total = sum(a.amount_cny for a in committed)
    assert total <= Decimal("100000.00")
    budget.refresh_from_db()
    assert budget.committed_cny == total


def test_budget_rows_stay_consistent_under_parallel_release_and_commit(catalogue):
    """An upheld objection releasing money while another commit takes it."""
    budget = make_allocation("100000")
    BudgetAllocation.objects.filter(pk=budget.pk).update(amount_cny=Decimal("200000"))
    crew = Crew()
    first, second = make_application(), make_application()
    advance(first, State.PUBLIC_NOTICE, crew=crew, allocation=budget)
    advance(second, State.FINANCE_REVIEW, crew=crew)
    second.refresh_from_db()
    outcomes = run_at_once(
        [
            lambda: application_return_to_commerce(
                user=make_staff(Role.FINANCE_REVIEWER),
                application=Application.objects.get(pk=second.pk),
                message="复核",
                version=second.version,
            ),
            lambda: application_commit(
                user=make_staff(Role.FINANCE_REVIEWER),
                application=Application.objects.get(pk=second.pk),
                allocation=budget.pk,
                version=second.version,
            ),
        ]
    )
    assert sum(not isinstance(o, Exception) for o in outcomes) == 1, outcomes
    budget.refresh_from_db()
    assert budget.committed_cny == committed_total(budget)


ROUNDS = 50


def test_mark_paid_and_reconciliation_at_the_same_moment_never_deadlock(catalogue, monkeypatch):
    """Both lock the batch first, then the lines: 50 rounds of both at once, no error."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from reviews.models import DisbursementLine
    from reviews.services import finance, notices

    monkeypatch.setattr(notices, "enqueue", lambda outbox_id: False)  # no PDFs: not under test
    crew = Crew()
    maker = make_staff(Role.DISBURSEMENT_OFFICER)
    checker = make_staff(Role.DISBURSEMENT_OFFICER)
    awards = []
    for n in range(ROUNDS):
        enterprise = make_enterprise(bank_account=f"6222{n:015d}")
        application = make_application(enterprise=enterprise, submitter=make_member(enterprise))
        advance(application, State.APPROVED, crew=crew)
        awards.append(Award.objects.get(application=application))
    batch = finance.batch_create(user=maker, award_ids=[award.pk for award in awards])
    batch = finance.batch_confirm(user=checker, batch=batch)
    outcomes = []
    for line in batch.lines.order_by("sequence"):
        result = (
            "account,amount,reference,status\n"
            f"{line.bank_account},{line.amount_cny:.2f},BANK-{line.sequence},paid\n"
        ).encode()
        outcomes += run_at_once(
            [
                lambda line=line: finance.line_mark_paid(
                    user=maker,
                    line=line,
                    paid_on=timezone.localdate(),
                    reference=f"PAY-{line.sequence}",
                ),
                lambda result=result: finance.reconcile(
                    user=maker, batch=batch, upload=SimpleUploadedFile("result.csv", result)
                ),
            ]
        )
    errors = [o for o in outcomes if isinstance(o, Exception)]
    refused = [e for e in errors if isinstance(e, finance.FinanceError)]
    assert [e for e in errors if e not in refused] == []  # no deadlock, no other error
    assert len(outcomes) == 2 * ROUNDS
    lines = list(DisbursementLine.objects.filter(batch=batch))
    assert {line.state for line in lines} == {DisbursementLine.State.PAID}
    for line in lines:
        assert AuditEvent.objects.filter(action="finance.pay", object_id=str(line.pk)).count() == 1
    assert (
        Application.objects.filter(pk__in=[a.application_id for a in awards])
        .exclude(state=State.DISBURSED)
        .count()
        == 0
    )
    assert verify_chain().ok
