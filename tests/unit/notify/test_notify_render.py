"""Rendering: formats, escaping, links, and Slack's block and text limits kept for any number of brands."""

from __future__ import annotations

from typing import Any

from tower.notify.render import SLACK_LIMITS, change, clip, digest_blocks, money, ratio, render_email
from tower_dev.sandboxes.slack_api.server import block_problem


def brand(i: int, name: str | None = None) -> dict[str, Any]:
    return {
        "brand_id": f"b{i}", "brand_name": name or f"Brand {i}", "currency": "EUR", "status": "needs_attention",
        "health_score": 40 + i, "url": f"https://tower.example/brands/b{i}",
        "period_label": "last week (2026-11-23 to 2026-11-29)", "summary": "Revenue held; Meta slipped. " * 200,
        "figures": [{"key": "spend", "label": "Ad spend", "value": 1234.5, "previous": 1000.0, "change_pct": 23.5,
                     "unit": "money"},
                    {"key": "roas", "label": "Blended ROAS", "value": 3.456, "previous": 4.0, "change_pct": -13.6,
                     "unit": "ratio"}],
        "actions": [{"id": f"rec{i}", "action": "Cut Meta by €200 a day", "reason": "1.1× ROAS", "priority": "high"}],
        "alerts": [{"id": "a", "severity": "critical", "type": "stockout_risk", "title": "SKU-1 sells out in 3 days"}],
        "reconnect": [],  # the accounts needing a reconnect (tower.digests always lists them, often none)
    }


def digest(n: int, **over: Any) -> dict[str, Any]:
    return {"agency": {"agency_id": "ag", "name": "Ag"}, "period_label": "last week (2026-11-23 to 2026-11-29)",
            "branding": {"display_name": "Northstar", "logo_url": "https://cdn.example/logo.png",
                         "primary_color": "#112233", "accent_color": "#445566", "from_address": ""},
            "week_start": "2026-11-23", "brands": [brand(i) for i in range(n)], "held": [], **over}


def test_formats() -> None:
    assert money(1234.5, "USD") == "$1,234.50"
    assert money(-3, "EUR") == "-€3.00"
    assert money(10, "SEK") == "SEK 10.00"
    assert money(None, "USD") == "n/a"
    assert ratio(3.456) == "3.46×"
    assert change(23.46) == "+23.5 %" and change(-4) == "-4.0 %" and change(None) == "no comparison"
    assert clip("abcdef", 4) == "abc…" and clip("abc", 4) == "abc"


def test_slack_digest_stays_within_slacks_limits_for_many_brands() -> None:
    text, blocks = digest_blocks(digest(30), overview_url="https://tower.example/")
    assert len(blocks) <= SLACK_LIMITS["blocks"]
    assert block_problem(blocks) is None  # the sandbox's check, written from Slack's documentation
    assert len(text) <= SLACK_LIMITS["text"]
    shown = [b for b in blocks if b["type"] == "actions"]
    assert len(shown) == 9  # (50 - header - context - 2 spare) // 5 blocks a brand
    assert "And 21 more: Brand 9" in blocks[-1]["text"]["text"]
    assert "<https://tower.example/|Open the overview>" in blocks[-1]["text"]["text"]
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section" and "text" in b)


def test_slack_buttons_open_the_page_and_carry_the_top_action() -> None:
    _, blocks = digest_blocks(digest(1), overview_url="https://tower.example/")
    buttons = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert buttons[0]["url"] == "https://tower.example/brands/b0"
    assert [b["action_id"] for b in buttons[1:]] == ["accept", "dismiss"]
    assert '"rec_id": "rec0"' in buttons[1]["value"]


def test_names_cannot_inject_markup() -> None:
    evil = digest(0, brands=[brand(0, name="<script>alert(1)</script> & <https://evil|x>")])
    html, text = render_email("digest", {"digest": evil, "branding": evil["branding"], "unsubscribe_url": "https://u",
                                         "overview_url": "https://o"})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in text  # plain text is shown as text
    _, blocks = digest_blocks(evil, overview_url="https://o")
    mrkdwn = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert mrkdwn and not any("<https://evil|x>" in t or "<script>" in t for t in mrkdwn)  # plain_text buttons are inert


def test_email_states_the_dates_links_the_page_and_unsubscribes() -> None:
    d = digest(2)
    html, text = render_email("digest", {"digest": d, "branding": d["branding"],
                                         "unsubscribe_url": "https://t/api/notify/unsubscribe?token=x.y",
                                         "overview_url": "https://t/"})
    for body in (html, text):
        assert "last week (2026-11-23 to 2026-11-29)" in body
        assert "https://tower.example/brands/b1" in body
        assert "https://t/api/notify/unsubscribe?token=x.y" in body
        assert "€1,234.50" in body and "+23.5 %" in body and "3.46×" in body and "-13.6 %" in body
    assert 'src="https://cdn.example/logo.png"' in html and "#112233" in html
    assert text.index("Brand 0") < text.index("Brand 1")


def test_a_rise_is_coloured_by_whether_it_is_good_news() -> None:
    from tower.notify.render import tone

    assert tone({"change_pct": 5.0, "good": "up"}) == "good"
    assert tone({"change_pct": -5.0, "good": "up"}) == "bad"
    assert tone({"change_pct": 5.0, "good": None}) == "neutral"  # more spend is neither
    assert tone({"change_pct": None, "good": "up"}) == "neutral"
