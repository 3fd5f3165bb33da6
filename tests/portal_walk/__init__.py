"""The portal's URLs as the URLconf declares them, which of them take a POST, who may reach each,
and for every POST a valid action as the right persona (the audit walk and the fuzz test use it).

`portal_routes()` reads the URLconf (never a hand-made list), so a new view is walked as soon as it
is routed. `STEPS` maps each POST route's name to the valid actions that exercise it; a POST route
that is neither there nor in `NOT_AUDITED` makes the audit walk fail.
"""

from .discovery import (
    FormFields,
    Route,
    download_routes,
    portal_routes,
    post_routes,
    submitted_form,
)
from .downloads import DOWNLOADS, NOT_AUDITED_DOWNLOADS
from .steps import Step
from .table import NOT_AUDITED, STEPS
from .world import World

__all__ = [
    "DOWNLOADS",
    "NOT_AUDITED",
    "NOT_AUDITED_DOWNLOADS",
    "STEPS",
    "FormFields",
    "Route",
    "Step",
    "World",
    "download_routes",
    "portal_routes",
    "post_routes",
    "submitted_form",
]
