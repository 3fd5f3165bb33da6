"""The engine looks earlier awards up by measure and year: the same results as reading them all,
and fast with an applicant's long history."""

from __future__ import annotations

import random
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

from policies.engine import Catalogue, Context, PriorAward, assess, load_catalogue_dir
from tests.facts import GENERAL_FACTS as GENERAL

CATALOGUE = Catalogue.from_data(
    load_catalogue_dir(Path(__file__).resolve().parents[1] / "catalogue" / "HY-CBEC-2025")
)
M06 = {
    **GENERAL,
    "promotion_expenses_cny": "300000",
    "new_store": False,
    "settlement_fee_cny": "0",
    "year": 2026,
}
ON = date(2026, 6, 1)


def history(n: int, seed: int = 5) -> tuple[PriorAward, ...]:
    """n awards of other measures, or of earlier years, or of linked external policies."""
    rng = random.Random(seed)
    codes = ["M03", "M04", "M05", "M08", "M11", "M13", "M16", "EXT-1"]
    return tuple(
        PriorAward(rng.choice(codes), rng.randint(2015, 2025), Decimal(rng.randrange(1, 9_000)))
        for _ in range(n)
    )


def test_the_index_keeps_the_order_and_finds_each_award_once():
    awards = history(300)
    context = Context(on_date=ON, prior_awards=awards)
    assert context.awards_of("M05") == tuple(a for a in awards if a.measure == "M05")
    assert context.awards_in(2020) == tuple(a for a in awards if a.year == 2020)
    assert context.awards_of("M99") == () and context.awards_in(1999) == ()
    assert sum(len(context.awards_in(year)) for year in range(2015, 2026)) == 300


def test_a_long_history_changes_nothing_that_does_not_concern_the_application():
    """MEASURES.md's example (a 2026 M06 award of 150,000 leaves 50,000 under the cap) gives the
    same amount and trace among 1,000 unrelated earlier awards, the relevant one anywhere."""
    relevant = PriorAward("M06", 2026, Decimal("150000.00"), reference="HY-1")
    alone = assess(CATALOGUE, "M06", M06, Context(on_date=ON, prior_awards=(relevant,)))
    noise = history(1000)
    among = assess(
        CATALOGUE,
        "M06",
        M06,
        Context(on_date=ON, prior_awards=(*noise[:500], relevant, *noise[500:])),
    )
    assert alone.amount_cny == among.amount_cny == Decimal("50000.00")
    assert alone.to_dict("en")["trace"] == among.to_dict("en")["trace"]


def test_a_thousand_earlier_awards_cost_little():
    """With 1,000 earlier awards the engine keeps at least a third of its speed without any."""
    context_none = Context(on_date=ON)
    context_many = Context(on_date=ON, prior_awards=history(1000))

    def rate(context: Context) -> float:
        start = time.perf_counter()
        for _ in range(300):
            assess(CATALOGUE, "M06", M06, context)
        return 300 / (time.perf_counter() - start)

    rate(context_many)  # warm-up
    best_none = max(rate(context_none) for _ in range(3))
    best_many = max(rate(context_many) for _ in range(3))
    assert best_many >= best_none / 3
