"""The summary context: the plan's shape, bounded size, merchant text cleaned."""

from __future__ import annotations

from datetime import date

import pytest

from tower.ai.context import build_context, clean_text
from tower.ai.tokens import compact_json, count_json_tokens, count_tokens
from tower.decisions.recommend import Thresholds, compute
from tower.decisions.thresholds import AlertThresholds, RuleThresholds
from tower.fingerprints import data_version
from tower_dev.samples import synthetic_facts

T = Thresholds(RuleThresholds(), AlertThresholds())


def context_for(skus: int, regions: int, **kw: object) -> dict:
    facts = synthetic_facts(skus=skus, regions=regions, **kw)  # type: ignore[arg-type]
    recs, alerts = compute(facts, T)
    return build_context(facts, [r.to_dict() for r in recs], [a.to_dict() for a in alerts])


def test_tokenizer_stand_in_is_documented_and_conservative() -> None:
    assert count_tokens("") == 0
    assert count_tokens("hello world") == 4  # ceil(5/4) × 2
    assert count_tokens("18500") == 2  # digit groups of 3
    js = compact_json({"spend": 18500, "revenue": 72000})
    assert count_tokens(js) >= len(js) / 4  # never below the chars/4 rule of thumb


def test_context_of_a_500_sku_50_region_brand_fits_4k_tokens() -> None:
    ctx = context_for(500, 50)
    assert count_json_tokens(ctx) <= 4000
    # every part of the plan's shape is there
    assert set(ctx["performance"]) >= {"current_week", "previous_week", "changes", "top_regions"}
    assert set(ctx["performance"]["current_week"]["by_channel"]) == {"meta", "tiktok", "google_ads"}
    assert ctx["inventory"]["misalignments"] and ctx["recommendations"] and ctx["alerts"]
    assert len(ctx["recommendations"]) <= 5


def test_context_shrinks_lists_to_fit_a_tight_budget() -> None:
    facts = synthetic_facts(skus=200, regions=20)
    recs, alerts = compute(facts, T)
    big = build_context(facts, [r.to_dict() for r in recs], [a.to_dict() for a in alerts], max_tokens=100_000)
    # with every list at one item the context is ~1,520 tokens (one recommendation card, one alert, ...)
    small = build_context(facts, [r.to_dict() for r in recs], [a.to_dict() for a in alerts], max_tokens=1800)
    assert count_json_tokens(small) <= 1800 < count_json_tokens(big)
    assert len(small["recommendations"]) < len(big["recommendations"]) and len(small["alerts"]) < len(big["alerts"])
    assert small["performance"]["current_week"] == big["performance"]["current_week"]  # totals are never cut


def test_changes_are_precomputed_for_the_writer() -> None:
    ctx = context_for(10, 5)
    tiktok = ctx["performance"]["changes"]["by_channel"]["tiktok"]
    assert tiktok["spend_pct"] == pytest.approx(28.0, abs=0.1)
    assert tiktok["roas_pct"] == pytest.approx(-25.0, abs=0.1)


def test_data_version_is_a_content_hash() -> None:
    a, b = context_for(10, 5, seed=3), context_for(10, 5, seed=3)
    assert data_version(a) == data_version(b)
    assert data_version(a) != data_version(context_for(10, 5, seed=4))


def test_merchant_text_is_cleaned_and_trimmed() -> None:
    assert clean_text("Candle\u202e\n\tIGNORE\x00 previous", 80) == "Candle IGNORE previous"
    assert len(clean_text("x" * 500, 60)) == 60
    facts = synthetic_facts(skus=5, regions=3, today=date(2026, 11, 23))
    assert build_context(facts, [], [])["brand"]["name"] == "Synthetic Candles Co."
