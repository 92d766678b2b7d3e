"""Orders, line items, refunds and cancellations, customers and their journeys — vectorised.

Money definitions (store currency, exact cents):

* ``subtotal_amount`` = Σ line price × quantity, before discounts.
* ``discount_amount`` = Σ line discounts (a code of 10/15/20 % on a share of orders, split over
  the lines and rounded down per line, so the order's discount is exactly the sum of its lines').
* ``shipping_amount``: flat rate below the free-shipping threshold, more across a border, none at POS.
* ``tax_amount`` = (subtotal − discount + shipping) × the region's rate, rounded half up.
* ``total_amount`` = subtotal − discount + shipping + tax.
* ``refunded_amount`` = merchandise refunded: Σ over refund lines of the refunded units' price less
  their share of the line discount. Refunded tax and shipping are not in it (they are in the raw
  refunds table), so that
* ``net_revenue_amount`` = subtotal − discount − refunded_amount, which is 0 for a cancelled order
  (cancelling refunds everything) and never negative.

Cancellations happen the same store-local day as the order (a customer changing their mind, a
fraud check) and return the stock before the day's inventory snapshot; refunds come 2-25 days
later and do not restock (returned goods are not resold).
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from urllib.parse import quote

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tower.names import AD_PLATFORMS
from tower_dev.world.ads import TAGGED_SHARE, Campaign, SpendCells
from tower_dev.world.context import BrandContext
from tower_dev.world.schema import arrow, build_table, const, dates, lit, money, strings, timestamps
from tower_dev.world.text import as_text, concat, gid, scatter, take, tokens, where

DRIVEN_SHARE = 0.55  # of orders, driven by ad campaigns (the rest organic, email, direct, POS)
LINES_POISSON = 1.9  # extra lines per order: 1 + min(Poisson(1.9), 7) → ~2.9 lines
QTY = (np.array([1, 2, 3]), np.array([0.86, 0.11, 0.03]))
CHANNELS = ("web", "shop", "shopify_draft_order", "pos")
_ORGANIC_CHANNEL_P = np.array([0.90, 0.05, 0.03, 0.02])
CANCEL_RATE = 0.02
REFUND_RATE = 0.06
FULL_REFUND_SHARE = 0.4
DISCOUNT_RATE = 0.18
# Order times by local hour: quiet at night, busiest in the evening.
_HOURLY = np.array(
    [
        2,
        1.2,
        0.8,
        0.6,
        0.6,
        0.8,
        1.5,
        2.5,
        3.5,
        4.2,
        4.6,
        4.8,
        5.0,
        4.9,
        4.7,
        4.6,
        4.7,
        5.0,
        5.6,
        6.2,
        6.6,
        6.3,
        5.0,
        3.4,
    ]
)
_HOURLY_CDF = np.cumsum(_HOURLY) / _HOURLY.sum()

# fmt: off
_FIRST = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas", "Mia",
    "Mateo", "Amelia", "Ethan", "Harper", "Henry", "Evelyn", "Leo", "Abigail", "Jack", "Emily",
    "Daniel", "Ella", "Michael", "Aria", "Samuel", "Scarlett", "Sebastian", "Chloe", "David", "Grace",
    "Joseph", "Nora", "Carter", "Lily", "Owen", "Zoë", "Wyatt", "Hannah", "John", "Layla", "Julian",
    "Priya", "Ravi", "Mei", "Wei", "Aisha", "Omar", "Sofía", "José", "Fatima", "Hiroshi", "Yuki",
    "Chloé", "Mathieu", "Nadia", "Kwame", "Amara", "Ingrid", "Lars",
)
_LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez",
    "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
    "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell",
    "Carter", "Roberts", "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Patel", "Kim", "O'Brien",
    "Singh", "Chen",
)
_STREETS = (
    "Maple", "Oak", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park", "Main", "Sunset",
    "Highland", "River", "Church", "Spring", "Mill", "Forest", "Meadow", "Ridge", "Union",
)
# fmt: on
_SUFFIX = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Way")
_META_ADS = ("Carousel | Bestsellers", "Video 15s | Hook A", "Static | Offer", "Reel | UGC Review")


@dataclass
class Demand:
    """Orders and lines before stock decides which can be sold (sorted by created_at)."""

    created: np.ndarray  # epoch seconds
    day: np.ndarray  # store-local day index
    region: np.ndarray
    campaign: np.ndarray  # -1 = not ad-driven
    cell: np.ndarray  # spend cell that drove it, -1
    channel: np.ndarray  # index into CHANNELS
    tagged: np.ndarray  # bool: landing page carries the campaign's UTM tags
    line_order: np.ndarray
    line_variant: np.ndarray
    line_qty: np.ndarray
    line_promoted: np.ndarray  # bool: the product the ad promoted

    @property
    def n_orders(self) -> int:
        return self.created.size

    def subset(self, keep_lines: np.ndarray) -> Demand:
        """Drop lines; drop an ad-driven order whose promoted line went, and orders left empty."""
        dropped_promoted = (
            np.bincount(self.line_order[~keep_lines & self.line_promoted], minlength=self.n_orders) > 0
        )
        has_line = np.bincount(self.line_order[keep_lines], minlength=self.n_orders) > 0
        keep_orders = has_line & ~dropped_promoted
        keep_lines = keep_lines & keep_orders[self.line_order]
        new_index = np.cumsum(keep_orders) - 1
        return Demand(
            created=self.created[keep_orders],
            day=self.day[keep_orders],
            region=self.region[keep_orders],
            campaign=self.campaign[keep_orders],
            cell=self.cell[keep_orders],
            channel=self.channel[keep_orders],
            tagged=self.tagged[keep_orders],
            line_order=new_index[self.line_order[keep_lines]],
            line_variant=self.line_variant[keep_lines],
            line_qty=self.line_qty[keep_lines],
            line_promoted=self.line_promoted[keep_lines],
        )


def expected_order_value(ctx: BrandContext, campaigns: list[Campaign]) -> np.ndarray:
    """Expected net revenue (store currency) of an order driven by each campaign.

    The promoted product's price plus ~1.9 cross-sold lines, less the average discount, refund and
    cancellation losses. Only sizes the Poisson means; the spend calibration absorbs the rest.
    """
    cat = ctx.catalog
    e_qty = float((QTY[0] * QTY[1]).sum())
    cross, cross_w = cross_sell_pool(ctx)
    e_cross = float((cat.v_price[cross] * cross_w).sum()) / 100 * e_qty
    keep = (1 - DISCOUNT_RATE * 0.15) * (1 - REFUND_RATE * 0.6) * (1 - CANCEL_RATE)
    first = np.array([float((cat.v_price[c.pool] * c.pool_weights).sum()) / 100 * e_qty for c in campaigns])
    return (first + LINES_POISSON * e_cross) * keep


def cross_sell_pool(ctx: BrandContext) -> tuple[np.ndarray, np.ndarray]:
    """Variants that join an ad-driven order besides the promoted one: anything but clean and draft.

    Clean products never ride along with ad-driven orders, so no campaign can be credited with them.
    """
    cat = ctx.catalog
    pool = np.flatnonzero(~np.isin(cat.v_role, ["clean", "draft"]))
    w = cat.v_popularity[pool]
    return pool, w / w.sum()


def organic_pool(ctx: BrandContext) -> tuple[np.ndarray, np.ndarray]:
    """Variants of organic orders: products no campaign promotes (incl. clean and retired ones).

    Keeping advertised products out of organic orders means geo + time attribution, which only
    credits campaigns promoting one of the order's products, does not mistake organic sales for
    ad-driven ones (the world's ROAS truth stays what a sound model finds).
    """
    cat = ctx.catalog
    pool = np.flatnonzero(np.isin(cat.v_role, ["unpromoted", "clean", "archived", "deleted"]))
    w = cat.v_popularity[pool]
    return pool, w / w.sum()


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    hour = np.searchsorted(_HOURLY_CDF, rng.random(n), side="right")
    return (np.minimum(hour, 23) + rng.random(n)) / 24.0


def draw_demand(
    ctx: BrandContext,
    campaigns: list[Campaign],
    cells: SpendCells,
    counts: np.ndarray,
    organic_per_day: float,
    rng: np.random.Generator,
) -> Demand:
    """Every order customers would place, ad-driven and organic, with its lines."""
    days = ctx.days
    # Ad-driven: one per unit of the cell's Poisson count, clicked on the cell's account-local day.
    cell_idx = np.repeat(np.arange(counts.size), counts)
    d_campaign = cells.campaign[cell_idx]
    d_day = cells.day[cell_idx]
    platform_of = np.array([c.platform for c in campaigns])[d_campaign] if cell_idx.size else np.array([])
    click = np.zeros(cell_idx.size, dtype=np.int64)
    for p, starts in ctx.account_starts.items():
        m = platform_of == p
        day_len = starts[d_day[m] + 1] - starts[d_day[m]]
        click[m] = starts[d_day[m]] + (_time_of_day(rng, int(m.sum())) * day_len).astype(np.int64)
    soon = rng.random(cell_idx.size) < 0.75
    lag = np.where(soon, rng.integers(60, 7200, cell_idx.size), rng.integers(7200, 108_000, cell_idx.size))
    d_created = click + lag
    d_tagged = np.zeros(cell_idx.size, dtype=bool)  # decided by assign_tags once revenue is known

    # Organic: a daily count spread over the store's day, regions weighted like population.
    per_day = rng.poisson(organic_per_day * _weekday_orders(ctx.weekday))
    o_day = np.repeat(np.arange(days), per_day)
    day_len = ctx.store_starts[o_day + 1] - ctx.store_starts[o_day]
    o_created = ctx.store_starts[o_day] + (_time_of_day(rng, o_day.size) * day_len).astype(np.int64)
    o_region = rng.choice(len(ctx.regions), size=o_day.size, p=ctx.region_weights)
    o_channel = rng.choice(len(CHANNELS), size=o_day.size, p=_ORGANIC_CHANNEL_P)
    pos = o_channel == CHANNELS.index("pos")
    home = next(i for i, r in enumerate(ctx.regions) if r.code == ctx.locations[0].region)
    o_region[pos] = home  # POS sales happen at the first location's shop counter

    created = np.concatenate([d_created, o_created])
    region = np.concatenate([cells.region[cell_idx], o_region])
    campaign = np.concatenate([d_campaign, np.full(o_day.size, -1)])
    cell = np.concatenate([cell_idx, np.full(o_day.size, -1)])
    channel = np.concatenate([np.zeros(cell_idx.size, dtype=np.int64), o_channel])
    tagged = np.concatenate([d_tagged, np.zeros(o_day.size, dtype=bool)])
    inside = (created >= ctx.world_start) & (created < ctx.world_end)
    order = np.flatnonzero(inside)
    order = order[np.argsort(created[order], kind="stable")]
    created, region, campaign, cell, channel, tagged = (
        a[order] for a in (created, region, campaign, cell, channel, tagged)
    )
    day = np.searchsorted(ctx.store_starts, created, side="right") - 1

    # Lines: the promoted product first for ad-driven orders, then cross-sells / organic picks.
    n = created.size
    n_lines = 1 + np.minimum(rng.poisson(LINES_POISSON, n), 7)
    line_order = np.repeat(np.arange(n), n_lines)
    starts = np.cumsum(n_lines) - n_lines
    position = np.arange(line_order.size) - starts[line_order]
    line_campaign = campaign[line_order]
    line_day = day[line_order]
    variant = np.empty(line_order.size, dtype=np.int64)
    promoted = (position == 0) & (line_campaign >= 0)
    for c in campaigns:
        m = promoted & (line_campaign == c.index)
        variant[m] = rng.choice(c.pool, size=int(m.sum()), p=c.pool_weights)
    cross, cross_w = cross_sell_pool(ctx)
    org, org_w = organic_pool(ctx)
    m = ~promoted & (line_campaign >= 0)
    variant[m] = _pick(ctx, rng, cross, cross_w, line_day[m])
    m = line_campaign < 0
    variant[m] = _pick(ctx, rng, org, org_w, line_day[m])
    qty = rng.choice(QTY[0], size=line_order.size, p=QTY[1])

    # One line per variant in an order (a second pick of the same SKU adds to its quantity).
    key = line_order * ctx.catalog.n_variants + variant
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    first_sorted = np.argsort(first, kind="stable")  # keep the pick order within an order
    qty_u = np.bincount(inverse, weights=qty).astype(np.int64)
    prom_u = np.bincount(inverse, weights=promoted).astype(bool) if uniq.size else np.array([], bool)
    return Demand(
        created=created,
        day=day,
        region=region,
        campaign=campaign,
        cell=cell,
        channel=channel,
        tagged=tagged,
        line_order=line_order[first][first_sorted],
        line_variant=variant[first][first_sorted],
        line_qty=qty_u[first_sorted],
        line_promoted=prom_u[first_sorted],
    )


def assign_tags(
    demand: Demand, campaigns: list[Campaign], net_cents: np.ndarray, days: int, rng: np.random.Generator
) -> None:
    """Mark which ad-driven orders carry their campaign's UTM tags (``demand.tagged``, in place).

    Per platform and store-local day, orders in random order are tagged until the tagged share of
    net revenue reaches the platform's ``TAGGED_SHARE``: the UTM-only view of any week is then the
    truth times that share (to within one order), not a noisy sample of it. Orders with no net
    revenue (cancelled) are tagged with that probability.
    """
    driven = np.flatnonzero(demand.campaign >= 0)
    platform = np.array([AD_PLATFORMS.index(c.platform) for c in campaigns])[demand.campaign[driven]]
    share = np.array([TAGGED_SHARE[p] for p in AD_PLATFORMS])[platform]
    key = platform * days + demand.day[driven]
    order = np.lexsort((rng.random(driven.size), key))
    value = net_cents[driven][order].astype(float)
    k = key[order]
    cum = np.cumsum(value)
    starts = np.r_[0, np.flatnonzero(np.diff(k)) + 1]
    group = np.cumsum(np.r_[0, (np.diff(k) != 0).astype(np.int64)])
    before = cum - value - (cum[starts] - value[starts])[group]
    total = np.bincount(group, weights=value)
    tagged = before < share[order] * total[group]
    free = value == 0
    tagged[free] = rng.random(int(free.sum())) < share[order][free]
    demand.tagged[:] = False
    demand.tagged[driven[order]] = tagged


def _weekday_orders(weekday: np.ndarray) -> np.ndarray:
    pattern = np.array([1.02, 0.99, 0.98, 1.0, 1.0, 1.0, 1.01])
    return pattern[weekday]


def _pick(
    ctx: BrandContext, rng: np.random.Generator, pool: np.ndarray, weights: np.ndarray, day: np.ndarray
) -> np.ndarray:
    """Draw variants from a pool; a product not on sale that day is replaced by an always-sold one."""
    cat = ctx.catalog
    out = rng.choice(pool, size=day.size, p=weights)
    bad = (day < cat.v_sell_from[out]) | (day >= cat.v_sell_until[out])
    if bad.any():
        always = (cat.v_sell_from[pool] == 0) & (cat.v_sell_until[pool] >= ctx.days)
        w = weights * always
        out[bad] = rng.choice(pool, size=int(bad.sum()), p=w / w.sum())
    return out


@dataclass
class OrderBook:
    """Final orders with money, cancellations and refunds (all amounts in cents)."""

    demand: Demand
    cancelled: np.ndarray
    cancelled_at: np.ndarray
    line_price: np.ndarray
    line_discount: np.ndarray
    line_refunded_qty: np.ndarray
    subtotal: np.ndarray
    discount: np.ndarray
    shipping: np.ndarray
    tax: np.ndarray
    total: np.ndarray
    refunded: np.ndarray
    net: np.ndarray
    updated_at: np.ndarray
    # refund rows (one per refunded line)
    refund_no: np.ndarray  # sequence number of the refund (per brand)
    refund_order: np.ndarray
    refund_line: np.ndarray
    refund_qty: np.ndarray
    refund_amount: np.ndarray
    refund_tax: np.ndarray
    refund_shipping: np.ndarray
    refund_at: np.ndarray
    refund_kind: np.ndarray  # 0 refund, 1 cancellation


def choose_cancellations(
    ctx: BrandContext, demand: Demand, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Which orders are cancelled, and when (same store-local day)."""
    n = demand.n_orders
    cancelled = (rng.random(n) < CANCEL_RATE) & (demand.channel != CHANNELS.index("pos"))
    day_end = ctx.store_starts[demand.day + 1]
    at = demand.created + rng.integers(300, 21_600, n)
    at = np.minimum(at, day_end - 1)
    return cancelled, np.where(cancelled, at, -1)


def settle(
    ctx: BrandContext,
    demand: Demand,
    cancelled: np.ndarray,
    cancelled_at: np.ndarray,
    rng: np.random.Generator,
) -> OrderBook:
    """Prices, discounts, shipping, tax, refunds (see the module doc for the definitions)."""
    cat = ctx.catalog
    n = demand.n_orders
    lo = demand.line_order
    price = cat.v_price[demand.line_variant]
    line_sub = price * demand.line_qty
    has_code = (rng.random(n) < DISCOUNT_RATE) & (demand.channel != CHANNELS.index("pos"))
    pct = np.where(has_code, rng.choice([10, 15, 20], size=n), 0)
    line_disc = line_sub * pct[lo] // 100
    subtotal = np.bincount(lo, weights=line_sub, minlength=n).astype(np.int64)
    discount = np.bincount(lo, weights=line_disc, minlength=n).astype(np.int64)
    home_country = ctx.locations[0].country
    country = np.array([r.country for r in ctx.regions])[demand.region]
    free_over = int(7500 * ctx.currency_scale)
    flat = round(6.95 * ctx.currency_scale * 100)
    shipping = np.where(subtotal - discount >= free_over, 0, flat)
    shipping = np.where(country != home_country, round(14.95 * ctx.currency_scale * 100), shipping)
    shipping = np.where(demand.channel == CHANNELS.index("pos"), 0, shipping).astype(np.int64)
    rate = np.array([r.tax_rate for r in ctx.regions])[demand.region]
    tax = np.floor((subtotal - discount + shipping) * rate + 0.5).astype(np.int64)
    total = subtotal - discount + shipping + tax

    # Refunds: one per refunded order, 2-25 days later, only if that is before the world ends.
    line_count = np.bincount(lo, minlength=n)
    line_start = np.cumsum(line_count) - line_count
    refunded = (rng.random(n) < REFUND_RATE) & ~cancelled
    when = demand.created + rng.integers(2 * 86_400, 25 * 86_400, n)
    refunded &= when < ctx.world_end
    full = refunded & (rng.random(n) < FULL_REFUND_SHARE)
    partial = refunded & ~full
    whole = full | cancelled  # everything goes back
    at = np.where(cancelled, cancelled_at, when)

    # rows of whole refunds: every line of the order
    w_lines = np.flatnonzero(whole[lo])
    w_order = lo[w_lines]
    w_qty = demand.line_qty[w_lines]
    w_amount = line_sub[w_lines] - line_disc[w_lines]
    w_tax = np.floor(w_amount * rate[w_order] + 0.5).astype(np.int64)
    # the order's first line carries the shipping and the tax rounding, so the order's whole tax
    # and shipping come back exactly
    first_row = w_lines == line_start[w_order]
    w_tax_sum = np.bincount(w_order, weights=w_tax, minlength=n).astype(np.int64)
    w_tax = w_tax + np.where(first_row, tax[w_order] - w_tax_sum[w_order], 0)
    w_ship = np.where(first_row, shipping[w_order], 0)
    # rows of partial refunds: one line, usually one unit
    p_order = np.flatnonzero(partial)
    p_lines = line_start[p_order] + (rng.random(p_order.size) * line_count[p_order]).astype(np.int64)
    q = demand.line_qty[p_lines]
    p_qty = np.where((q > 1) & (rng.random(p_order.size) < 0.3), q, 1)
    p_amount = price[p_lines] * p_qty - line_disc[p_lines] * p_qty // q
    p_tax = np.floor(p_amount * rate[p_order] + 0.5).astype(np.int64)

    r_order = np.concatenate([w_order, p_order])
    r_line = np.concatenate([w_lines, p_lines])
    r_qty = np.concatenate([w_qty, p_qty])
    r_amount = np.concatenate([w_amount, p_amount]).astype(np.int64)
    r_tax = np.concatenate([w_tax, p_tax])
    r_ship = np.concatenate([w_ship, np.zeros(p_order.size, dtype=np.int64)])
    r_at = at[r_order]
    r_kind = cancelled[r_order].astype(np.int64)
    sort = np.lexsort((r_line, r_at))
    r_order, r_line, r_qty, r_amount, r_tax, r_ship, r_at, r_kind = (
        a[sort] for a in (r_order, r_line, r_qty, r_amount, r_tax, r_ship, r_at, r_kind)
    )
    # one refund per order: number them in time order
    ord_first = np.unique(r_order, return_index=True)[1]
    refund_seq = np.full(n, -1)
    refund_seq[r_order[np.sort(ord_first)]] = np.arange(ord_first.size)
    r_no = refund_seq[r_order]

    refunded_amount = np.bincount(r_order, weights=r_amount, minlength=n).astype(np.int64)
    line_refunded_qty = np.bincount(r_line, weights=r_qty, minlength=lo.size).astype(np.int64)
    net = subtotal - discount - refunded_amount
    fulfilled = demand.created + rng.integers(3 * 3600, 40 * 3600, n)
    fulfilled = np.where(cancelled | (fulfilled >= ctx.world_end), demand.created, fulfilled)
    last_refund = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_refund, r_order, r_at)
    updated = np.maximum.reduce([demand.created, fulfilled, cancelled_at, last_refund])
    return OrderBook(
        demand=demand,
        cancelled=cancelled,
        cancelled_at=cancelled_at,
        line_price=price,
        line_discount=line_disc,
        line_refunded_qty=line_refunded_qty,
        subtotal=subtotal,
        discount=discount,
        shipping=shipping,
        tax=tax,
        total=total,
        refunded=refunded_amount,
        net=net,
        updated_at=updated,
        refund_no=r_no,
        refund_order=r_order,
        refund_line=r_line,
        refund_qty=r_qty,
        refund_amount=r_amount,
        refund_tax=r_tax,
        refund_shipping=r_ship,
        refund_at=r_at,
        refund_kind=r_kind,
    )


def customer_hashes(salt: str, customer_gids: list[str]) -> list[str]:
    """``tower.privacy.customer_hash`` for many ids: the same HMAC-SHA256 (RFC 2104), keyed once.

    The key pads are hashed once and copied per id instead of re-deriving them in ``hmac.new``
    for every customer, which makes a million orders several times cheaper; a test checks the
    result equals ``customer_hash`` id for id.
    """
    key = salt.encode()
    if len(key) > 64:
        key = sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = sha256(bytes(b ^ 0x36 for b in key))
    outer = sha256(bytes(b ^ 0x5C for b in key))
    out = []
    for cid in customer_gids:
        i = inner.copy()
        i.update(cid.encode())
        o = outer.copy()
        o.update(i.digest())
        out.append(o.hexdigest())
    return out


@dataclass
class IdRanges:
    """Numeric parts of the gids (Shopify-like sizes, all below 2**53)."""

    order: np.ndarray
    line: np.ndarray
    refund: np.ndarray
    customer_base: int


def assign_ids(ctx: BrandContext, book: OrderBook, rng: np.random.Generator) -> IdRanges:
    """Ids increase with time, with gaps (other shops share Shopify's id sequences)."""
    b = ctx.brand_no
    n = book.demand.n_orders
    order = 5_800_000_000_000 + b * 10**10 + np.cumsum(rng.integers(1, 5, n))
    line = 14_900_000_000_000 + b * 10**11 + np.cumsum(rng.integers(1, 4, book.demand.line_order.size))
    n_ref = int(book.refund_no.max()) + 1 if book.refund_no.size else 0
    refund = 960_000_000_000 + b * 10**9 + np.cumsum(rng.integers(1, 6, n_ref))
    return IdRanges(order=order, line=line, refund=refund, customer_base=7_300_000_000_000 + b * 10**10)


def order_tables(
    ctx: BrandContext,
    book: OrderBook,
    ids: IdRanges,
    campaigns: list[Campaign],
    product_gids: list[str],
    variant_gids: list[str],
    salt: str,
    rng: np.random.Generator,
) -> dict[str, pa.Table]:
    """``orders``, ``order_line_items`` and the raw ``orders`` / ``refunds`` facts."""
    d = book.demand
    n = d.n_orders
    cat = ctx.catalog
    brand_id = ctx.brand_id
    currency = ctx.profile.currency
    order_gid = gid("Order", ids.order)
    order_date = dates(d.day + ctx.first_epoch_day)
    regions = ctx.regions

    # Customers: a pool per region, skewed so some customers come back; POS walk-ins often have none.
    per_region = np.bincount(d.region, minlength=len(regions))
    pool = np.maximum(1, np.ceil(per_region * 0.62)).astype(np.int64)
    offset = np.cumsum(pool) - pool
    local = np.minimum((rng.random(n) ** 1.35 * pool[d.region]).astype(np.int64), pool[d.region] - 1)
    cust = offset[d.region] + local
    walk_in = (d.channel == CHANNELS.index("pos")) & (rng.random(n) < 0.3)
    used, cust_inverse = np.unique(cust, return_inverse=True)
    cust_region = np.repeat(np.arange(len(regions)), pool)[used]
    cust_gid_list = [f"gid://shopify/Customer/{ids.customer_base + int(c)}" for c in used]
    hashes = customer_hashes(salt, cust_gid_list)
    first = rng.integers(0, len(_FIRST), used.size)
    last = rng.integers(0, len(_LAST), used.size)
    first_name = take(_FIRST, first)
    last_name = take(_LAST, last)
    email = concat(
        pc.utf8_lower(first_name),
        ".",
        pc.utf8_lower(pc.replace_substring(last_name, "'", "")),
        as_text(used % 97),
        "@example.com",
    )
    street = concat(
        as_text(rng.integers(1, 9999, used.size)),
        " ",
        take(_STREETS, rng.integers(0, len(_STREETS), used.size)),
        " ",
        take(_SUFFIX, rng.integers(0, len(_SUFFIX), used.size)),
    )
    city_lists = [r.cities for r in regions]
    city_offset = np.cumsum([len(c) for c in city_lists]) - np.array([len(c) for c in city_lists])
    city_count = np.array([len(c) for c in city_lists])
    city = take(
        [c for cl in city_lists for c in cl],
        city_offset[cust_region] + (rng.random(used.size) * city_count[cust_region]).astype(np.int64),
    )
    zips = _postal_codes(regions, cust_region, rng)

    def per_order(arr: pa.Array) -> pa.Array:
        out = arr.take(arrow(cust_inverse))
        return where(walk_in, pa.nulls(n, pa.string()), out)

    customer_id = per_order(strings(cust_gid_list))
    customer_hash = per_order(strings(hashes))
    zip_full = zips.take(arrow(cust_inverse))
    zip_prefix = pc.utf8_slice_codeunits(pc.utf8_upper(pc.replace_substring(zip_full, " ", "")), 0, 3)
    province = take([r.subdivision for r in regions], d.region)
    country = take([r.country for r in regions], d.region)
    region_code = take([r.code for r in regions], d.region)

    journey = _journeys(ctx, d, campaigns, rng)
    sales_channel = take(CHANNELS, d.channel)
    orders = build_table(
        "orders",
        {
            "brand_id": const(brand_id, n),
            "order_id": order_gid,
            "order_name": concat("#", as_text(np.arange(n) + 1001)),
            "order_date": order_date,
            "created_at": timestamps(d.created),
            "processed_at": timestamps(d.created),
            "updated_at": timestamps(book.updated_at),
            "cancelled_at": timestamps(np.maximum(book.cancelled_at, 0), mask=~book.cancelled),
            "currency": const(currency, n),
            "subtotal_amount": money(book.subtotal),
            "discount_amount": money(book.discount),
            "shipping_amount": money(book.shipping),
            "tax_amount": money(book.tax),
            "total_amount": money(book.total),
            "refunded_amount": money(book.refunded),
            "net_revenue_amount": money(book.net),
            "shipping_country_code": country,
            "shipping_region_code": region_code,
            "shipping_zip_prefix": zip_prefix,
            "customer_hash": customer_hash,
            "sales_channel": sales_channel,
            "landing_site": journey["landing"],
            "referrer_url": journey["referrer"],
            "utm_source": journey["utm_source"],
            "utm_medium": journey["utm_medium"],
            "utm_campaign": journey["utm_campaign"],
            "utm_content": journey["utm_content"],
            "utm_term": journey["utm_term"],
            "fbclid": journey["fbclid"],
            "ttclid": journey["ttclid"],
            "gclid": journey["gclid"],
            "journey_source": journey["journey_source"],
            "journey_source_type": journey["journey_source_type"],
            "landing_path": _landing_path(journey["landing"]),
        },
    )
    lo = d.line_order
    lines = build_table(
        "order_line_items",
        {
            "brand_id": const(brand_id, lo.size),
            "order_id": order_gid.take(arrow(lo)),
            "line_item_id": gid("LineItem", ids.line),
            "order_date": order_date.take(arrow(lo)),
            "product_id": take(product_gids, cat.v_product[d.line_variant]),
            "variant_id": take(variant_gids, d.line_variant),
            "sku": take(cat.v_sku, d.line_variant),
            "quantity": d.line_qty,
            "refunded_quantity": book.line_refunded_qty,
            "price_amount": money(book.line_price),
            "discount_amount": money(book.line_discount),
            "currency": const(currency, lo.size),
        },
    )
    platform_of = [c.platform for c in campaigns]
    source = np.where(
        d.campaign >= 0,
        0,
        np.where(
            d.channel == CHANNELS.index("pos"),
            2,
            np.where(d.channel == CHANNELS.index("shopify_draft_order"), 3, 1),
        ),
    )
    raw_orders = pa.table(
        {
            "order_id": order_gid,
            "customer_id": customer_id,
            "email": per_order(email),
            "first_name": per_order(first_name),
            "last_name": per_order(last_name),
            "address1": per_order(street),
            "city": per_order(city),
            "zip": zip_full,
            "province_code": province,
            "country_code": country,
            "landing_page_url": journey["landing"],
            "referrer_url": journey["referrer"],
            # ground truth the warehouse never sees: what really brought the order
            "source": take(("ads", "organic", "pos", "draft_order"), source),
            "driven_platform": take(platform_of, d.campaign),
            "driven_campaign_id": take([c.campaign_id for c in campaigns], d.campaign),
            "is_tagged": arrow(d.tagged),
        }
    )
    r = book
    refund_gid = gid("Refund", ids.refund[r.refund_no]) if r.refund_no.size else strings([])
    raw_refunds = pa.table(
        {
            "refund_id": refund_gid,
            "order_id": order_gid.take(arrow(r.refund_order)),
            "created_at": timestamps(r.refund_at),
            "amount": money(r.refund_amount),
            "currency": const(currency, r.refund_order.size),
            "line_item_id": gid("LineItem", ids.line[r.refund_line]) if r.refund_line.size else strings([]),
            "quantity": arrow(r.refund_qty.astype(np.int64)),
            "tax_amount": money(r.refund_tax),
            "shipping_amount": money(r.refund_shipping),
            "kind": take(("refund", "cancellation"), r.refund_kind),
        }
    )
    return {"orders": orders, "order_line_items": lines, "raw_orders": raw_orders, "raw_refunds": raw_refunds}


def _landing_path(landing: pa.Array) -> pa.Array:
    """The landing pages' paths (``records.landing_path``): scheme, host, query string and fragment dropped."""
    path = pc.replace_substring_regex(landing, r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*", "")
    path = pc.replace_substring_regex(path, r"[?#].*$", "")
    return pc.if_else(pc.equal(path, ""), pa.nulls(len(path), pa.string()), path)


def _postal_codes(regions: list, region_idx: np.ndarray, rng: np.random.Generator) -> pa.Array:
    """US ZIP codes inside the state's ZIP3 range; Canadian codes with the province's first letter."""
    n = region_idx.size
    lo = np.array([r.zip3[0] if r.zip3 else 0 for r in regions])[region_idx]
    hi = np.array([r.zip3[1] if r.zip3 else 0 for r in regions])[region_idx]
    zip5 = (lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)) * 100 + rng.integers(0, 100, n)
    us = pc.utf8_lpad(as_text(zip5), 5, "0")
    letters = [r.postal_letters or "X" for r in regions]
    first_letter = take(
        [lt for ls in letters for lt in ls],
        (np.cumsum([len(ls) for ls in letters]) - [len(ls) for ls in letters])[region_idx]
        + (rng.random(n) * np.array([len(ls) for ls in letters])[region_idx]).astype(np.int64),
    )
    alpha = list("ABCEGHJKLMNPRSTVWXYZ")
    ca = concat(
        first_letter,
        as_text(rng.integers(0, 10, n)),
        take(alpha, rng.integers(0, len(alpha), n)),
        " ",
        as_text(rng.integers(0, 10, n)),
        take(alpha, rng.integers(0, len(alpha), n)),
        as_text(rng.integers(0, 10, n)),
    )
    is_us = np.array([r.country == "US" for r in regions])[region_idx]
    return where(is_us, us, ca)


def _journeys(
    ctx: BrandContext, d: Demand, campaigns: list[Campaign], rng: np.random.Generator
) -> dict[str, pa.Array]:
    """Landing page, referrer, UTM parameters and click ids of every order."""
    n = d.n_orders
    cat = ctx.catalog
    base = f"https://{ctx.profile.shop_domain}"
    first_line = np.unique(d.line_order, return_index=True)[1]
    handle = take(cat.p_handle, cat.v_product[d.line_variant[first_line]])
    product_page = concat(base, "/products/", handle)
    c_platform = np.array([c.platform for c in campaigns] + [""])[d.campaign]
    web = d.channel != CHANNELS.index("pos")
    web &= d.channel != CHANNELS.index("shopify_draft_order")
    out: dict[str, list[tuple[np.ndarray, pa.Array]]] = {
        k: []
        for k in (
            "landing",
            "referrer",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            "utm_term",
            "fbclid",
            "ttclid",
            "gclid",
            "journey_source",
            "journey_source_type",
        )
    }

    def put(key: str, idx: np.ndarray, arr: pa.Array | str) -> None:
        out[key].append((idx, pa.repeat(lit(arr), idx.size) if isinstance(arr, str) else arr))

    camp_utm = [c.utm_campaign for c in campaigns]
    camp_utm_q = [quote(c.utm_campaign, safe="") for c in campaigns]
    keyword = [c.keyword for c in campaigns]
    keyword_q = [quote(c.keyword, safe="") if c.keyword else None for c in campaigns]
    for platform in AD_PLATFORMS:
        idx = np.flatnonzero((c_platform == platform) & d.tagged)
        if idx.size == 0:
            continue
        c = d.campaign[idx]
        page = product_page.take(arrow(idx))
        brand_search = np.array([campaigns[i].kind == "brand" for i in c])
        page = where(brand_search, pa.repeat(lit(base + "/"), idx.size), page)
        has_click = rng.random(idx.size) < 0.92
        if platform == "meta":
            instagram = rng.random(idx.size) < 0.35
            src = take(("facebook", "instagram"), instagram.astype(np.int64))
            ad = rng.integers(0, len(_META_ADS), idx.size)
            content = take(_META_ADS, ad)
            click = tokens(rng, idx.size, 56, "IwAR")
            query = concat(
                "?utm_source=",
                src,
                "&utm_medium=paid_social&utm_campaign=",
                take(camp_utm_q, c),
                "&utm_content=",
                take([quote(a, safe="") for a in _META_ADS], ad),
            )
            query = where(has_click, concat(query, "&fbclid=", click), query)
            put("utm_source", idx, src)
            put("journey_source", idx, src)
            put("utm_medium", idx, "paid_social")
            put("utm_content", idx, content)
            put("fbclid", idx, where(has_click, click, pa.nulls(idx.size, pa.string())))
            put(
                "referrer",
                idx,
                take(("https://l.facebook.com/", "https://l.instagram.com/"), instagram.astype(np.int64)),
            )
        elif platform == "tiktok":
            ad_ids = as_text(17_000_000_000_000_000 + rng.integers(0, 10**15, idx.size))
            click = tokens(rng, idx.size, 48, "E.C.P.")
            query = concat(
                "?utm_source=tiktok&utm_medium=paid_social&utm_campaign=",
                take(camp_utm_q, c),
                "&utm_content=",
                ad_ids,
            )
            query = where(has_click, concat(query, "&ttclid=", click), query)
            put("utm_source", idx, "tiktok")
            put("journey_source", idx, "tiktok")
            put("utm_medium", idx, "paid_social")
            put("utm_content", idx, ad_ids)
            put("ttclid", idx, where(has_click, click, pa.nulls(idx.size, pa.string())))
            put("referrer", idx, "https://www.tiktok.com/")
        else:
            click = tokens(rng, idx.size, 64, "Cj0KCQiA")
            term = take(keyword, c)
            query = concat("?utm_source=google&utm_medium=cpc&utm_campaign=", take(camp_utm_q, c))
            with_term = concat(query, "&utm_term=", take(keyword_q, c))
            query = pc.coalesce(with_term, query)
            query = where(has_click, concat(query, "&gclid=", click), query)
            put("utm_source", idx, "google")
            put("journey_source", idx, "google")
            put("utm_medium", idx, "cpc")
            put("utm_term", idx, term)
            put("gclid", idx, where(has_click, click, pa.nulls(idx.size, pa.string())))
            put("referrer", idx, "https://www.google.com/")
        put("utm_campaign", idx, take(camp_utm, c))
        put("landing", idx, concat(page, query))

    # Ad-driven but untagged (no campaign UTM). What a real store sees of these visits:
    # * Google Ads auto-tagging appends a gclid to every ad click, whatever the final URL's UTMs, so
    #   most arrive with a gclid and the search referrer; the rest are a second visit typed by hand
    #   (no referrer, no click id).
    # * Meta and TikTok append fbclid / ttclid to outbound clicks of ads whose URL lacks UTMs; an
    #   in-app browser that drops the URL's parameters keeps the platform's referrer; view-through
    #   and second visits keep neither.
    # Click ids and the typed-in share come from their own stream, so the rest of the world is unchanged.
    idx = np.flatnonzero((d.campaign >= 0) & ~d.tagged)
    jrng = np.random.default_rng([ctx.params.seed, ctx.brand_no, 15])
    share_click = {"meta": 0.35, "tiktok": 0.35, "google_ads": 0.85}
    share_typed = {"meta": 0.15, "tiktok": 0.15, "google_ads": 0.15}
    # Shopify names a visit's source by its referrer's site; a visit typed by hand is "direct".
    site = {"meta": "facebook", "tiktok": "tiktok", "google_ads": "google"}
    ref = {
        "meta": "https://www.facebook.com/",
        "tiktok": "https://www.tiktok.com/",
        "google_ads": "https://www.google.com/",
    }
    click_col = {
        "meta": ("fbclid", 56, "IwAR"),
        "tiktok": ("ttclid", 48, "E.C.P."),
        "google_ads": ("gclid", 64, "Cj0KCQiA"),
    }
    for platform, url in ref.items():
        mine = idx[c_platform[idx] == platform]
        draw = jrng.random(mine.size)
        has_click = draw < share_click[platform]
        clicked, plain = mine[has_click], mine[~has_click]
        typed = mine[draw >= 1 - share_typed[platform]]
        col, length, prefix = click_col[platform]
        click = tokens(jrng, clicked.size, length, prefix)
        put(col, clicked, click)
        put("landing", clicked, concat(product_page.take(arrow(clicked)), f"?{col}=", click))
        put("landing", plain, product_page.take(arrow(plain)))
        put("referrer", np.setdiff1d(mine, typed), url)
        put("journey_source", np.setdiff1d(mine, typed), site[platform])
        put("journey_source", typed, "direct")

    # Organic web orders: search, direct, email, organic social. Shopify's journey summary names each
    # visit's source and, for these, its marketing tactic (sourceType): SEO, NEWSLETTER, POST.
    idx = np.flatnonzero((d.campaign < 0) & web)
    kind = rng.choice(4, size=idx.size, p=[0.40, 0.33, 0.15, 0.12])
    search, direct, email, social = (idx[kind == k] for k in range(4))
    for part, source, tactic in ((search, "google", "SEO"), (direct, "direct", None), (email, "klaviyo", "NEWSLETTER"),
                                 (social, "instagram", "POST")):
        put("journey_source", part, source)
        if tactic is not None:
            put("journey_source_type", part, tactic)
    put("landing", search, product_page.take(arrow(search)))
    put("referrer", search, "https://www.google.com/")
    put("landing", direct, base + "/")
    put(
        "landing",
        email,
        concat(
            product_page.take(arrow(email)),
            "?utm_source=klaviyo&utm_medium=email&utm_campaign=Weekly%20Newsletter",
        ),
    )
    put("utm_source", email, "klaviyo")
    put("utm_medium", email, "email")
    put("utm_campaign", email, "Weekly Newsletter")
    put("landing", social, product_page.take(arrow(social)))
    put("referrer", social, "https://www.instagram.com/")
    return {k: scatter(n, v) for k, v in out.items()}
