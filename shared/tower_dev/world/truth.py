"""The attribution truth check: Shopify-attributed ROAS per channel against the ROAS the world planted.

The world knows which campaign drove every order (``raw["orders"].driven_platform``, never in the warehouse);
the models only see what a store sees (UTMs, click ids, referrers, shipping regions, the platforms' reports).
Per channel, over a build window:

* truth revenue = net revenue of the orders the channel's campaigns drove, store-local order date in the window;
* attributed revenue = ``attributed_orders`` credited to the channel under one attribution model;
* both over the same spend (``attribution_reconciliation``'s, in store currency), so the ROAS error is the
  revenue error: attributed ÷ truth − 1.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from tower.ports import Warehouse
from tower_dev.world.generate import BrandWorld


def driven_revenue(bw: BrandWorld, start: date, end: date) -> dict[str, float]:
    """Net revenue per ad platform of the orders its campaigns drove, order date in ``[start, end)``."""
    orders = {
        o["order_id"]: float(o["net_revenue_amount"] or 0)
        for o in bw.tables["orders"].select(["order_id", "order_date", "net_revenue_amount"]).to_pylist()
        if start <= o["order_date"] < end
    }
    out: dict[str, float] = defaultdict(float)
    for r in bw.raw["orders"].select(["order_id", "driven_platform"]).to_pylist():
        if r["driven_platform"] and r["order_id"] in orders:
            out[r["driven_platform"]] += orders[r["order_id"]]
    return dict(out)


def channel_roas_errors(
    warehouse: Warehouse, bw: BrandWorld, start: date, end: date, attribution_model: str = "last_touch"
) -> dict[str, dict[str, Any]]:
    """Per ad platform: spend, truth and Shopify-attributed ROAS over ``[start, end)`` and the relative error.

    Meant for a build over the world's whole history: the reconciliation's first week starts on the Monday on
    or before ``start``, and the world has no spend before its first day.
    """
    truth = driven_revenue(bw, start, end)
    rows = warehouse.rows(
        "SELECT platform, SUM(spend_amount) AS spend, SUM(shopify_attributed_revenue_amount) AS revenue "
        "FROM attribution_reconciliation WHERE brand_id = @b AND attribution_model = @m "
        "AND week_start < @end AND spend_amount > 0 GROUP BY platform",
        {"b": bw.brand_id, "m": attribution_model, "end": end},
    )
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        spend, revenue = float(r["spend"]), float(r["revenue"])
        true = truth.get(r["platform"], 0.0)
        out[r["platform"]] = {
            "spend": spend,
            "truth_roas": true / spend,
            "shopify_roas": revenue / spend,
            "error": revenue / true - 1 if true else float("inf"),
        }
    return out
