"""Policy versions: several publications of the measures loaded side by side.

Each version is one `Catalogue` (its own measures, parameters, interpretations, overlap groups and
evidence lists). The version that assesses an application is the one in force on its reference
date (I-7); `PolicyVersions.choose` also says which versions surround a date no version covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise

from .catalogue import Catalogue
from .errors import CatalogueError


@dataclass(frozen=True, slots=True)
class Choice:
    """The catalogue that assesses on a date, and whether it is in force on that date.

    When no version is in force, `catalogue` is the nearest one (the last that ended before the
    date, else the first that starts after it) and `before`/`after` name the neighbours.
    """

    catalogue: Catalogue
    in_force: bool
    before: Catalogue | None = None
    after: Catalogue | None = None


class PolicyVersions:
    """The loaded versions, oldest first. Validity windows may not overlap."""

    def __init__(self, catalogues: Iterable[Catalogue]) -> None:
        ordered = sorted(catalogues, key=lambda c: c.valid_from)
        if not ordered:
            raise CatalogueError("no policy version is loaded")
        self.by_code: dict[str, Catalogue] = {}
        for catalogue in ordered:
            if catalogue.policy_code in self.by_code:
                raise CatalogueError(f"policy {catalogue.policy_code}: loaded twice")
            self.by_code[catalogue.policy_code] = catalogue
        for earlier, later in pairwise(ordered):
            if later.valid_from <= earlier.valid_to:
                raise CatalogueError(
                    f"policy {later.policy_code}: its validity ({later.valid_from} to "
                    f"{later.valid_to}) overlaps {earlier.policy_code}'s ({earlier.valid_from} "
                    f"to {earlier.valid_to})"
                )
            unknown = later.one_time_counts_policies - set(self.by_code)
            if unknown:
                raise CatalogueError(
                    f"policy {later.policy_code}: one_time_counts_policies names "
                    f"{sorted(unknown)}, not an earlier version"
                )
        first = ordered[0]
        unknown = first.one_time_counts_policies - {first.policy_code}
        if unknown:
            raise CatalogueError(
                f"policy {first.policy_code}: one_time_counts_policies names {sorted(unknown)}, "
                "not an earlier version"
            )
        self.ordered: tuple[Catalogue, ...] = tuple(ordered)
        # A prior award may name a measure of any version (e.g. one a renewal dropped).
        self.known_award_codes = frozenset().union(*(c.known_award_codes for c in ordered))

    @classmethod
    def from_data(cls, items: Iterable[dict]) -> PolicyVersions:
        return cls(Catalogue.from_data(item) for item in items)

    def __iter__(self):
        return iter(self.ordered)

    def __len__(self) -> int:
        return len(self.ordered)

    def get(self, code: str) -> Catalogue | None:
        return self.by_code.get(code)

    @property
    def latest(self) -> Catalogue:
        return self.ordered[-1]

    def in_force(self, on_date: date) -> Catalogue | None:
        for catalogue in self.ordered:
            if catalogue.valid_from <= on_date <= catalogue.valid_to:
                return catalogue
        return None

    def choose(self, on_date: date) -> Choice:
        found = self.in_force(on_date)
        if found is not None:
            return Choice(found, True)
        before = next((c for c in reversed(self.ordered) if c.valid_to < on_date), None)
        after = next((c for c in self.ordered if c.valid_from > on_date), None)
        nearest = before if before is not None else after
        assert nearest is not None  # there is at least one version
        return Choice(nearest, False, before, after)

    def archived(self, on_date: date) -> list[Catalogue]:
        """Versions that ended before `on_date`, newest first."""
        return [c for c in reversed(self.ordered) if c.valid_to < on_date]
