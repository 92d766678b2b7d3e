"""Priority scoring (bands stack), stable ids and the top-5 cut."""

from __future__ import annotations

from datetime import date

import pytest

from tower.decisions.rules import INCREASE, PROMOTION, REDUCE, Recommendation
from tower.decisions.scoring import iso_week, priority, rank, recommendation_id, score


def rec(rec_type: str, size: float, product: str = "p1", region: str = "US-CA") -> Recommendation:
    return Recommendation(
        type=rec_type, brand_id="b1", product_id=product, product_title=product, channel="meta",
        region_code=region, currency="USD", current_spend=0.0, recommended_change=size, new_spend=0.0,
        impact_size=size, metrics={}, impact={}, action="", reason="", expected_impact="",
    )


@pytest.mark.parametrize(
    ("rec_type", "size", "points", "level"),
    [
        (REDUCE, 1000.0, 4, "high"),      # the plan's rule-1 example: > $500 only (strict), + 2
        (REDUCE, 1000.01, 7, "high"),     # both bands: 3 + 2, + 2
        (REDUCE, 500.0, 2, "medium"),
        (INCREASE, 500.0, 1, "low"),      # the plan's rule-2 example
        (INCREASE, 800.0, 3, "medium"),
        (INCREASE, 1500.0, 6, "high"),
        (PROMOTION, 15000.0, 3, "medium"),  # size = capital tied up; capped at medium, as the plan rates it
        (PROMOTION, 600.0, 2, "medium"),
        (PROMOTION, 400.0, 0, "low"),
    ],
)
def test_score_and_priority(rec_type: str, size: float, points: int, level: str) -> None:
    r = rec(rec_type, size)
    assert score(r) == points
    assert priority(points) == level


def test_ids_are_stable_per_week_and_differ_across_weeks_and_brands() -> None:
    a = recommendation_id("b1", REDUCE, "p", "tiktok", "US-CA", "2026-W47")
    assert a == recommendation_id("b1", REDUCE, "p", "tiktok", "US-CA", "2026-W47")
    assert a != recommendation_id("b1", REDUCE, "p", "tiktok", "US-CA", "2026-W48")
    assert a != recommendation_id("b2", REDUCE, "p", "tiktok", "US-CA", "2026-W47")
    assert a.startswith("rec_")


def test_rank_keeps_top_five_in_stable_order() -> None:
    recs = [rec(INCREASE, 100.0 * i, product=f"p{i}") for i in range(1, 9)] + [rec(REDUCE, 2000.0)]
    top = rank(recs, date(2026, 11, 23))
    assert len(top) == 5
    assert top[0].type == REDUCE
    assert [r.impact_size for r in top[1:]] == [800.0, 700.0, 600.0, 500.0]
    again = rank([rec(INCREASE, 100.0 * i, product=f"p{i}") for i in range(8, 0, -1)] + [rec(REDUCE, 2000.0)],
                 date(2026, 11, 24))
    assert [r.id for r in again] == [r.id for r in top]  # same ISO week, same ids, same order
    assert top[0].week == iso_week(date(2026, 11, 23)) == "2026-W48"
