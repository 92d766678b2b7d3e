"""The grounding check: numbers in AI text must be numbers of the data, within the rounding shown."""

from __future__ import annotations

import pytest

from tower.ai.grounding import (
    FALLBACK_ERROR,
    FALLBACK_UNGROUNDED,
    NARRATOR,
    PASSED,
    PASSED_ON_RETRY,
    GenerationFailed,
    check,
    extract_claims,
    grounded,
)

CTX = {
    "performance": {"current_week": {"total_spend": 18500, "total_revenue": 72000, "blended_roas": 3.89,
                                     "by_channel": {"tiktok": {"spend": 5000, "roas": 2.1, "revenue_share_pct": 14.6}}},
                    "changes": {"by_channel": {"tiktok": {"roas_pct": -25.0, "spend_pct": 28.0}}}},
    "inventory": {"misalignments": [{"product": "SKU-A 12oz", "doc": 8, "ad_spend": 5000, "geo": "US-CA, US-TX"}],
                  "stock_risks": [{"available_units": 45, "velocity_per_day": 15}]},
    "period": {"current_week": {"first_day": "2026-11-16", "last_day": "2026-11-22"}},
    "share": 0.35,
}


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("spent $18,500 on ads", "money", 18500.0),
        ("about €18.5k", "money", 18500.0),
        ("1,000 SEK", "money", 1000.0),
        ("a 25% drop", "percent", 25.0),
        ("at 2.1× ROAS", "multiple", 2.1),
        ("at 2.1x ROAS", "multiple", 2.1),
        ("8 days of cover", "days", 8.0),
        ("45 units left", "units", 45.0),
        ("revenue of 72,000", "number", 72000.0),
    ],
)
def test_claims_are_recognised(text: str, kind: str, value: float) -> None:
    (claim,) = extract_claims(text)
    assert claim.kind == kind and claim.value == pytest.approx(value)


def test_identifiers_dates_and_small_counts_are_not_claims() -> None:
    assert extract_claims("SKU-12 in US-TX during 2026-W47, from 2026-11-16; the top 3 products") == []


def test_dates_as_sentences_write_them_are_not_claims() -> None:
    assert extract_claims("Last week (Nov 29 – Dec 5, 2026) and Dec 28, 2026 – Jan 3, 2027; since March 2026") == []
    # a month word before a figure with a unit, or a word that merely starts like a month, keeps the claim
    assert [c.text for c in extract_claims("in May 12 units sold; Decor 15 days; Market 2026 spend $40")] == [
        "12 units", "15 days", "2026", "$40"]


def test_plain_english_summary_passes() -> None:
    text = ("Last week you spent $18,500 and generated $72,000 at a blended 3.9× ROAS. TikTok spend rose 28% "
            "but ROAS fell 25% to 2.1x; SKU-A 12oz has 8 days of cover (45 units at 15 units/day) and takes 35% "
            "of spend, about $18.5k in total.")
    report = check([text], CTX)
    assert report.ok, report.failures
    assert report.checked >= 10


def test_planted_wrong_number_is_caught() -> None:
    text = "Last week you spent $18,500 and generated $987,654 at a blended 3.9× ROAS."
    report = check([text], CTX)
    assert [c.text for c in report.failures] == ["$987,654"]
    assert "$987,654" in report.feedback()


@pytest.mark.parametrize("wrong", ["$18,600", "3.8×", "26%", "9 days", "46 units", "2.2x"])
def test_rounding_is_strict(wrong: str) -> None:
    assert not check([f"It was {wrong}."], CTX).ok


def test_policy_retries_once_with_feedback_then_falls_back() -> None:
    seen: list[str | None] = []

    def bad(feedback: str | None) -> str:
        seen.append(feedback)
        return "Revenue was $1,234,567."

    out = grounded(bad, lambda: "Revenue was $72,000.", CTX, texts_of=lambda s: [s])
    assert out.status == FALLBACK_UNGROUNDED and out.author == "narrator" and out.value == "Revenue was $72,000."
    assert seen[0] is None and seen[1] is not None and "$1,234,567" in seen[1]


def test_policy_passes_first_time_or_on_retry() -> None:
    assert grounded(lambda fb: "Spend was $18,500.", lambda: "x", CTX, texts_of=lambda s: [s]).status == PASSED
    answers = iter(["Spend was $18,501.", "Spend was $18,500."])
    out = grounded(lambda fb: next(answers), lambda: "x", CTX, texts_of=lambda s: [s])
    assert out.status == PASSED_ON_RETRY and out.value == "Spend was $18,500." and out.attempts == 2


def test_policy_without_key_or_on_errors_uses_the_narrator() -> None:
    assert grounded(None, lambda: "n", CTX).status == NARRATOR

    def failing(feedback: str | None) -> str:
        raise GenerationFailed("529 after 4 attempts")

    out = grounded(failing, lambda: "n", CTX)
    assert out.status == FALLBACK_ERROR and out.value == "n"
