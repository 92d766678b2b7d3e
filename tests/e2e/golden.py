"""Golden merchant questions (issue 15, item 4): each answer against the figure another surface shows.

Each question is asked through the product's Q&A (the deterministic path, which also gives the model its
tool results), and what the answer states is compared with what the dashboard API, its channel
drilldown, the alerts or the other answers show for the same thing, written with the same formatter.
A question passes only if it was routed to the query that answers it *and* its figures are the page's.

``check(runtime, brand_id)`` runs them all on a built store and returns the problems (empty = all pass);
the demo world (tests/e2e/test_demo_pipeline.py) and a store connected by hand on another seed
(tests/e2e/test_real_store_cli.py) both call it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tower.ai.qa import ask
from tower.api.app import create_app
from tower.api.auth import create_api_key
from tower.brands import local_today
from tower.decisions import formatting as fmt
from tower.decisions.store import list_alerts
from tower.runtime import Runtime

CHANNELS = {"meta": "Meta", "tiktok": "TikTok", "google_ads": "Google Ads"}


@dataclass
class Surfaces:
    """What the other surfaces show for one brand, read through the API the page calls."""

    runtime: Runtime
    brand_id: str
    api: Callable[[str], Any]
    currency: str

    def money(self, x: float) -> str:
        return fmt.money(x, self.currency)

    def snapshot(self, period: str) -> dict[str, Any]:
        return self.api(f"/dashboard?period={period}")["performance_snapshot"]

    def drilldown(self, channel: str, period: str) -> dict[str, Any]:
        return self.api(f"/drilldown/channel/{channel}?period={period}")


Check = Callable[[str, Surfaces], list[str]]


def _has(answer: str, text: str, what: str) -> list[str]:
    return [] if text in answer else [f"{what}: expected {text!r} in the answer"]


def totals(period: str) -> Check:
    """Total spend, all store revenue, the part credited to ads and the blended ROAS = the dashboard's."""
    def check(answer: str, s: Surfaces) -> list[str]:
        snap = s.snapshot(period)
        out = _has(answer, f"you spent {s.money(snap['total_spend'])} on ads", "total spend")
        out += _has(answer, f"the store took {s.money(snap['total_revenue'])} in revenue", "store revenue")
        out += _has(answer, f"{s.money(snap['attributed_revenue'])} of it credited to ads", "revenue credited to ads")
        if snap["blended_roas"] is not None:
            out += _has(answer, f"a blended {fmt.multiple(snap['blended_roas'])} ROAS", "blended ROAS")
        return out
    return check


def channel(period: str, ch: str) -> Check:
    """One channel's line = the dashboard's by_channel figures for the same period."""
    def check(answer: str, s: Surfaces) -> list[str]:
        fig = s.snapshot(period)["by_channel"].get(ch)
        if not fig or not fig["spend"]:
            return [] if CHANNELS[ch] + ":" not in answer else [f"{ch}: the answer shows a channel the page does not"]
        line = f"- {CHANNELS[ch]}: {s.money(fig['revenue'])} in revenue"
        if fig["roas"] is not None:
            line += f", {fmt.multiple(fig['roas'])} ROAS on {s.money(fig['spend'])} of ad spend"
        return _has(answer, line, f"{ch} over {period}")
    return check


def regions(period: str, ch: str) -> Check:
    """Each region the answer ranks = that region in the channel drilldown's by_geo."""
    def check(answer: str, s: Surfaces) -> list[str]:
        by_geo = s.drilldown(ch, period)["performance"]["by_geo"]
        # the answer names regions ("California"); the drilldown keys them by code ("US-CA")
        by_name = {fmt.region_name(code): fig for code, fig in by_geo.items() if "-" in code}
        listed = re.findall(r"^\d\. ([^:\n]+): (\S+) in revenue", answer, re.MULTILINE)
        if not listed and by_name:
            return [f"{ch} regions over {period}: none listed, the drilldown has {sorted(by_name)[:5]}"]
        out = []
        for region, revenue in listed:
            fig = by_name.get(region)
            if fig is None:
                out.append(f"{ch} {region} over {period}: not in the drilldown")
            elif revenue != s.money(fig["revenue"]):
                out.append(f"{ch} {region} over {period}: answer {revenue}, drilldown {s.money(fig['revenue'])}")
        return out
    return check


def campaigns(period: str, ch: str) -> Check:
    """Each campaign's spend in the answer = its spend in the drilldown's top campaigns."""
    def check(answer: str, s: Surfaces) -> list[str]:
        top = {c["id"]: c for c in s.drilldown(ch, period)["top_campaigns"]}
        out = []
        for cid, spend in re.findall(r"\(id ([^)]+)\): .*? on (\S+) of ad spend", answer):
            if cid in top and spend != s.money(top[cid]["spend"]):
                out.append(f"{ch} campaign {cid} over {period}: answer {spend}, drilldown {s.money(top[cid]['spend'])}")
        if top and not re.search(r"\(id [^)]+\)", answer):
            out.append(f"{ch} campaigns over {period}: none listed, the drilldown has {len(top)}")
        return out
    return check


def advertised_stockouts(answer: str, s: Surfaces) -> list[str]:
    """The products and spend = the open spending_on_stockout alerts' (one per product)."""
    alerts = [a for a in list_alerts(s.runtime.store, s.brand_id)
              if (a.get("metrics") or {}).get("mismatch") == "spending_on_stockout"]
    out = []
    for a in alerts:
        out += _has(answer, f"- {a['product']}: ", f"advertised stockout {a['product']}")
        out += _has(answer, f"spent {s.money(a['metrics']['spend'])}", f"spend on {a['product']} while out of stock")
    listed = re.findall(r"^- (.+?): ", answer, re.MULTILINE)
    extra = set(listed) - {a["product"] for a in alerts}
    if extra:
        out.append(f"advertised stockouts: {sorted(extra)} have no spending_on_stockout alert")
    if not alerts and listed:
        out.append("advertised stockouts: the answer lists products, the alerts none")
    return out


def stockout_risk(answer: str, s: Surfaces) -> list[str]:
    """Every product the stockout_risk alerts name is in the answer's ten riskiest (or more are out already)."""
    named = {a["product"] for a in list_alerts(s.runtime.store, s.brand_id) if a["type"] == "stockout_risk"}
    listed = re.findall(r"^- (.+?): ", answer, re.MULTILINE)
    if len(listed) >= 10 and all(": out of stock" in line for line in answer.splitlines()[1:11]):
        return []  # ten products are already out: they come first, rightly
    return [f"stockout risk: {p} has a stockout_risk alert but is not in the answer" for p in sorted(named - set(listed))]


def week_over_week(answer: str, s: Surfaces) -> list[str]:
    """This week's and last week's store revenue = the dashboard's last week and the week before it."""
    now, before = s.snapshot("last_week"), s.api("/dashboard?period=week_before")["performance_snapshot"]
    out = _has(answer, s.money(now["total_revenue"]), "this week's revenue")
    return out + _has(answer, s.money(before["total_revenue"]), "the week before's revenue")


def same_cover(answer: str, s: Surfaces) -> list[str]:
    """A product's days of cover among the top products = its cover in the stock answer."""
    stock = ask(s.runtime, s.brand_id, "Show stock and days of cover for every product", local_today(
        s.runtime.warehouse, s.brand_id), client=lambda: None).answer
    cover = dict(re.findall(r"^- (.+?): [\d,]+ units?, (.+?) of cover", stock, re.MULTILINE))
    out = []
    for title, days in re.findall(r"^\d+\. (.+?): .*; (.+?) of cover\.$", answer, re.MULTILINE):
        if title in cover and cover[title] != days:
            out.append(f"{title}: {days} of cover in the products answer, {cover[title]} in the stock answer")
    return out


GOLDEN: tuple[tuple[str, str, Check], ...] = (
    ("What did I spend and earn last week?", "channel_performance", totals("last_week")),
    ("How much did I spend yesterday, and what did it bring in?", "channel_performance", totals("yesterday")),
    ("What was my ad spend and revenue this week?", "channel_performance", totals("last_week")),
    ("How did ads do last month?", "channel_performance", totals("last_month")),
    ("Spend and revenue over the last 30 days?", "channel_performance", totals("last_30_days")),
    ("What have I spent on ads month to date?", "channel_performance", totals("month_to_date")),
    ("How did Meta do last week?", "channel_performance", channel("last_week", "meta")),
    ("What was TikTok's ROAS last week?", "channel_performance", channel("last_week", "tiktok")),
    ("How much did Google Ads spend last week?", "channel_performance", channel("last_week", "google_ads")),
    ("How did each channel do yesterday?", "channel_performance", channel("yesterday", "meta")),
    ("Which platform had the best ROAS last month?", "channel_performance", channel("last_month", "tiktok")),
    ("Compare my ad channels over the last 30 days", "channel_performance", channel("last_30_days", "google_ads")),
    ("Which regions did Meta do best in last week?", "region_performance", regions("last_week", "meta")),
    ("Which states is TikTok performing best in this month?", "region_performance",
     regions("month_to_date", "tiktok")),
    ("Where did Google Ads earn the most last month?", "region_performance", regions("last_month", "google_ads")),
    ("How are my Meta campaigns doing last week?", "campaign_detail", campaigns("last_week", "meta")),
    ("Show my TikTok campaigns over the last 30 days", "campaign_detail", campaigns("last_30_days", "tiktok")),
    ("Which Google campaigns spent most last month?", "campaign_detail", campaigns("last_month", "google_ads")),
    ("Which products are about to stock out?", "stock_cover", stockout_risk),
    ("What is running out of stock?", "stock_cover", stockout_risk),
    ("Which advertised products are about to run out?", "stock_cover", stockout_risk),
    ("Which advertised products are out of stock?", "advertised_stockouts", advertised_stockouts),
    ("Am I spending ad money on anything that is sold out?", "advertised_stockouts", advertised_stockouts),
    ("Are my ads promoting stockouts?", "advertised_stockouts", advertised_stockouts),
    ("Why did my revenue drop this week?", "week_over_week", week_over_week),
    ("Did sales go up last week?", "week_over_week", week_over_week),
    ("Which products performed best last month?", "top_products", same_cover),
    ("Which SKUs are most profitable over the last 30 days?", "top_products", same_cover),
    ("What are my best products by ROAS this month?", "top_products", same_cover),
    ("What did I spend and earn in the last 14 days?", "channel_performance", totals("last_14_days")),
)


def surfaces(runtime: Runtime, brand_id: str) -> Surfaces:
    """The dashboard API the page calls, for this brand, with a key scoped to it alone."""
    key = create_api_key(runtime.store, brand_ids=[brand_id], name="golden-questions")
    client = create_app(runtime, clock=lambda: datetime.now(UTC)).test_client()

    def api(path: str) -> Any:
        r = client.get(f"/api/brands/{brand_id}{path}", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, (path, r.status_code, r.json)
        return r.json

    return Surfaces(runtime, brand_id, api, api("/dashboard")["brand"]["currency"])


def check(runtime: Runtime, brand_id: str) -> list[str]:
    """Every golden question's problems on one built brand (empty when the answers match the page)."""
    s = surfaces(runtime, brand_id)
    today = local_today(runtime.warehouse, brand_id)
    problems = []
    for question, query, rule in GOLDEN:
        a = ask(runtime, brand_id, question, today, client=lambda: None)
        tools = [q.get("tool") for q in a.queries]
        if tools[:1] != [query]:
            problems.append(f"{question!r}: answered by {tools}, not {query}")
            continue
        problems += [f"{question!r}: {p}" for p in rule(a.answer, s)]
    return problems
