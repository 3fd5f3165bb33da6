"""Transition tables for the states of the objects around an application.

An application changes state through applications.workflow.TRANSITIONS. Awards, disbursement
batches and lines, and approval notices have tables of their own (reviews/transitions.py) and
change state only through `move`, which checks the table, saves and writes the audit event
`<table.event><action>` in the caller's transaction. Grep `move(` to find every state change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from hengyang_cbec.audit.services import record_action

from .errors import TransitionRefused

SYSTEM = "system"


@dataclass(frozen=True)
class StateTable:
    """(state, action) → target state of one kind of object."""

    event: str  # the audit event's prefix: "award." → "award.commit"
    field: str  # the model field that holds the state
    states: type[models.TextChoices]
    moves: Mapping[tuple[str, str], str]

    def target(self, state: str, action: str) -> str:
        target = self.moves.get((str(state), action))
        if target is None:
            raise TransitionRefused(
                _("This is not possible while it is “%(state)s”.")
                % {"state": self.states(state).label}
            )
        return target

    def actions_from(self, state: str) -> list[str]:
        return [action for (source, action) in self.moves if source == state]


def move(
    obj,
    table: StateTable,
    action: str,
    *,
    user=None,
    role: str = SYSTEM,
    fields: tuple[str, ...] = (),
    data: dict | None = None,
    **audit: Any,
) -> None:
    """Move `obj` by `action` of its table (TransitionRefused if the table has no such move),
    save the state with `fields` the caller set, and audit it; `audit` passes on to
    record_action (ip, application_id, public_message, visible, result)."""
    source = getattr(obj, table.field)
    target = table.target(source, action)
    setattr(obj, table.field, target)
    obj.save(update_fields=[table.field, *fields])
    record_action(
        obj,
        f"{table.event}{action}",
        user,
        role,
        data={"from": str(source), "to": str(target), **(data or {})},
        **audit,
    )
