"""The product plan's JSON shapes (dashboard ``performance_snapshot``, channel drilldown) from the marts.

The numbers are the models' (``performance_snapshots``, ``unified_performance``, ``inventory_alignment``);
this module only reads them for one as-of day and arranges them. Money is rounded to cents and ratios to
two decimals at this edge, never inside the models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from tower.ports import Warehouse

SNAPSHOT_SQL = """
SELECT *
FROM performance_snapshots
WHERE brand_id = @brand_id AND as_of_date = @as_of_date
"""

LATEST_AS_OF_SQL = """
SELECT MAX(window_start) AS as_of_date
FROM model_runs
WHERE brand_id = @brand_id AND model = 'inventory_alignment' AND window_start < @today
"""

# NUMERIC sums (exact): a FLOAT64 sum's last bits would depend on the order the rows arrive in
CAMPAIGNS_SQL = """
SELECT
  campaign_id,
  MAX(campaign_name) AS campaign_name,
  SUM(spend_amount) AS spend,
  SUM(attributed_revenue_amount) AS revenue
FROM unified_performance
WHERE brand_id = @brand_id
  AND performance_date > CAST(DATE_SUB(@as_of_date, INTERVAL @period_days DAY) AS DATE)
  AND performance_date <= @as_of_date
  AND attribution_model = @attribution_model
  AND channel = @channel
GROUP BY campaign_id
"""

ALIGNMENT_SQL = """
SELECT *
FROM inventory_alignment
WHERE brand_id = @brand_id AND as_of_date = @as_of_date
"""

STOCK_SQL = """
SELECT product_id, variant_id, sku, location_id, available, days_of_cover, projected_stockout_date, cover_status
FROM days_of_cover
WHERE brand_id = @brand_id AND snapshot_date = @as_of_date AND cover_status IN ('stockout', 'low')
"""

# Every query above, for the partition-filter test.
QUERIES = {
    "snapshot": SNAPSHOT_SQL,
    "latest_as_of": LATEST_AS_OF_SQL,
    "campaigns": CAMPAIGNS_SQL,
    "alignment": ALIGNMENT_SQL,
    "stock": STOCK_SQL,
}


def _money(x: Any) -> float:
    return round(float(x or 0), 2)


def _ratio(x: Any) -> float | None:
    return None if x is None else round(float(x), 2)


def _figures(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    return {
        "spend": _money(row[f"{prefix}spend_amount"]),
        "revenue": _money(row[f"{prefix}revenue_amount"]),
        "roas": _ratio(row[f"{prefix}roas"]),
    }


def latest_as_of(warehouse: Warehouse, brand_id: str, today: date) -> date | None:
    """The last as-of day built before ``today`` (None when the brand was never built)."""
    rows = warehouse.rows(LATEST_AS_OF_SQL, {"brand_id": brand_id, "today": today})
    return rows[0]["as_of_date"] if rows else None


def performance_snapshot(rows: Sequence[Mapping[str, Any]], *, previous: bool = False) -> dict[str, Any]:
    """The dashboard's ``performance_snapshot``: totals, blended ROAS and ``by_channel`` for one period.

    Args:
        rows: ``performance_snapshots`` rows of one brand and as-of day.
        previous: the period before the current one instead of the current one.
    """
    prefix = "prev_" if previous else ""
    blended = next((r for r in rows if r["scope"] == "blended"), None)
    out: dict[str, Any] = {
        "total_spend": _money(blended[f"{prefix}spend_amount"]) if blended else 0.0,
        "total_revenue": _money(blended[f"{prefix}revenue_amount"]) if blended else 0.0,
        "blended_roas": _ratio(blended[f"{prefix}roas"]) if blended else None,
        "by_channel": {
            r["channel"]: _figures(r, prefix)
            for r in sorted(rows, key=lambda r: str(r["channel"]))
            if r["scope"] == "channel"
        },
    }
    return out


def weekly_performance(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The AI context's ``performance``: ``current_week`` and ``previous_week`` in the snapshot shape."""
    return {"current_week": performance_snapshot(rows), "previous_week": performance_snapshot(rows, previous=True)}


def channel_drilldown(
    warehouse: Warehouse,
    brand_id: str,
    channel: str,
    as_of: date,
    *,
    attribution_model: str = "last_touch",
    period_days: int = 7,
    top: int = 5,
) -> dict[str, Any]:
    """The plan's ``GET /drilldown/channel/{channel}`` body (recommendations are the decisions layer's).

    Seven parameters, justified: the warehouse, brand, channel and day say which drilldown; the keyword-only
    attribution model, period and list length default to the plan's.
    """
    params = {"brand_id": brand_id, "as_of_date": as_of, "channel": channel,
              "attribution_model": attribution_model, "period_days": period_days}
    snaps = [r for r in warehouse.rows(SNAPSHOT_SQL, params) if r["channel"] == channel]
    total = next((r for r in snaps if r["scope"] == "channel"), None)
    by_geo = {
        (r["region_code"] or r["country_code"]): _figures(r)
        for r in sorted(snaps, key=lambda r: (-float(r["spend_amount"] or 0), str(r["country_code"]),
                                              str(r["region_code"])))
        if r["scope"] == "channel_region"
    }
    # ties (equal or no spend) by id: the rows come in whatever order the warehouse read them, and the
    # cut at ``top`` must not depend on it
    campaigns = sorted(warehouse.rows(CAMPAIGNS_SQL, params),
                       key=lambda r: (-(r["spend"] or 0), str(r["campaign_id"])))[:top]
    alignment = [r for r in warehouse.rows(ALIGNMENT_SQL, params) if r["channel"] == channel]
    promoted = sorted({r["product_id"] for r in alignment if (r["spend_amount"] or 0) > 0})
    mismatches = _top_mismatches([r for r in alignment if r["mismatch_type"] != "aligned"], top)
    return {
        "channel": channel,
        "as_of_date": as_of.isoformat(),
        "performance": {
            "total_spend": _money(total["spend_amount"]) if total else 0.0,
            "total_revenue": _money(total["revenue_amount"]) if total else 0.0,
            "roas": _ratio(total["roas"]) if total else None,
            "by_geo": by_geo,
        },
        "top_campaigns": [
            {"id": r["campaign_id"], "name": r["campaign_name"], "spend": _money(r["spend"]),
             "roas": _ratio(r["revenue"] / r["spend"]) if r["spend"] else None}
            for r in campaigns
        ],
        "inventory_alignment": {
            "products_promoted": promoted,
            "mismatches": [
                {"product": r["product_id"], "issue": r["mismatch_type"], "region": r["region_code"],
                 "days_cover": _ratio(r["days_of_cover"]), "spend": _money(r["spend_amount"])}
                for r in mismatches
            ],
        },
    }


SEVERITY = {"spending_on_stockout": 0, "overspending_low_stock": 1, "underspending_overstock": 2, "aligned": 3}


def _top_mismatches(rows: Sequence[Mapping[str, Any]], limit: int) -> list[Mapping[str, Any]]:
    """Worst first: stockout spend, then low-stock overspend, then idle overstock; bigger spend first."""
    # down to the row's key (product, channel, country, region): the cut at ``limit`` must not depend on
    # the order the warehouse returned the rows in
    return sorted(rows, key=lambda r: (SEVERITY[r["mismatch_type"]], -float(r["spend_amount"] or 0),
                                       str(r["product_id"]), str(r.get("channel")), str(r.get("country_code")),
                                       str(r["region_code"])))[:limit]


def headline_findings(warehouse: Warehouse, brand_id: str, today: date, *, limit: int = 5) -> dict[str, Any]:
    """A brand's headline for the demo's table: channels week over week, top mismatches, stock issues.

    Reads the latest as-of day built before ``today``; ``as_of_date`` is None when nothing was built.
    """
    as_of = latest_as_of(warehouse, brand_id, today)
    if as_of is None:
        return {"brand_id": brand_id, "as_of_date": None, "blended": None, "channels": [], "mismatches": [],
                "stock_issues": []}
    params = {"brand_id": brand_id, "as_of_date": as_of}
    snaps = warehouse.rows(SNAPSHOT_SQL, params)
    blended = next((r for r in snaps if r["scope"] == "blended"), None)
    channels = [
        {"channel": r["channel"], **_figures(r), "previous_roas": _ratio(r["prev_roas"]),
         "roas_change_pct": _ratio(None if r["roas_change_pct"] is None else 100 * r["roas_change_pct"]),
         "spend_change_pct": _ratio(None if r["spend_change_pct"] is None else 100 * r["spend_change_pct"])}
        for r in sorted(snaps, key=lambda r: (-float(r["spend_amount"] or 0), str(r["channel"])))
        if r["scope"] == "channel"
    ]
    alignment = warehouse.rows(ALIGNMENT_SQL, params)
    products = [r for r in alignment if r["level"] == "product" and r["mismatch_type"] != "aligned"]
    mismatches = [
        {"product_id": r["product_id"], "mismatch": r["mismatch_type"], "spend": _money(r["spend_amount"]),
         "spend_share_pct": _ratio(None if r["spend_share"] is None else 100 * r["spend_share"]),
         "inventory_units": r["inventory_units"], "days_of_cover": _ratio(r["days_of_cover"]),
         "regions": sorted({a["region_code"] or a["country_code"] for a in alignment
                            if a["level"] != "product" and a["product_id"] == r["product_id"]
                            and a["mismatch_type"] == r["mismatch_type"]})}
        for r in _top_mismatches(products, limit)
    ]
    advertised = {r["product_id"] for r in alignment if r["level"] == "product" and (r["spend_amount"] or 0) > 0}
    issues = [
        {"product_id": r["product_id"], "sku": r["sku"], "location_id": r["location_id"],
         "available": r["available"], "days_of_cover": _ratio(r["days_of_cover"]), "status": r["cover_status"],
         "advertised": r["product_id"] in advertised,
         "projected_stockout_date": r["projected_stockout_date"].isoformat() if r["projected_stockout_date"] else None}
        for r in warehouse.rows(STOCK_SQL, params)
    ]
    # advertised stock problems first (spend is still pushing them), then the least cover
    issues.sort(key=lambda i: (not i["advertised"], i["days_of_cover"] or 0.0, str(i["sku"]), i["location_id"]))
    return {
        "brand_id": brand_id,
        "as_of_date": as_of.isoformat(),
        "currency": blended["currency"] if blended else None,
        "blended": ({"spend": _money(blended["spend_amount"]), "revenue": _money(blended["revenue_amount"]),
                     "roas": _ratio(blended["roas"]), "previous_roas": _ratio(blended["prev_roas"])}
                    if blended else None),
        "channels": channels,
        "mismatches": mismatches,
        "stock_issues": issues[:limit],
    }

