"""Stock per variant × location × day, consistent with the orders.

Each order ships from the location that serves its shipping region (``location_regions``). The
daily snapshot (end of the store-local day) obeys, for every variant and location,

    available[t] = available[t-1] + received[t] - sold[t]

where ``sold`` counts the units of orders placed that day and not cancelled (a same-day
cancellation puts its units back before the snapshot), and ``received`` are purchase orders
arriving (``raw["purchase_orders"]``). ``committed`` is the day's sold units not yet shipped,
``on_hand`` = available + committed, ``incoming`` the open purchase orders.

Stock-outs are decided first (windows where a variant at a location is empty): candidate lines
falling in them are not sold (the first day sells out part-way, first come first served). The
trajectory is then built backward from the stock the story wants on the last day (e.g. 8 days of
cover for SKU-A), adding a receipt whenever the stock going back in time would exceed a ceiling:
stock never goes negative, and each pair's ending is exactly as planted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from tower_dev.world.context import BrandContext
from tower_dev.world.schema import arrow, build_table, const, dates, timestamps
from tower_dev.world.text import take

DOC_WINDOW = 30  # days of sales velocity (the product plan's)
TARGET_DOC = {"low_cover": 8.0, "overstock": 120.0}


@dataclass
class Windows:
    """Stock-out windows: pair (variant × location), first and last day (inclusive), and the share of
    the first day's demand that still sold before the shelf emptied."""

    pair: np.ndarray
    first: np.ndarray
    last: np.ndarray
    first_day_share: np.ndarray

    def out_matrix(self, n_pairs: int, days: int) -> np.ndarray:
        out = np.zeros((n_pairs, days), dtype=bool)
        for p, a, b in zip(self.pair, self.first, self.last, strict=True):
            out[p, a : b + 1] = True
        return out


def plan_stockouts(ctx: BrandContext, rng: np.random.Generator) -> tuple[Windows, dict]:
    """The planted stock-out (SKU-D, at every location, over the last days) plus a few past ones.

    Returns the windows and facts for the manifest.
    """
    cat = ctx.catalog
    n_loc = len(ctx.locations)
    days = ctx.days
    pair, first, last, share = [], [], [], []
    facts: dict = {"stockout_days": 0, "history": []}
    for v in cat.variants_with_role("stockout"):
        k = min(6, max(3, days // 10))
        facts["stockout_days"] = k
        for loc in range(n_loc):
            pair.append(v * n_loc + loc)
            first.append(days - k)
            last.append(days - 1)
            share.append(0.5)
    # Draft products: nothing on hand until their stock arrives, two days after creation.
    for v in cat.variants_with_role("draft"):
        for loc in range(n_loc):
            pair.append(v * n_loc + loc)
            first.append(0)
            last.append(int(cat.v_rows_from[v]) + 1)
            share.append(0.0)
    # A few ordinary SKUs ran out for some days in the past and were restocked (history, not a
    # current problem): stock-outs happen, and velocity must skip those days.
    if days >= 60:
        candidates = cat.variants_with_role("promoted", "unpromoted")
        n_hist = max(1, candidates.size // 12)
        for v in rng.choice(candidates, size=min(n_hist, candidates.size), replace=False):
            loc = int(rng.integers(0, n_loc))
            start = int(rng.integers(5, days - 45))
            length = int(rng.integers(3, 7))
            pair.append(int(v) * n_loc + loc)
            first.append(start)
            last.append(start + length - 1)
            share.append(0.5)
            facts["history"].append((int(v), loc, start, start + length - 1))
    return Windows(
        np.array(pair, dtype=np.int64),
        np.array(first, dtype=np.int64),
        np.array(last, dtype=np.int64),
        np.array(share, dtype=float),
    ), facts


def line_pairs(
    ctx: BrandContext, order_region: np.ndarray, line_order: np.ndarray, line_variant: np.ndarray
) -> np.ndarray:
    """Pair index (variant × location) of each line: its variant at the order's serving location."""
    return line_variant * len(ctx.locations) + ctx.serving[order_region[line_order]]


def in_stock(
    windows: Windows, n_pairs: int, days: int, pair: np.ndarray, day: np.ndarray, qty: np.ndarray
) -> np.ndarray:
    """Which candidate lines can be sold (lines in time order)."""
    out = windows.out_matrix(n_pairs, days)
    share = np.zeros((n_pairs, days))
    share[windows.pair, windows.first] = windows.first_day_share
    hit = out[pair, day]
    keep = ~hit
    first_day = hit & (share[pair, day] > 0)
    idx = np.flatnonzero(first_day)
    if idx.size:
        key = pair[idx] * days + day[idx]
        order = np.argsort(key, kind="stable")  # stable: keeps time order within a group
        idx, key = idx[order], key[order]
        q = qty[idx]
        cum = np.cumsum(q)
        group_start = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
        group_id = np.cumsum(np.r_[0, (np.diff(key) != 0).astype(np.int64)])
        before = cum[group_start] - q[group_start]
        cum_in_group = cum - before[group_id]
        total = np.bincount(group_id, weights=q)
        cap = np.floor(total * share[pair[idx], day[idx]][group_start])
        keep[idx] = cum_in_group <= cap[group_id]
    return keep


@dataclass
class Stock:
    """Daily snapshots per pair (arrays shaped pairs × days) and the purchase orders behind them."""

    available: np.ndarray
    sold: np.ndarray
    received: np.ndarray
    incoming: np.ndarray
    updated_at: np.ndarray
    po_pair: np.ndarray
    po_ordered: np.ndarray
    po_received: np.ndarray  # day index; ≥ days = still open at the end
    po_qty: np.ndarray
    target_end: np.ndarray


def simulate(
    ctx: BrandContext,
    windows: Windows,
    pair: np.ndarray,
    day: np.ndarray,
    qty: np.ndarray,
    sold_mask: np.ndarray,
    line_created: np.ndarray,
    rng: np.random.Generator,
) -> Stock:
    """Build the stock trajectories backward from each pair's planted ending.

    Args:
        pair, day, qty: per sold line (after stock-outs), its pair, store day and quantity.
        sold_mask: lines that count as sold (their order was not cancelled).
        line_created: per line, its order's created_at (epoch s), for ``updated_at``.
    """
    cat = ctx.catalog
    n_loc = len(ctx.locations)
    days = ctx.days
    n_pairs = cat.n_variants * n_loc
    out = windows.out_matrix(n_pairs, days)
    sold = np.zeros((n_pairs, days), dtype=np.int64)
    np.add.at(sold, (pair[sold_mask], day[sold_mask]), qty[sold_mask])

    # Velocity the models will see: last 30 days (in-stock days only), and a whole-history rate
    # that sizes the purchase orders.
    window = min(DOC_WINDOW, days)
    recent = slice(days - window, days)
    v30 = sold[:, recent].sum(axis=1) / window
    open_days = np.maximum(1, (~out).sum(axis=1))
    rate = np.maximum(sold.sum(axis=1) / open_days, 0.05)

    role = np.repeat(cat.v_role, n_loc)
    target = np.zeros(n_pairs)
    for r, cover in TARGET_DOC.items():
        m = role == r
        target[m] = cover * v30[m]
    m = role == "overstock"
    target[m & (v30 == 0)] = rng.integers(30, 60, int((m & (v30 == 0)).sum()))
    m = role == "clean"
    target[m] = rng.uniform(32, 55, int(m.sum())) * v30[m]
    m = np.isin(role, ["promoted", "unpromoted"])
    target[m] = rng.uniform(22, 70, int(m.sum())) * v30[m]
    m = role == "archived"
    target[m] = rng.integers(3, 30, int(m.sum()))
    m = role == "deleted"
    target[m] = rng.integers(0, 15, int(m.sum()))
    m = role == "draft"
    target[m] = rng.integers(80, 200, int(m.sum()))
    end = np.rint(target).astype(np.int64)
    end[(role != "stockout") & (role != "deleted") & (end < 1)] = 1
    end[role == "stockout"] = 0

    floor_cover = rng.uniform(8, 14, n_pairs)
    ceil_cover = rng.uniform(40, 70, n_pairs)
    low = np.maximum(1, np.ceil(rate * floor_cover)).astype(np.int64)
    high = np.maximum.reduce([low + 2, np.ceil(rate * ceil_cover), np.ceil(end * 1.3) + 1]).astype(np.int64)
    lead = rng.integers(7, 22, n_pairs)

    available = np.zeros((n_pairs, days), dtype=np.int64)
    received = np.zeros((n_pairs, days), dtype=np.int64)
    a = end.copy()
    for t in range(days - 1, -1, -1):
        available[:, t] = a
        before = a + sold[:, t]  # stock at the start of day t plus what arrived that day
        r = np.zeros(n_pairs, dtype=np.int64)
        if t > 0:
            emptied = out[:, t - 1]
            r = np.where(emptied, before, r)
            refill = ~emptied & (before > high)
            reorder_to = (low * rng.uniform(1.0, 1.4, n_pairs)).astype(np.int64)
            r = np.where(refill, before - reorder_to, r)
        received[:, t] = r
        a = before - r

    # Purchase orders: each receipt was ordered ``lead`` days before; open POs are "incoming".
    po_pair, po_day = np.nonzero(received)
    po_qty = received[po_pair, po_day]
    po_ordered = np.maximum(0, po_day - lead[po_pair])
    # Open purchase orders at the end for ordinary SKUs running lower (the planted ones get none:
    # SKU-A's story is that nothing is on the way).
    open_po = np.isin(role, ["promoted", "unpromoted", "clean"]) & (end < rate * 30)
    op = np.flatnonzero(open_po)
    op_ordered = days - rng.integers(1, 6, op.size)
    op_qty = np.ceil(rate[op] * 45).astype(np.int64)
    all_pair = np.concatenate([po_pair, op])
    all_ordered = np.concatenate([po_ordered, op_ordered])
    all_received = np.concatenate([po_day, np.full(op.size, days + 10)])
    all_qty = np.concatenate([po_qty, op_qty])
    delta = np.zeros((n_pairs, days + 1), dtype=np.int64)
    np.add.at(delta, (all_pair, all_ordered), all_qty)
    np.add.at(delta, (all_pair, np.minimum(all_received, days)), -all_qty)
    incoming = np.cumsum(delta, axis=1)[:, :days]

    # updated_at: the last change of the day (latest sale or the morning's receipt), else carried.
    updated = np.full((n_pairs, days), -1, dtype=np.int64)
    np.maximum.at(updated, (pair[sold_mask], day[sold_mask]), line_created[sold_mask])
    morning = ctx.store_starts[:days] + 9 * 3600
    updated = np.where((received > 0) & (updated < 0), morning[None, :], updated)
    first_row = np.repeat(cat.v_rows_from, n_loc)
    updated[np.arange(n_pairs), first_row] = np.maximum(
        updated[np.arange(n_pairs), first_row], ctx.store_starts[first_row]
    )
    for t in range(1, days):
        updated[:, t] = np.where(updated[:, t] < 0, updated[:, t - 1], updated[:, t])
    return Stock(
        available=available,
        sold=sold,
        received=received,
        incoming=incoming,
        updated_at=updated,
        po_pair=all_pair,
        po_ordered=all_ordered,
        po_received=all_received,
        po_qty=all_qty,
        target_end=end,
    )


def inventory_tables(
    ctx: BrandContext, stock: Stock, variant_gids: list[str], item_gids: list[str], location_gids: list[str]
) -> tuple[pa.Table, pa.Table]:
    """``inventory_levels`` (rows only while the product exists) and raw purchase orders."""
    cat = ctx.catalog
    n_loc = len(ctx.locations)
    days = ctx.days
    n_pairs = cat.n_variants * n_loc
    variant_of = np.arange(n_pairs) // n_loc
    loc_of = np.arange(n_pairs) % n_loc
    t = np.arange(days)
    exists = (t[None, :] >= cat.v_rows_from[variant_of][:, None]) & (
        t[None, :] < cat.v_rows_until[variant_of][:, None]
    )
    # Rows by day, then item, then location: one day's snapshot is contiguous.
    tt, pp = np.nonzero(exists.T)
    committed = stock.sold[pp, tt]
    levels = build_table(
        "inventory_levels",
        {
            "brand_id": const(ctx.brand_id, tt.size),
            "snapshot_date": dates(tt + ctx.first_epoch_day),
            "inventory_item_id": take(item_gids, variant_of[pp]),
            "variant_id": take(variant_gids, variant_of[pp]),
            "location_id": take(location_gids, loc_of[pp]),
            "available": stock.available[pp, tt],
            "committed": committed,
            "on_hand": stock.available[pp, tt] + committed,
            "incoming": stock.incoming[pp, tt],
            "updated_at": timestamps(stock.updated_at[pp, tt]),
        },
    )
    keep = cat.v_rows_until[stock.po_pair // n_loc] > np.minimum(stock.po_received, days - 1)
    keep &= cat.v_rows_from[stock.po_pair // n_loc] <= np.minimum(stock.po_received, days - 1)
    order = np.lexsort((stock.po_pair[keep], stock.po_ordered[keep]))
    pp = stock.po_pair[keep][order]
    received_day = stock.po_received[keep][order]
    purchase_orders = pa.table(
        {
            "variant_id": take(variant_gids, pp // n_loc),
            "inventory_item_id": take(item_gids, pp // n_loc),
            "location_id": take(location_gids, pp % n_loc),
            "ordered_date": dates(stock.po_ordered[keep][order] + ctx.first_epoch_day),
            # null = not yet received when the world ends
            "received_date": arrow(
                (received_day + ctx.first_epoch_day).astype(np.int32), pa.date32(), mask=received_day >= days
            ),
            "quantity": arrow(stock.po_qty[keep][order].astype(np.int64)),
        }
    )
    return levels, purchase_orders
