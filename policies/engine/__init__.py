"""The rules engine of the Hengyang CBEC measures: pure functions, no Django.

    versions = PolicyVersions.from_data(load_catalogue_tree("policies/catalogue"))
    result = assess(versions, "M05", {...facts...}, Context(on_date=date(2026, 6, 1)))
    result.to_dict("en")

See MEASURES.md for the rules and `catalogue.py` for the data the engine reads.
"""

from .assess import assess, choose_version, precheck
from .catalogue import Catalogue
from .context import Context, PriorAward
from .errors import AssessInputError, CatalogueError, FactError, UnknownMeasure
from .numbers import money
from .reading import load_catalogue_dir, load_catalogue_tree
from .requests import parse_request
from .result import Component, Reason, Result, TraceStep
from .versions import PolicyVersions

__all__ = [
    "AssessInputError",
    "Catalogue",
    "CatalogueError",
    "Component",
    "Context",
    "FactError",
    "PolicyVersions",
    "PriorAward",
    "Reason",
    "Result",
    "TraceStep",
    "UnknownMeasure",
    "assess",
    "choose_version",
    "load_catalogue_dir",
    "load_catalogue_tree",
    "money",
    "parse_request",
    "precheck",
]
