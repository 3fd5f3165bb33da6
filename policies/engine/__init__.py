"""The rules engine of the Hengyang CBEC measures: pure functions, no Django.

    catalogue = Catalogue.from_data(load_catalogue_dir("policies/catalogue"))
    result = assess(catalogue, "M05", {...facts...}, Context(on_date=date(2026, 6, 1)))
    result.to_dict("en")

See MEASURES.md for the rules and `catalogue.py` for the data the engine reads.
"""

from .assess import assess, parse_request, precheck
from .catalogue import Catalogue, load_catalogue_dir
from .context import Context, PriorAward
from .errors import AssessInputError, CatalogueError, FactError, UnknownMeasure
from .numbers import money
from .result import Component, Reason, Result, TraceStep

__all__ = [
    "AssessInputError",
    "Catalogue",
    "CatalogueError",
    "Component",
    "Context",
    "FactError",
    "PriorAward",
    "Reason",
    "Result",
    "TraceStep",
    "UnknownMeasure",
    "assess",
    "load_catalogue_dir",
    "money",
    "parse_request",
    "precheck",
]
