"""Turning a digest or an alert into an e-mail (HTML and plain text, jinja2) and a Slack Block Kit message.

The figures arrive already computed (:mod:`tower.digests` reads the dashboard's); here they are only
formatted, the same way in every rendering, so the e-mail, the plain text and Slack say the same.

Slack's limits are kept by construction (:data:`SLACK_LIMITS`): at most 50 blocks (brands past what
fits are named in one closing section with a link to the overview), 3,000 characters a section, 150 a
header, 75 a button's text, 10 fields of 2,000 characters, and the fallback ``text`` under 4,000.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).with_name("templates")
SLACK_LIMITS = {"blocks": 50, "section": 3000, "header": 150, "button": 75, "fields": 10, "field": 2000,
                "text": 4000, "value": 2000, "context": 10}
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}
_SEVERITY_MARK = {"critical": "🔴", "high": "🟠", "medium": "🟡", "low": "⚪"}
BLOCKS_PER_BRAND = 5


def money(value: float | None, currency: str) -> str:
    """``$1,234.56`` (a symbol for the common currencies, else ``SEK 1,234.56``); ``n/a`` when unknown."""
    if value is None:
        return "n/a"
    sign = "-" if value < 0 else ""
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{abs(value):,.2f}" if symbol else f"{sign}{currency} {abs(value):,.2f}"


def ratio(value: float | None) -> str:
    """``3.20×``; ``n/a`` when unknown."""
    return "n/a" if value is None else f"{value:,.2f}×"


def change(pct: float | None) -> str:
    """``+12.3 %`` / ``-4.0 %``; ``no comparison`` when there is none."""
    return "no comparison" if pct is None else f"{pct:+.1f} %"


def figure_text(figure: Mapping[str, Any], currency: str) -> str:
    """A figure's value in its unit."""
    value = figure.get("value")
    return money(value, currency) if figure.get("unit") == "money" else ratio(value)


def trend(figure: Mapping[str, Any]) -> str:
    """``up``, ``down`` or ``flat`` (no comparison counts as flat)."""
    pct = figure.get("change_pct")
    return "flat" if not pct else ("up" if pct > 0 else "down")


def tone(figure: Mapping[str, Any]) -> str:
    """``good``, ``bad`` or ``neutral``: the figure's trend read with which way is better for it."""
    direction, better = trend(figure), figure.get("good")
    if direction == "flat" or not better:
        return "neutral"
    return "good" if direction == better else "bad"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2  # lazy: only the notify functions render

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=lambda name: bool(name and name.endswith(".html.j2")),
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=money, ratio=ratio, change=change, trend=trend, tone=tone, figure=figure_text)
    return env


def render_email(template: str, context: Mapping[str, Any]) -> tuple[str, str]:
    """``(html, text)`` of ``<template>.html.j2`` and ``<template>.txt.j2`` with this context."""
    env = _env()
    return (env.get_template(f"{template}.html.j2").render(**context),
            env.get_template(f"{template}.txt.j2").render(**context))


# --- Slack ---------------------------------------------------------------------------------------------


def _mrkdwn_escape(text: str) -> str:
    """Slack's three control characters escaped (``&``, ``<``, ``>``), so names cannot form links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SLACK_LIMITS["section"])}}


def _button(text: str, *, url: str = "", action_id: str, value: str = "", style: str = "") -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "action_id": action_id,
                         "text": {"type": "plain_text", "text": clip(text, SLACK_LIMITS["button"])}}
    if url:
        b["url"] = url
    if value:
        b["value"] = value[: SLACK_LIMITS["value"]]
    if style:
        b["style"] = style
    return b


def _brand_blocks(brand: Mapping[str, Any]) -> list[dict[str, Any]]:
    currency = str(brand["currency"])
    name = _mrkdwn_escape(str(brand["brand_name"]))
    head = (f"*<{brand['url']}|{name}>*  ·  health {brand['health_score']}/100  ·  "
            f"{str(brand['status']).replace('_', ' ')}\n_{brand['period_label']}_")
    if brand.get("summary"):
        head += "\n" + _mrkdwn_escape(str(brand["summary"]))
    fields = [{"type": "mrkdwn", "text": clip(f"*{f['label']}*\n{figure_text(f, currency)} ({change(f.get('change_pct'))})",
                                              SLACK_LIMITS["field"])}
              for f in brand["figures"][: SLACK_LIMITS["fields"]]]
    lines = [f":warning: needs reconnecting: {_mrkdwn_escape(str(c['platform']))} {_mrkdwn_escape(str(c['account_id']))} "
             f"({_mrkdwn_escape(str(c['reason']))})" for c in brand.get("reconnect") or []]
    lines += [f"{_SEVERITY_MARK.get(str(a['severity']), '•')} {_mrkdwn_escape(str(a['title']))}"
              for a in brand["alerts"]]
    lines += [f"→ {_mrkdwn_escape(str(a['action']))}" for a in brand["actions"]]
    buttons = [_button(f"Open {brand['brand_name']}", url=str(brand["url"]), action_id=f"open:{brand['brand_id']}")]
    top = brand["actions"][0] if brand["actions"] else None
    if top is not None:
        value = json.dumps({"brand_id": brand["brand_id"], "rec_id": top["id"]})
        buttons += [_button("Accept top action", action_id="accept", value=value, style="primary"),
                    _button("Dismiss", action_id="dismiss", value=value)]
    return [
        {"type": "divider"},
        _section(head),
        {"type": "section", "fields": fields} if fields else _section("No figures for this week yet."),
        _section("\n".join(lines) if lines else "No open alerts or actions."),
        {"type": "actions", "elements": buttons},
    ]


def digest_blocks(digest: Mapping[str, Any], *, overview_url: str) -> tuple[str, list[dict[str, Any]]]:
    """The digest as Slack's fallback text and Block Kit blocks (within :data:`SLACK_LIMITS`)."""
    title = f"{digest['branding']['display_name']}: weekly digest, {digest['period_label']}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(title, SLACK_LIMITS["header"])}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(
            f"{len(digest['brands'])} brands, most urgent first. Figures as on the dashboard.", 300)}]},
    ]
    brands: Sequence[Mapping[str, Any]] = digest["brands"]
    room = (SLACK_LIMITS["blocks"] - len(blocks) - 2) // BLOCKS_PER_BRAND  # 2: a held section and a closing one
    for brand in brands[:room]:
        blocks += _brand_blocks(brand)
    if digest.get("held"):
        held = [f"{_SEVERITY_MARK.get(str(h['severity']), '•')} {_mrkdwn_escape(str(h['brand_name']))}: "
                f"{_mrkdwn_escape(str(h['title']))} ({h['raised_on']})" for h in digest["held"]]
        blocks.append(_section("*Held back since the last digest* (quiet hours or your daily limit)\n"
                               + "\n".join(held)))
    rest = brands[room:]
    if rest:
        names = ", ".join(_mrkdwn_escape(str(b["brand_name"])) for b in rest)
        blocks.append(_section(f"And {len(rest)} more: {names}. <{overview_url}|Open the overview>"))
    text = clip(f"{title}: " + "; ".join(f"{b['brand_name']} ({b['status'].replace('_', ' ')})" for b in brands),
                SLACK_LIMITS["text"])
    return text, blocks


def alert_blocks(alert: Mapping[str, Any], *, brand_name: str, url: str) -> tuple[str, list[dict[str, Any]]]:
    """One raised alert as Slack's fallback text and blocks."""
    mark = _SEVERITY_MARK.get(str(alert.get("severity")), "•")
    text = clip(f"{mark} {brand_name}: {alert.get('title')} ({alert.get('severity')}, raised {alert.get('raised_on')})",
                SLACK_LIMITS["text"])
    body = f"{mark} *{_mrkdwn_escape(str(alert.get('title')))}*\n{_mrkdwn_escape(brand_name)} · " \
           f"{alert.get('severity')} · raised {alert.get('raised_on')}"
    if alert.get("recommended_action"):
        body += "\n→ " + _mrkdwn_escape(str(alert["recommended_action"]))
    return text, [_section(body), {"type": "actions", "elements": [
        _button(f"Open {brand_name}", url=url, action_id=f"open:{alert.get('brand_id')}")]}]
