"""The deterministic narrator: the same JSON shapes Claude writes, from the same data, by templates.

It writes when there is no API key, and replaces any Claude text that fails the grounding check.
Every number it writes is a number of its input, formatted by :mod:`tower.decisions.formatting`
(whose rounding the grounding check understands), so its output is 100% grounded by construction;
the tests check that on every demo brand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tower import periods
from tower.decisions import formatting as fmt

STABLE_ROAS_PCT = 5.0  # a ROAS move under this is "stable"
NOTABLE_PCT = 10.0  # spend or ROAS moves under this are not worth a sentence


def _cur(ctx: Mapping[str, Any]) -> str:
    return str((ctx.get("brand") or {}).get("currency") or "USD")


def _channel_sentence_parts(name: str, ch: Mapping[str, Any], change: Mapping[str, Any]) -> list[str]:
    parts = []
    roas_pct, spend_pct = change.get("roas_pct"), change.get("spend_pct")
    r_from, r_to = change.get("roas_from"), change.get("roas_to")
    if roas_pct is not None and r_from is not None and r_to is not None and abs(roas_pct) >= NOTABLE_PCT:
        verb = "rose" if roas_pct > 0 else "fell"
        lead = ""
        if spend_pct is not None and abs(spend_pct) >= NOTABLE_PCT:
            spend_verb = "increased" if spend_pct > 0 else "decreased"
            joiner = "but" if (spend_pct > 0) != (roas_pct > 0) else "and"
            lead = f"{name} spend {spend_verb} {fmt.pct(spend_pct)}, {joiner} ROAS {verb}"
        else:
            lead = f"{name} ROAS {verb}"
        parts.append(f"{lead} from {fmt.multiple(r_from)} to {fmt.multiple(r_to)}")
    return parts


def weekly_summary(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's weekly summary: ``summary``, ``channel_performance``, ``inventory_insights``,
    ``recommendations[]`` (each ``id``, ``type``, ``action``, ``reason``, ``expected_impact``, ``priority``).

    Args:
        ctx: A context from :func:`tower.ai.context.build_context`.

    Returns:
        The summary dict.
    """
    cur = _cur(ctx)
    perf = ctx.get("performance") or {}
    changes = perf.get("changes") or {}
    channels: Mapping[str, Any] = (perf.get("current_week") or {}).get("by_channel") or {}
    period = (ctx.get("period") or {}).get("current_week") or {}
    span = f" ({periods.range_words(period['first_day'], period['last_day'])})" if period.get("first_day") else ""
    summary = _summary(perf, span, cur)

    channel_performance = {name: _channel_text(name, ch, (changes.get("by_channel") or {}).get(name) or {},
                                               channels, cur)
                           for name, ch in channels.items()}
    return {
        "summary": summary,
        "channel_performance": channel_performance,
        "inventory_insights": inventory_insights(ctx),
        "recommendations": [
            {"id": r.get("id"), "type": r.get("type"), "action": r.get("action") or "", "reason": r.get("reason") or "",
             "expected_impact": r.get("expected_impact") or "", "priority": r.get("priority") or "low"}
            for r in ctx.get("recommendations") or []
        ],
    }


def _summary(perf: Mapping[str, Any], span: str, cur: str) -> str:
    """The summary paragraph: the week's spend and revenue, against the week before, channel by channel."""
    now, before = perf.get("current_week") or {}, perf.get("previous_week") or {}
    changes = perf.get("changes") or {}
    channels: Mapping[str, Any] = now.get("by_channel") or {}
    if not now.get("total_spend") and not now.get("total_revenue"):
        return f"There was no ad spend and no attributed revenue last week{span}, so there is nothing to compare yet."
    sentences = [
        f"Last week{span} you spent {fmt.money(now['total_spend'] or 0, cur)} on ads and generated "
        f"{fmt.money(now['total_revenue'] or 0, cur)} in Shopify revenue"
        + (f" at a blended {fmt.multiple(now['blended_roas'])} ROAS" if now.get("blended_roas") else "")
    ]
    if before.get("blended_roas") and now.get("blended_roas") and changes.get("blended_roas_pct") is not None:
        d = changes["blended_roas_pct"]
        if abs(d) < STABLE_ROAS_PCT:
            sentences[-1] += f", about level with {fmt.multiple(before['blended_roas'])} the week before"
        else:
            word = "up" if d > 0 else "down"
            sentences[-1] += f", {word} from {fmt.multiple(before['blended_roas'])} the week before"
    if changes.get("total_revenue_pct") is not None and abs(changes["total_revenue_pct"]) >= 1:
        d = changes["total_revenue_pct"]
        sentences.append(
            f"Revenue {'rose' if d > 0 else 'fell'} {fmt.money(changes.get('total_revenue_amount') or 0, cur)} "
            f"({fmt.pct(d, 1)}) week over week"
        )
    leader = next(iter(channels.items()), None)  # by_channel is ordered by revenue
    if leader and leader[1].get("revenue_share_pct") is not None and leader[1].get("roas") is not None:
        name, ch = leader
        sentences.append(f"{fmt.channel_name(name)} drove {fmt.pct(ch['revenue_share_pct'])} of revenue at "
                         f"{fmt.multiple(ch['roas'])} ROAS")
    for name in channels:
        sentences.extend(_channel_sentence_parts(fmt.channel_name(name), channels[name],
                                                 (changes.get("by_channel") or {}).get(name) or {}))
    return ". ".join(sentences) + "."


def _channel_text(name: str, ch: Mapping[str, Any], change: Mapping[str, Any],
                  channels: Mapping[str, Any], cur: str) -> str:
    label = fmt.channel_name(name)
    if not ch.get("spend"):
        return f"{label} had no spend last week" + (
            f" but {fmt.money(ch['revenue'], cur)} of revenue was attributed to it." if ch.get("revenue") else ".")
    text = (f"{label} spent {fmt.money(ch['spend'], cur)} and drove {fmt.money(ch.get('revenue') or 0, cur)} of "
            f"revenue at {fmt.multiple(ch.get('roas') or 0)} ROAS")
    if ch.get("revenue_share_pct") is not None:
        text += f" ({fmt.pct(ch['revenue_share_pct'])} of revenue)"
    text += "."
    roas_pct, r_from = change.get("roas_pct"), change.get("roas_from")
    if roas_pct is not None and r_from is not None:
        if roas_pct <= -NOTABLE_PCT:
            text += f" ROAS declined {fmt.pct(roas_pct)} week over week, from {fmt.multiple(r_from)}."
        elif roas_pct >= NOTABLE_PCT:
            text += f" ROAS improved {fmt.pct(roas_pct)} week over week, from {fmt.multiple(r_from)}."
        else:
            text += f" ROAS was stable against {fmt.multiple(r_from)} the week before."
    spend_pct = change.get("spend_pct")
    if spend_pct is not None and abs(spend_pct) >= NOTABLE_PCT:
        text += f" Spend {'rose' if spend_pct > 0 else 'fell'} {fmt.pct(spend_pct)}."
    with_spend = {k: v for k, v in channels.items() if v.get("spend") and v.get("roas") is not None}
    if len(with_spend) >= 2:
        best = max(with_spend, key=lambda k: (with_spend[k]["roas"], k))
        worst = min(with_spend, key=lambda k: (with_spend[k]["roas"], k))
        if name == best:
            text += " Your strongest channel last week: worth testing more budget where stock allows."
        elif name == worst:
            text += " Your weakest channel last week: review its campaigns and regions first."
    return text


def inventory_insights(ctx: Mapping[str, Any]) -> str:
    """Sentences on ads versus stock: misalignments, stock risks, overstock."""
    cur = _cur(ctx)
    inv = ctx.get("inventory") or {}
    out = []
    for m in (inv.get("misalignments") or [])[:3]:
        chans = fmt.join_words([fmt.channel_name(c) for c in m.get("channels") or []]) or "ads"
        geo = f" in {m['geo']}" if m.get("geo") else ""
        if m.get("issue") == "spending_on_stockout":
            out.append(f"{m['product']} is out of stock{geo} yet still received "
                       f"{fmt.money(m.get('ad_spend') or 0, cur)} of {chans} spend.")
        else:
            out.append(f"You are heavily promoting {m['product']} on {chans}{geo} "
                       f"({fmt.money(m.get('ad_spend') or 0, cur)}, {fmt.pct(m.get('spend_share_pct') or 0)} of that "
                       f"spend there), but stock is low ({fmt.days(m.get('doc'))} of cover).")
    named = {m.get("product") for m in inv.get("misalignments") or []}
    risks = [r for r in inv.get("stock_risks") or [] if r.get("product") not in named][:2]
    for r in risks:
        out.append(f"{r['product']} has {fmt.days(r.get('days_of_cover'))} of cover left "
                   f"({fmt.units(r.get('available_units') or 0)} at {fmt.per_day(r.get('velocity_per_day') or 0)}) "
                   f"while still advertised.")
    over = (inv.get("overstock") or [])[:3]
    if over:
        items = fmt.join_words([f"{o['product']} ({fmt.days(o.get('doc'))} of cover)" for o in over])
        verb = "is" if len(over) == 1 else "are"
        out.append(f"Meanwhile {items} {verb} overstocked with little ad support.")
    if not out:
        return ("Ad spend and stock are in line: no advertised product is out of stock, short of stock or "
                "overstocked.")
    return " ".join(out)


def explain_alert(alert_ctx: Mapping[str, Any]) -> str:
    """A plain explanation of one alert from its data.

    Args:
        alert_ctx: ``{"alert": alert dict, "related": {...}, "currency": ...}`` (see
            :func:`tower.ai.summarize.alert_context`).

    Returns:
        The explanation text.
    """
    alert = alert_ctx.get("alert") or {}
    related = alert_ctx.get("related") or {}
    cur = str(alert_ctx.get("currency") or "USD")
    parts = [str(alert.get("explanation") or alert.get("title") or "")]
    regions = related.get("regions") or []
    if alert.get("type") == "roas_drop" and regions:
        worst = [r for r in regions if r.get("roas") is not None][:2]
        if worst:
            items = []
            for r in worst:
                item = f"{fmt.region_name(str(r['region']))} ({fmt.multiple(r['roas'])}"
                if r.get("roas_before") is not None:
                    item += f", from {fmt.multiple(r['roas_before'])}"
                items.append(item + ")")
            parts.append(f"The weakest regions this week were {fmt.join_words(items)}.")
    campaigns = related.get("campaigns") or []
    if campaigns:
        c = campaigns[0]
        parts.append(f"The largest campaign involved is “{c.get('campaign_name') or c.get('campaign_id')}” "
                     f"(id {c.get('campaign_id')}), with {fmt.money(c.get('spend') or 0, cur)} of spend.")
    stock = related.get("low_stock") or []
    if stock:
        s = stock[0]
        parts.append(f"It is also promoting {s['product']} where stock is low ({fmt.days(s.get('doc'))} of cover).")
    return " ".join(p for p in parts if p)


# --- answers to questions ----------------------------------------------------------------------


def _metric_phrase(row: Mapping[str, Any], cur: str) -> str:
    bits = [f"{fmt.money(row.get('revenue') or 0, cur)} in revenue"]
    ad_revenue = row.get("ad_revenue")
    if row.get("roas") is not None and row.get("spend"):
        ads = f"{fmt.money(ad_revenue, cur)} of it from ads, " if ad_revenue is not None and ad_revenue != row.get(
            "revenue") else ""
        bits.append(f"{ads}{fmt.multiple(row['roas'])} ROAS on {fmt.money(row['spend'], cur)} of ad spend")
    if row.get("profit") is not None:
        bits.append(f"{fmt.money(row['profit'], cur)} profit" if row["profit"] >= 0
                    else f"a loss of {fmt.money(row['profit'], cur)}")
    return ", ".join(bits)


def answer_top_products(rows: Sequence[Mapping[str, Any]], metric: str, period: str, cur: str) -> str:
    """"Which products performed best …?" from ``top_products`` rows."""
    if not rows:
        return f"I found no product sales for {period}, so I cannot rank products."
    label = {"revenue": "revenue", "profit": "profit", "roas": "ROAS"}.get(metric, metric)
    lines = [f"Your top {len(rows)} products by {label} for {period} were:"]
    for i, r in enumerate(rows, 1):
        line = f"{i}. {r.get('product_title') or r.get('product_id')}: {_metric_phrase(r, cur)}"
        if r.get("days_of_cover") is not None:
            line += f"; {fmt.days(r['days_of_cover'])} of cover"
        lines.append(line + ".")
    return "\n".join(lines)


def answer_regions(rows: Sequence[Mapping[str, Any]], period: str, cur: str) -> str:
    """"Which regions are performing best …?" from ``region_performance`` rows."""
    rows = [r for r in rows if r.get("region_code")]
    if not rows:
        return f"I found no regional ad performance for {period}."
    lines = [f"Your best regions for {period}, by revenue:"]
    for i, r in enumerate(rows[:5], 1):
        lines.append(f"{i}. {fmt.region_name(str(r['region_code']))}: {_metric_phrase(r, cur)}.")
    ranked = [r for r in rows[:5] if r.get("roas") is not None and r.get("spend")]
    if len(ranked) >= 2:
        best = max(ranked, key=lambda r: (r["roas"], r["region_code"]))
        lines.append(f"Of these, the highest return on ad spend was {fmt.region_name(str(best['region_code']))} at "
                     f"{fmt.multiple(best['roas'])}.")
    return "\n".join(lines)


def answer_channels(rows: Sequence[Mapping[str, Any]], period: str, cur: str) -> str:
    """Channel performance for a period from ``channel_performance`` rows."""
    if not rows:
        return f"I found no ad performance for {period}."
    total = next((r for r in rows if r.get("channel") == "total"), None)
    lines = []
    if total is not None:
        lines.append(f"For {period}: you spent {fmt.money(total.get('spend') or 0, cur)} on ads; the store took "
                     f"{fmt.money(total.get('revenue') or 0, cur)} in revenue, "
                     f"{fmt.money(total.get('ad_revenue') or 0, cur)} of it credited to ads"
                     + (f", a blended {fmt.multiple(total['roas'])} ROAS." if total.get("roas") is not None else "."))
    channels = [r for r in rows if r is not total]
    if not channels:
        lines.append(f"No ad channel spent or earned in {period}.")
        return "\n".join(lines)
    lines.append(f"Channel performance for {period}:")
    for r in channels:
        lines.append(f"- {fmt.channel_name(str(r.get('channel')))}: {_metric_phrase(r, cur)}.")
    return "\n".join(lines)


def answer_revenue_change(totals: Mapping[str, Any] | None, channels: Sequence[Mapping[str, Any]],
                          products: Sequence[Mapping[str, Any]], cur: str) -> str:
    """"Why did my revenue drop this week?" from ``week_over_week`` rows (total, by channel, by product)."""
    if not totals or totals.get("prev_revenue") in (None, 0):
        return "I cannot compare this week with last week: there is no revenue in one of the two weeks."
    now, before = totals.get("revenue") or 0.0, totals.get("prev_revenue") or 0.0
    # the query computes the change, so the sentence cites a number of the data, not our own sum
    diff = totals.get("revenue_change")
    diff = float(now - before if diff is None else diff)
    pct = totals.get("revenue_change_pct")
    if diff >= 0:
        head = (f"Revenue did not drop: it was {fmt.money(now, cur)} this week against {fmt.money(before, cur)} "
                f"last week, up {fmt.money(diff, cur)}" + (f" ({fmt.pct(pct, 1)})." if pct is not None else "."))
    else:
        head = (f"Your revenue dropped by {fmt.money(diff, cur)}" + (f" ({fmt.pct(pct, 1)})" if pct is not None else "")
                + f" compared to last week: {fmt.money(now, cur)} against {fmt.money(before, cur)}.")
    lines = [head]
    movers = sorted((c for c in channels if c.get("revenue_change") is not None),
                    key=lambda c: c["revenue_change"])
    if diff < 0:
        movers = [c for c in movers if c["revenue_change"] < 0][:3]
    else:
        movers = [c for c in reversed(movers) if c["revenue_change"] > 0][:3]
    for c in movers:
        bit = (f"{fmt.channel_name(str(c['channel']))} revenue went from {fmt.money(c.get('prev_revenue') or 0, cur)} "
               f"to {fmt.money(c.get('revenue') or 0, cur)}")
        if c.get("spend") is not None and c.get("prev_spend"):
            bit += f" while its spend went from {fmt.money(c['prev_spend'], cur)} to {fmt.money(c['spend'], cur)}"
        lines.append(bit + ".")
    prod = sorted((p for p in products if p.get("revenue_change") is not None), key=lambda p: p["revenue_change"])
    prod = [p for p in prod if (p["revenue_change"] < 0) == (diff < 0)][:3] if diff < 0 else \
        [p for p in reversed(prod) if p["revenue_change"] > 0][:3]
    if prod:
        items = fmt.join_words([f"{p.get('product_title') or p.get('product_id')} "
                                f"({fmt.money(p.get('prev_revenue') or 0, cur)} → {fmt.money(p.get('revenue') or 0, cur)})"
                                for p in prod])
        lines.append(f"The products that moved most: {items}.")
        out_of_stock = [p for p in prod if p.get("available_units") == 0]
        if out_of_stock and diff < 0:
            lines.append(f"{fmt.join_words([str(p.get('product_title')) for p in out_of_stock])} "
                         f"{'is' if len(out_of_stock) == 1 else 'are'} out of stock now.")
    return "\n".join(lines)


def answer_stock(rows: Sequence[Mapping[str, Any]], cur: str) -> str:
    """Stock and days of cover from ``stock_cover`` rows (lowest cover first)."""
    if not rows:
        return "I found no stock levels for your products."
    lines = ["Stock and days of cover, stock-out risk first:"]
    for r in rows[:10]:
        name = r.get("product_title") or r.get("product_id")
        if (r.get("available_units") or 0) <= 0:
            lines.append(f"- {name}: out of stock.")
            continue
        line = (f"- {name}: {fmt.units(r.get('available_units') or 0)}, {fmt.days(r.get('days_of_cover'))} of cover "
                f"({r.get('stock_status') or 'unknown'})")
        out, locations = int(r.get("locations_out_of_stock") or 0), int(r.get("locations") or 0)
        lowest, pooled = r.get("lowest_location_cover"), r.get("days_of_cover")
        if out:
            line += f"; out of stock at {out} of its {locations} locations"
        elif lowest is not None and (pooled is None or float(lowest) < float(pooled)):
            line += f"; {fmt.days(lowest)} at its lowest location"
        lines.append(line + ".")
    return "\n".join(lines)


def answer_advertised_stockouts(rows: Sequence[Mapping[str, Any]], cur: str) -> str:
    """"Which advertised products are out of stock?" from ``advertised_stockouts`` rows."""
    if not rows:
        return "No advertised product is out of stock where its ads run."
    first = rows[0]
    head = (f"Advertised products with no stock where their ads run (ad spend over the {first.get('window_days')} "
            f"days to {periods.day_words(str(first.get('as_of_date')))}):")
    lines = [head]
    for r in rows[:10]:
        channels = fmt.join_words([fmt.channel_name(str(c)) for c in r.get("channels") or []])
        regions = list(r.get("regions") or [])
        where = f" in {fmt.region_names(regions)}" if 0 < len(regions) <= 4 else (
            f" in {len(regions)} regions" if regions else "")
        left = r.get("available_units") or 0
        stock = "out of stock everywhere" if left <= 0 else f"{fmt.units(left)} left at other locations"
        lines.append(f"- {r.get('product_title') or r.get('product_id')}: {channels} spent "
                     f"{fmt.money(r.get('spend') or 0, cur)}{where}; {stock}.")
    return "\n".join(lines)


def answer_campaigns(rows: Sequence[Mapping[str, Any]], period: str, cur: str) -> str:
    """Campaign detail for a period from ``campaign_detail`` rows."""
    if not rows:
        return f"I found no campaign spend for {period}."
    lines = [f"Campaigns for {period}, by spend:"]
    for r in rows[:10]:
        lines.append(f"- {fmt.channel_name(str(r.get('platform')))} “{r.get('campaign_name') or r.get('campaign_id')}” "
                     f"(id {r.get('campaign_id')}): {_metric_phrase(r, cur)}.")
    return "\n".join(lines)


CANNOT_ANSWER = (
    "I can't answer that from the data I have. I can tell you your top products by revenue, profit or ROAS "
    "for a period, how each channel or region performed, stock and days of cover, what changed week over "
    "week, and campaign details."
)
