"""The one base of the portal's refusals.

A service refuses an action by raising a PortalError (or a subclass) with a translated message;
views catch PortalError where they show the message to the person (`error.message`, also
`str(error)`). Programming errors are not PortalErrors and are never shown.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class PortalError(Exception):
    """A refused action; `message` is translated and shown to the person as it is."""

    default_message: str | Promise = _("This is not possible now.")

    def __init__(self, message: str | Promise | None = None) -> None:
        self.message = self.default_message if message is None else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


class StaleVersion(PortalError):
    """The object changed since the page was drawn; nothing was saved."""

    default_message = _(
        "This application changed since your page was loaded (someone else acted on it). "
        "Nothing was saved: reload the page and check it again."
    )


class TransitionRefused(PortalError):
    """A state change that the table, the state or the actor does not allow; says why."""
