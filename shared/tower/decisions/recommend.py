"""The ``recommend`` step: rules and alerts for one brand, cached in the store, new alerts published.

Run on ``tower-models-built`` (the lead's ``recommend`` function calls :func:`run_recommend`) and by
``tower recommendations --brand ID``. Idempotent: the same facts give the same recommendation ids
(per ISO week) and alert ids, open alerts are not raised (or published) again, and a second run
writes the same documents.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from tower import names
from tower.decisions.alerts import Alert, detect, reconcile
from tower.decisions.inputs import BrandFacts
from tower.decisions.rules import Recommendation, apply_rules
from tower.decisions.scoring import iso_week, rank
from tower.decisions.sources import load_facts
from tower.decisions.store import brand_doc, save_alerts, save_recommendations, stored_alerts
from tower.decisions.thresholds import AlertThresholds, RuleThresholds
from tower.fingerprints import data_version
from tower.logs import run_fields

if TYPE_CHECKING:  # pragma: no cover
    from tower.runtime import Runtime

log = logging.getLogger("tower.decisions")


@dataclass(frozen=True)
class Thresholds:
    """A brand's rule and alert thresholds."""

    rules: RuleThresholds
    alerts: AlertThresholds


def thresholds_for(runtime: Runtime, brand_id: str) -> Thresholds:
    """Settings, then the brand document's ``thresholds: {rules: {...}, alerts: {...}}`` overrides."""
    overrides = brand_doc(runtime.store, brand_id).get("thresholds") or {}
    return Thresholds(
        rules=RuleThresholds.from_settings(runtime.settings, overrides.get("rules")),
        alerts=AlertThresholds.from_settings(runtime.settings, overrides.get("alerts")),
    )


def compute(facts: BrandFacts, t: Thresholds) -> tuple[list[Recommendation], list[Alert]]:
    """The pure core on one brand's facts: ranked top recommendations and every alert."""
    window = int(facts.extra.get("window_days") or t.rules.window_days)
    rules = replace(t.rules, window_days=window)
    recs = rank(apply_rules(facts.performance, facts.brand_id, facts.currency, rules, facts.product_stock),
                facts.today, rules.top_n)
    return recs, detect(facts, t.alerts)


def run_recommend(runtime: Runtime, brand_id: str, today: date, *, now: datetime | None = None,
                  facts: BrandFacts | None = None) -> dict[str, Any]:
    """Recommendations and alerts for a brand, written to the store; new alerts published.

    Args:
        runtime: Ports and settings.
        brand_id: The brand.
        today: The store-local run date (facts are as of the day before).
        now: Timestamp for the documents (default: the clock; the numbers never depend on it).
        facts: Facts already loaded (default: read from the models).

    Returns:
        ``{brand_id, week, as_of_date, recommendations[], saved{}, alerts{raised[], still_open, resolved[]}}``.
    """
    now = now or datetime.now(UTC)
    t = thresholds_for(runtime, brand_id)
    facts = facts or load_facts(runtime.warehouse, runtime.settings, brand_id, today, t.alerts)
    recs, alerts = compute(facts, t)
    week = iso_week(today)
    cards = [r.to_dict() for r in recs]
    saved = save_recommendations(runtime.store, brand_id, week, data_version(cards), cards, now)

    existing = stored_alerts(runtime.store, brand_id)
    changes = reconcile(existing, alerts)
    # publish before writing: a crash in between re-raises (at-least-once) rather than losing the alert
    for a in changes.raised:
        runtime.bus.publish(
            names.TOPIC_ALERTS_RAISED,
            {"brand_id": brand_id, "alert_id": a.id, "type": a.type, "severity": a.severity, "title": a.title,
             "channel": a.channel, "product": a.product, "region": a.region, "raised_on": today.isoformat(),
             "recommended_action": a.recommended_action},
            {"brand_id": brand_id, "alert_id": a.id, "severity": a.severity, "idempotency_key": f"{a.id}:{today}",
             **run_fields()},
        )
    save_alerts(runtime.store, brand_id, changes, today, data_version([a.to_dict() for a in alerts]), now, existing)
    log.info("recommendations built", extra={
        "brand_id": brand_id, "week": week, "recommendations": len(cards), "alerts_raised": len(changes.raised),
        "alerts_resolved": len(changes.resolved)})
    return {
        "brand_id": brand_id,
        "week": week,
        "as_of_date": facts.extra.get("as_of_date"),
        "recommendations": cards,
        "saved": saved,
        "alerts": {"raised": [a.id for a in changes.raised], "still_open": len(changes.still_open),
                   "resolved": changes.resolved, "open": [a.to_dict() for a in alerts]},
    }
