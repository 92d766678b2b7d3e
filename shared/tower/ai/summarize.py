"""The ``summarize`` step: the weekly summary and alert explanations, grounded, cached per data version.

Run on ``tower-models-built`` (the lead's ``summarize`` function calls :func:`run_summarize`) and by
``tower summary --brand ID``. For each brand and ISO week it builds the context from the models and
the pure core's recommendations and alerts, hashes it (the data version) and looks in the store:
the same version means the cached text is returned and Claude is not called. Otherwise Claude
writes (with an API key) through the grounding policy — check, retry once naming the failures,
else the deterministic narrator — and the result, its author and grounding outcome are stored.
A page load reads :func:`tower.decisions.store.latest_summary` and never calls Claude.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from tower.ai import narrator
from tower.ai.claude import ClaudeClient, resolve_client
from tower.ai.context import build_context, clean_text
from tower.ai.grounding import GenerationFailed, Grounded, grounded
from tower.ai.prompts import EXPLAIN_SYSTEM, EXPLAIN_TOOL, SUMMARY_SYSTEM, SUMMARY_TOOL, data_message
from tower.ai.tokens import count_json_tokens
from tower.ai.usage import CallUsage, fallback_usage, record
from tower.decisions.alerts import SEVERITY_ORDER
from tower.decisions.formatting import region_name
from tower.decisions.inputs import BrandFacts
from tower.decisions.recommend import compute, thresholds_for
from tower.decisions.scoring import iso_week
from tower.decisions.sources import load_facts
from tower.decisions.store import alert_path, cached, explanation_fields, explanation_path, summary_path
from tower.fingerprints import data_version

if TYPE_CHECKING:  # pragma: no cover
    from tower.runtime import Runtime

log = logging.getLogger("tower.ai")
EXPLAIN_TOP = 5  # alerts explained per run, most severe first


def _validate_summary(value: Any, ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The summary shape, with the recommendation ids of the context attached in order."""
    if not isinstance(value, dict):
        raise GenerationFailed("the summary is not an object")
    for key in ("summary", "inventory_insights"):
        if not isinstance(value.get(key), str) or not value[key].strip():
            raise GenerationFailed(f"the summary has no {key}")
    channels = value.get("channel_performance")
    if not isinstance(channels, dict) or not all(isinstance(v, str) for v in channels.values()):
        raise GenerationFailed("channel_performance must map channels to text")
    recs = value.get("recommendations")
    if not isinstance(recs, list) or not all(isinstance(r, dict) for r in recs):
        raise GenerationFailed("recommendations must be a list of objects")
    ctx_recs = ctx.get("recommendations") or []
    out = []
    for i, r in enumerate(recs[: len(ctx_recs)]):
        out.append({"id": ctx_recs[i].get("id"), "type": ctx_recs[i].get("type"), "action": str(r.get("action") or ""),
                    "reason": str(r.get("reason") or ""), "expected_impact": str(r.get("expected_impact") or ""),
                    "priority": ctx_recs[i].get("priority") or str(r.get("priority") or "low")})
    return {"summary": value["summary"], "channel_performance": dict(channels),
            "inventory_insights": value["inventory_insights"], "recommendations": out}


@dataclass
class _Writing:
    """One piece Claude writes through a forced tool (a summary, an explanation) for one brand: the calls
    it made and their grounding checks, recorded in ``ai_usage`` once the outcome is known."""

    runtime: Runtime
    claude: ClaudeClient | None
    brand_id: str
    purpose: str
    system: str
    tool: dict[str, Any]
    usages: list[CallUsage] = field(default_factory=list)
    checks: list[bool] = field(default_factory=list)

    def generator(self, data: Any, instruction: str,
                  shape: Callable[[Any], Any]) -> Callable[[str | None], Any] | None:
        """The writer :func:`~tower.ai.grounding.grounded` calls (None without a client: the narrator writes)."""
        claude = self.claude
        if claude is None:
            return None

        def generate(feedback: str | None) -> Any:
            value, usage = claude.structured(brand_id=self.brand_id, purpose=self.purpose, system=self.system,
                                             user_text=data_message(data, instruction, feedback), tool=self.tool)
            self.usages.append(usage)
            return shape(value)

        return generate

    def record(self, outcome: Grounded[Any], now: datetime) -> None:
        """Write the calls' usage rows, each marked with its check, plus a row for a narrator fallback."""
        for u, ok in zip(self.usages, self.checks, strict=False):
            u.grounding = "pass" if ok else "fail"
        calls = list(self.usages)
        if outcome.author == "narrator" and outcome.status != "narrator":
            calls.append(fallback_usage(self.brand_id, self.purpose, self.usages, now))
        record(self.runtime.warehouse, self.runtime.settings, calls)


def summarize_context(runtime: Runtime, brand_id: str, ctx: dict[str, Any], *, week: str,
                      client: Any = None, now: datetime | None = None, force: bool = False) -> dict[str, Any]:
    """The weekly summary of a context: from the cache when its data version is stored, else written.

    Seven parameters: the brand's context and week, then keywords with defaults (the writer, the clock,
    ``force`` to write past the cache).

    Returns:
        The stored document: ``{kind, week, data_version, summary{...}, author, grounding, cached, …}``.
    """
    now = now or datetime.now(UTC)
    version = data_version(ctx)
    path = summary_path(brand_id, week)
    hit = None if force else cached(runtime.store, path, version)
    if hit is not None:
        return {**hit, "cached": True}
    writing = _Writing(runtime, resolve_client(runtime, client), brand_id, "summary", SUMMARY_SYSTEM, SUMMARY_TOOL)
    generate = writing.generator(ctx, "Write last week's summary with the write_weekly_summary tool.",
                                 lambda v: _validate_summary(v, ctx))
    outcome = grounded(generate, lambda: narrator.weekly_summary(ctx), ctx, on_check=writing.checks.append)
    writing.record(outcome, now)
    doc = {
        "kind": "summary", "week": week, "data_version": version, "summary": outcome.value,
        "author": outcome.author, "grounding": outcome.status, "grounding_failures": outcome.failures[:20],
        "context_tokens": count_json_tokens(ctx), "generated_at": now,
        "performance_snapshot": _snapshot(ctx),
    }
    runtime.store.set(path, doc)
    return {**doc, "cached": False}


def _snapshot(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """The plan's dashboard ``performance_snapshot`` (current week) from the context."""
    cur = (ctx.get("performance") or {}).get("current_week") or {}
    return {"total_spend": cur.get("total_spend"), "total_revenue": cur.get("total_revenue"),
            "blended_roas": cur.get("blended_roas"),
            "by_channel": {k: {"spend": v.get("spend"), "revenue": v.get("revenue"), "roas": v.get("roas")}
                           for k, v in (cur.get("by_channel") or {}).items()}}


def alert_context(alert: Mapping[str, Any], facts: BrandFacts, min_region_spend: float = 100.0) -> dict[str, Any]:
    """The figures one alert's explanation may use: the alert and what relates to it.

    For a channel's ROAS drop: the regions that lost the most revenue against their trailing ROAS
    (spend × ROAS fall, among regions spending at least ``min_region_spend`` this week).
    """
    related: dict[str, Any] = {"campaigns": list(alert.get("campaigns") or [])[:3]}
    channel = alert.get("channel") or ""
    if alert.get("type") == "roas_drop" and channel and not alert.get("region"):
        regions = [w for w in facts.channel_weeks if w.channel == channel and w.region_code
                   and w.spend >= min_region_spend and w.trailing_spend > 0 and w.roas < w.trailing_roas]
        regions.sort(key=lambda w: (-(w.trailing_roas - w.roas) * w.spend, w.region_code))
        related["regions"] = [{"region": w.region_code, "region_name": region_name(w.region_code),
                               "roas": round(w.roas, 2),
                               "roas_before": round(w.trailing_roas, 2) if w.trailing_spend else None,
                               "spend": round(w.spend, 2)} for w in regions[:3]]
    if channel:
        low = [r for r in facts.alignment if r.channel == channel and r.mismatch == "overspending_low_stock"
               and r.product_id != alert.get("product_id")]
        low.sort(key=lambda r: -r.spend)
        related["low_stock"] = [{"product": clean_text(r.product_title, 60), "doc": r.days_of_cover,
                                 "region": r.region_code, "spend": round(r.spend, 2)} for r in low[:2]]
    return {"currency": facts.currency, "alert": {k: alert.get(k) for k in (
        "id", "type", "severity", "channel", "product", "region", "title", "explanation", "recommended_action",
        "metrics")}, "related": related}


def explain_alerts(runtime: Runtime, brand_id: str, alerts: Sequence[Mapping[str, Any]], facts: BrandFacts, *,
                   week: str, client: Any = None, now: datetime | None = None,
                   min_region_spend: float = 100.0) -> dict[str, dict[str, Any]]:
    """Explanations of the most severe alerts, cached per alert, week and data version.

    Eight parameters: the brand's alerts and facts, then keywords with defaults (the week, the writer,
    the clock, the spend under which a region is not worth citing).
    """
    now = now or datetime.now(UTC)
    claude = resolve_client(runtime, client)
    out = {}
    for alert in sorted(alerts, key=lambda a: SEVERITY_ORDER.get(str(a.get("severity")), 9))[:EXPLAIN_TOP]:
        actx = alert_context(alert, facts, min_region_spend)
        version = data_version(actx)
        path = explanation_path(brand_id, week, str(alert["id"]))
        hit = cached(runtime.store, path, version)
        if hit is not None:
            _show_on_alert(runtime, brand_id, str(alert["id"]), hit)
            out[str(alert["id"])] = {**hit, "cached": True}
            continue
        writing = _Writing(runtime, claude, brand_id, "explanation", EXPLAIN_SYSTEM, EXPLAIN_TOOL)

        def shape(v: Any) -> str:
            if not isinstance(v, dict) or not isinstance(v.get("explanation"), str) or not v["explanation"].strip():
                raise GenerationFailed("no explanation in the reply")
            return v["explanation"]

        generate = writing.generator(actx, "Explain this alert with the write_alert_explanation tool.", shape)
        outcome = grounded(generate, partial(narrator.explain_alert, actx), actx,
                           texts_of=lambda s: [s], on_check=writing.checks.append)
        writing.record(outcome, now)
        doc = {"kind": "explanation", "week": week, "alert_id": alert["id"], "data_version": version,
               "explanation": outcome.value, "author": outcome.author, "grounding": outcome.status,
               "generated_at": now}
        runtime.store.set(path, doc)
        _show_on_alert(runtime, brand_id, str(alert["id"]), doc)
        out[str(alert["id"])] = {**doc, "cached": False}
    return out


def _show_on_alert(runtime: Runtime, brand_id: str, alert_id: str, explanation: Mapping[str, Any]) -> None:
    """Put the explanation on the alert's document when that exists and does not show it yet.

    The recommend step owns the alert documents and copies a stored explanation into an alert it
    writes; this covers the other order (the alert written first). A cached explanation is shown too:
    a redelivery, or the second of two steps, must leave the alert explained whichever ran first.
    """
    path = alert_path(brand_id, alert_id)
    current = runtime.store.get(path)
    fields = explanation_fields(explanation)
    if current is not None and fields and any(current.get(k) != v for k, v in fields.items()):
        runtime.store.merge(path, fields)


def run_summarize(runtime: Runtime, brand_id: str, today: date, *, client: Any = None, now: datetime | None = None,
                  facts: BrandFacts | None = None, explain: bool = True) -> dict[str, Any]:
    """Weekly summary (and alert explanations) for a brand, from the cache when nothing changed.

    Seven parameters: the brand and its day, then keywords with defaults (the writer, the clock, facts
    already loaded, whether to explain alerts too).

    Args:
        runtime: Ports and settings.
        brand_id: The brand.
        today: Store-local run date (the week summarised ends the day before).
        client: A Claude client, a callable returning one (or None to force the narrator); default
            :func:`tower.ai.claude.client_for` (the narrator without an API key).
        now: Timestamp for the documents.
        facts: Facts already loaded (default: read from the models).
        explain: Also explain the most severe alerts.

    Returns:
        ``{brand_id, week, summary: <stored doc>, explanations: {alert_id: doc}}``.
    """
    now = now or datetime.now(UTC)
    t = thresholds_for(runtime, brand_id)
    facts = facts or load_facts(runtime.warehouse, runtime.settings, brand_id, today, t.alerts)
    recs, alerts = compute(facts, t)
    alert_dicts = [a.to_dict() for a in alerts]
    ctx = build_context(facts, [r.to_dict() for r in recs], alert_dicts,
                        max_tokens=runtime.settings.ai_context_max_tokens,
                        min_region_spend=t.alerts.min_weekly_spend,
                        stockout_within_days=t.alerts.stockout_within_days)
    week = iso_week(today)
    summary = summarize_context(runtime, brand_id, ctx, week=week, client=client, now=now)
    explanations = explain_alerts(runtime, brand_id, alert_dicts, facts, week=week, client=client, now=now,
                                  min_region_spend=t.alerts.min_weekly_spend) if explain else {}
    log.info("summary ready", extra={"brand_id": brand_id, "week": week, "author": summary.get("author"),
                                     "grounding": summary.get("grounding"), "cached": summary.get("cached")})
    return {"brand_id": brand_id, "week": week, "summary": summary, "explanations": explanations,
            "alerts": alert_dicts}
