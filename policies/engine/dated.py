"""The catalogue as the interpretations' dated effects make it on a given day."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from .definitions import EFFECT_SETTINGS, Effect, Interpretation
from .errors import CatalogueError
from .reading import _date, _text

if TYPE_CHECKING:
    from .catalogue import Catalogue


class DatedEffects:
    """What Catalogue does with its `effects`: validate them, and build the catalogue of a day."""

    # -- interpretation effects, dated --------------------------------------------------------

    def _build_effects(self, items: list[Any]) -> None:
        """Validate the dated effects; each one must leave a valid catalogue from its date."""
        if not isinstance(items, list):
            raise CatalogueError("effects must be a list")
        effects: list[Effect] = []
        for index, item in enumerate(items):
            where = f"effect {index + 1}"
            if not isinstance(item, Mapping):
                raise CatalogueError(f"{where}: must be a mapping")
            code = _text(item, "interpretation", where)
            interpretation = self.interpretations.get(code)
            if interpretation is None:
                raise CatalogueError(f"{where}: unknown interpretation {code!r}")
            setting = _text(item, "setting", where)
            start = _date(item.get("effective_from"), f"{where} effective_from")
            if not self.valid_from < start <= self.valid_to:
                raise CatalogueError(
                    f"{where}: takes effect on {start}, outside the version's validity after its "
                    f"first day ({self.valid_from} to {self.valid_to})"
                )
            measure = item.get("measure")
            value = item.get("value")
            if setting == "wording":
                if measure is not None or value is not None:
                    raise CatalogueError(f"{where}: a wording change names no measure and value")
            else:
                if setting not in interpretation.governs:
                    raise CatalogueError(
                        f"{where}: {code} does not decide {setting!r} (it decides "
                        f"{', '.join(interpretation.governs) or 'nothing'})"
                    )
                if measure not in self.measures:
                    raise CatalogueError(f"{where}: unknown measure {measure!r}")
                if interpretation.applies_to and measure not in interpretation.applies_to:
                    raise CatalogueError(f"{where}: {code} does not apply to {measure}")
                kind = EFFECT_SETTINGS[setting]
                if not isinstance(value, kind) or (
                    kind is list and not all(isinstance(v, str) for v in value)
                ):
                    raise CatalogueError(f"{where}: {setting} must be a {kind.__name__}")
            effect = Effect(
                interpretation=code,
                setting=setting,
                measure=measure,
                value=list(value) if isinstance(value, list) else value,
                effective_from=start,
                text_zh=_text(item, "text_zh", where),
                text_en=_text(item, "text_en", where),
            )
            previous = self.interpretation_on(code, start - timedelta(days=1), effects)
            if (effect.text_zh, effect.text_en) == (previous.text_zh, previous.text_en):
                raise CatalogueError(
                    f"{where}: restate {code}'s text as it reads from {start}; an unchanged text "
                    "would silently differ from what the engine does"
                )
            later = [e for e in effects if e.effective_from > start]
            if later:
                raise CatalogueError(
                    f"{where}: effects must be added in date order ({later[0].effective_from} "
                    f"is later than {start})"
                )
            effects.append(effect)
            self.effects = tuple(effects)
            self.on(start)  # the catalogue as of that date must be valid

    def interpretation_on(
        self, code: str, on_date: date, effects: list[Effect] | tuple[Effect, ...] | None = None
    ) -> Interpretation:
        """The interpretation `code` with the text in force on `on_date`."""
        base = self.interpretations[code]
        texts = [
            e
            for e in (self.effects if effects is None else effects)
            if e.interpretation == code and e.effective_from <= on_date
        ]
        if not texts:
            return base
        last = texts[-1]
        return Interpretation(
            code=base.code,
            clauses=base.clauses,
            title_zh=base.title_zh,
            title_en=base.title_en,
            text_zh=last.text_zh,
            text_en=last.text_en,
            applies_to=base.applies_to,
            governs=base.governs,
        )

    def on(self, on_date: date) -> Catalogue:
        """The catalogue as the interpretations' effects in force on `on_date` make it."""
        active = tuple(i for i, e in enumerate(self.effects) if e.effective_from <= on_date)
        if not active:
            return self
        found = self._dated.get(active)
        if found is not None:
            return found
        data = copy.deepcopy({k: v for k, v in self.data.items() if k != "effects"})
        measures = {m["code"]: m for m in data["measures"]}
        groups = {g["code"]: g for g in data.get("overlap_groups", [])}
        for index in active:
            effect = self.effects[index]
            if effect.setting == "overlap_groups":
                for code, group in groups.items():
                    members = [m for m in group.get("measures", []) if m != effect.measure]
                    if code in effect.value:
                        members.append(effect.measure)
                    group["measures"] = members
                unknown = set(effect.value) - set(groups)
                if unknown:
                    raise CatalogueError(
                        f"effect of {effect.interpretation} on {effect.measure}: unknown overlap "
                        f"groups {sorted(unknown)}"
                    )
            elif effect.setting != "wording":
                measures[effect.measure][effect.setting] = effect.value
        for item in data["interpretations"]:
            current = self.interpretation_on(item["code"], on_date)
            item["text_zh"], item["text_en"] = current.text_zh, current.text_en
        try:
            dated = type(self).from_data(data)
        except CatalogueError as exc:
            raise CatalogueError(f"as of {on_date}: {exc}") from None
        self._dated[active] = dated
        return dated
