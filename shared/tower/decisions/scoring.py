"""Priority scores, stable ids and the top-N cut (the product plan's Phase 4, step 4.2, step 3).

The plan's scoring sketch::

    if abs(budget_change) > $1000: score += 3
    if abs(budget_change) > $500:  score += 2
    if type == 'reduce_spend':   score += 2
    if type == 'increase_spend': score += 1

We follow it literally: the two size bands are independent ``if``s, so they **stack** — a change
above $1,000 scores 3 + 2 = 5, one above $500 scores 2, and the bands are strict (exactly $1,000
scores 2, exactly $500 scores 0). The size is the change over the rules window in the store
currency. A promotion moves no budget; its size is the capital it would free (units beyond the
cover threshold × unit cost), it earns no type points, and its score is capped at 3 (medium): the
plan's own example rates a $15,000-capital promotion "medium", and its ordering says preventing
waste comes before capturing opportunity, which comes before freeing capital — a promotion never
outranks a budget change scored high.

Score → priority: ≥ 4 high, ≥ 2 medium, else low. So the plan's rule-1 example (a $1,000 cut) is
2 + 2 = 4, high; its rule-2 example (+$500) is 0 + 1 = 1, low — the plan's sample output calls it
high, but its own scoring code cannot produce that, and the code is what we implement.
"""

from __future__ import annotations

from datetime import date

from tower.decisions.rules import INCREASE, PROMOTION, REDUCE, Recommendation
from tower.fingerprints import digest

SIZE_BANDS: tuple[tuple[float, int], ...] = ((1000.0, 3), (500.0, 2))
TYPE_POINTS = {REDUCE: 2, INCREASE: 1}
HIGH_AT, MEDIUM_AT = 4, 2
PROMOTION_MAX_SCORE = 3


def iso_week(day: date) -> str:
    """``2026-W47``: the ISO week a run belongs to (ids and caches are per week)."""
    y, w, _ = day.isocalendar()
    return f"{y}-W{w:02d}"


def score(rec: Recommendation) -> int:
    """The plan's priority score (see the module docstring for the stacking choice)."""
    size = abs(rec.impact_size)
    points = sum(p for limit, p in SIZE_BANDS if size > limit) + TYPE_POINTS.get(rec.type, 0)
    return min(points, PROMOTION_MAX_SCORE) if rec.type == PROMOTION else points


def priority(points: int) -> str:
    """high / medium / low from a score."""
    if points >= HIGH_AT:
        return "high"
    if points >= MEDIUM_AT:
        return "medium"
    return "low"


def recommendation_id(brand_id: str, rec_type: str, product_id: str, channel: str, region: str, week: str) -> str:
    """A stable id: the same situation in the same week is the same recommendation.

    Brand is part of the key so ids are unique across brands (the CLI accepts a bare id).
    """
    key = f"{brand_id}|{rec_type}|{product_id}|{channel}|{region}|{week}"
    return "rec_" + digest(key)


def rank(recs: list[Recommendation], today: date, top_n: int = 5) -> list[Recommendation]:
    """Score, id and order the recommendations; keep the top N.

    Ties are broken by the size of the change, then by id, so a rebuild orders them the same way.

    Args:
        recs: Unscored recommendations of one brand.
        today: The run date (its ISO week goes into the ids).
        top_n: How many to keep.

    Returns:
        The top N, highest priority first, with ``id``, ``week``, ``score`` and ``priority`` set.
    """
    week = iso_week(today)
    for r in recs:
        r.week = week
        r.score = score(r)
        r.priority = priority(r.score)
        r.id = recommendation_id(r.brand_id, r.type, r.product_id, r.channel, r.region_code, week)
    ordered = sorted(recs, key=lambda r: (-r.score, -abs(r.impact_size), r.id))
    return ordered[:top_n]
