"""Closing due notices on demand (no beat in the embedded setup); the demo notice already due."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import translation

from applications.models import Application
from applications.workflow import State
from reviews.tests.factories import Crew, advance, make_application, publish

pytestmark = pytest.mark.django_db


def run_command() -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("close_due_notices", stdout=out)
    return out.getvalue().strip()


def test_the_command_closes_the_notices_whose_period_is_over_and_counts_in_english(catalogue):
    crew = Crew()
    due = advance(make_application(), State.PUBLIC_NOTICE, crew=crew)
    running = advance(make_application(), State.PUBLIC_NOTICE, crew=crew)
    publish(due, crew.registrar, over=True)
    publish(running, crew.registrar)
    assert run_command() == "1 notice closed."
    due.refresh_from_db()
    running.refresh_from_db()
    assert due.state == State.GOVERNMENT_APPROVAL
    assert running.state == State.PUBLIC_NOTICE
    assert run_command() == "0 notices closed."


def test_the_demo_holds_a_notice_already_due_that_the_command_moves_on(catalogue, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("seed_demo", stdout=io.StringIO())
    on_notice = set(
        Application.objects.filter(state=State.PUBLIC_NOTICE).values_list("pk", flat=True)
    )
    assert run_command() == "1 notice closed."
    still = set(Application.objects.filter(state=State.PUBLIC_NOTICE).values_list("pk", flat=True))
    assert len(on_notice - still) == 1
    moved = Application.objects.get(pk=(on_notice - still).pop())
    assert moved.state == State.GOVERNMENT_APPROVAL
