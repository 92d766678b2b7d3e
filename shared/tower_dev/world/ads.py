"""Ad campaigns on Meta, TikTok and Google Ads: what they promote, where and how much they spend, and
what the platforms report.

How spend and orders tie together (so geo + time attribution finds a real signal):

1. Each campaign gets a share of the brand's daily spend, split over the regions it targets
   (population-weighted, with noise) and account-local days.
2. Each spend cell (campaign × account-local day × region) *drives* orders: a Poisson count with
   mean ``spend × target ROAS ÷ expected order value``. Those orders ship to that region and are
   placed a few minutes to ~30 hours after a click on that day (see ``orders.py``).
3. After the orders exist (with their discounts, refunds and stockout losses), spend is calibrated
   per channel and week so that Shopify-truth ROAS — net revenue of the orders a channel drove ÷
   its spend — equals the story's target exactly in every week (weeks counted back from the
   world's last day). A campaign planted to "keep spending on a stockout" is exempt: its spend
   stays as planned, the rest of its channel absorbs the difference.
4. Platform-reported purchases and value are the driven orders of the cell times the channel's
   over-reporting factor (with noise), in the ad account's currency.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from tower.names import AD_PLATFORMS
from tower_dev.world.brands import OVER_REPORT, BrandProfile
from tower_dev.world.catalog import Catalog
from tower_dev.world.geo import Region, platform_region, population_weights
from tower_dev.world.schema import build_table, const, dates, money, timestamps
from tower_dev.world.text import digits, take

# (kind, name, objective, ad_campaign_products.source, ROAS multiplier)
_BACKGROUND = {
    "meta": [
        ("prospecting", "Prospecting | Broad", "OUTCOME_SALES", "product_set", 1.0),
        ("retargeting", "Retargeting | Catalog", "OUTCOME_SALES", "product_set", 1.25),
        ("lookalike", "Lookalike | Purchasers 1%", "OUTCOME_SALES", "product_set", 0.95),
        ("advantage", "Advantage+ Shopping", "OUTCOME_SALES", "product_set", 1.05),
        ("creative", "Creative Test | UGC", "OUTCOME_SALES", "product_set", 0.85),
        ("seasonal", "Seasonal | Gift Guide", "OUTCOME_SALES", "product_set", 0.9),
    ],
    "tiktok": [
        ("prospecting", "Prospecting | Interest Stack", "PRODUCT_SALES", "product_set", 1.0),
        ("spark", "Spark Ads | Creators", "WEB_CONVERSIONS", "destination_url", 0.95),
        ("catalog", "Smart+ Catalog", "PRODUCT_SALES", "product_set", 1.05),
        ("retargeting", "Retargeting | Video Viewers", "WEB_CONVERSIONS", "destination_url", 1.15),
        ("creative", "Creative Test | Hooks", "WEB_CONVERSIONS", "destination_url", 0.85),
    ],
    "google_ads": [
        ("shopping", "Shopping | All Products", "SHOPPING", "shopping_item", 1.0),
        ("brand", "Search | Brand", "SEARCH", "destination_url", 1.6),
        ("pmax", "PMax | Bestsellers", "PERFORMANCE_MAX", "shopping_item", 1.0),
        ("nonbrand", "Search | Non-Brand", "SEARCH", "destination_url", 0.75),
        ("remarketing", "Display | Remarketing", "DISPLAY", "destination_url", 0.9),
    ],
}
_ACTIVE = {"meta": "ACTIVE", "tiktok": "ENABLE", "google_ads": "ENABLED"}
_PAUSED = {"meta": "PAUSED", "tiktok": "DISABLE", "google_ads": "PAUSED"}
# Share of driven orders whose landing page carries the campaign's UTM tags (the rest arrive
# untagged: in-app browsers dropping parameters, view-through, a second visit typed by hand).
TAGGED_SHARE = {"meta": 0.8, "tiktok": 0.75, "google_ads": 0.9}
_CPM = {"meta": 11.0, "tiktok": 7.0, "google_ads": 24.0}
_CTR = {"meta": 0.013, "tiktok": 0.009, "google_ads": 0.025}
_KEYWORDS = ("gift ideas", "best {t}", "{t} sale", "buy {t} online", "{t} near me")
NEVER = 10**9  # stop_day of a campaign that is still running
# Daily spend pattern by weekday (Monday first): a little more on Friday-Sunday.
WEEKDAY_SPEND = np.array([1.0, 0.98, 0.97, 1.0, 1.05, 1.08, 1.04])


@dataclass
class Campaign:
    """One campaign and its spend plan."""

    index: int
    platform: str
    campaign_id: str
    name: str
    objective: str
    role: str  # background | low_cover_pushed | overstock_unsupported | stockout_with_spend
    kind: str
    source: str
    share: float  # of the brand's daily spend
    roas_mult: float
    fixed: bool  # spend is not calibrated (the stockout campaign keeps its planned budget)
    regions: np.ndarray  # region indices targeted
    region_weights: np.ndarray
    pool: np.ndarray  # promoted variant indices
    pool_weights: np.ndarray
    stop_day: int  # spend stops on this day index (paused); = days when active
    ramp: float = 1.0  # spend multiplier over the last 7 days
    budget_id: str = ""
    keyword: str | None = None
    products: list[int] = field(default_factory=list)

    @property
    def status(self) -> str:
        return _ACTIVE[self.platform] if self.stop_day == NEVER else _PAUSED[self.platform]

    @property
    def utm_campaign(self) -> str:
        """What the ad's URL template writes into utm_campaign.

        Meta templates use ``{{campaign.name}}``; TikTok ``__CAMPAIGN_ID__``; Google ``{campaignid}``
        (ValueTrack), so deterministic attribution must match on names and on ids.
        """
        return self.name if self.platform == "meta" else self.campaign_id


@dataclass
class Accounts:
    """The brand's three ad accounts."""

    ids: dict[str, str]
    currency: dict[str, str]
    timezone: dict[str, str]

    def as_dict(self) -> dict[str, dict[str, str]]:
        return {
            p: {"account_id": self.ids[p], "currency": self.currency[p], "timezone": self.timezone[p]}
            for p in AD_PLATFORMS
        }


def make_accounts(profile: BrandProfile, rng: np.random.Generator) -> Accounts:
    """Account ids in each platform's own shape.

    Meta ad account ids are 15-16 digits (used as ``act_<id>`` in paths, bare in insights rows, so
    stored bare); TikTok advertiser ids 19 digits; Google Ads customer ids 10 digits, no dashes.
    """
    ids = {
        "meta": digits(rng, 1, 16)[0],
        "tiktok": "7" + digits(rng, 1, 18)[0],
        "google_ads": digits(rng, 1, 10)[0],
    }
    return Accounts(
        ids=ids,
        currency={p: profile.accounts[p][0] for p in AD_PLATFORMS},
        timezone={p: profile.accounts[p][1] for p in AD_PLATFORMS},
    )


def build_campaigns(
    profile: BrandProfile,
    catalog: Catalog,
    regions: list[Region],
    per_platform: int,
    days: int,
    accounts: Accounts,
    rng: np.random.Generator,
) -> list[Campaign]:
    """Campaigns per platform: the planted ones first (they always fit), then background ones."""
    national_w = population_weights(regions, profile.countries)
    codes = [r.code for r in regions]
    promoted_products = sorted({int(catalog.v_product[v]) for v in catalog.variants_with_role("promoted")})
    prefix = "US" if max(profile.countries, key=profile.countries.__getitem__) == "US" else "CA"
    campaigns: list[Campaign] = []
    meta_ids = iter(f"120{x}" for x in digits(rng, 3 * per_platform, 15))
    tiktok_ids = iter(f"17{x}" for x in digits(rng, 3 * per_platform, 16))
    google_ids = iter(digits(rng, 3 * per_platform, 11))
    google_budgets = iter(digits(rng, 3 * per_platform, 11))
    id_source = {"meta": meta_ids, "tiktok": tiktok_ids, "google_ads": google_ids}

    def targeting(wanted: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        idx = np.array([codes.index(c) for c in wanted if c in codes], dtype=np.int64)
        if idx.size == 0:
            idx = np.arange(len(regions))
        w = national_w[idx] * rng.lognormal(0.0, 0.12, idx.size)
        return idx, w / w.sum()

    for platform in AD_PLATFORMS:
        planted = [s for s in profile.situations if s.platform == platform]
        n_background = per_platform - len(planted)
        if n_background < 1:
            raise ValueError(
                f"campaigns_per_platform={per_platform} leaves no room for {platform}'s "
                f"background campaigns next to {len(planted)} planted ones"
            )
        background_share = max(0.04, profile.channel_share[platform] - sum(s.spend_share for s in planted))
        specs: list[dict] = []
        for s in planted:
            role_name = {
                "low_cover_pushed": "low_cover",
                "overstock_unsupported": "overstock",
                "stockout_with_spend": "stockout",
            }[s.kind]
            pool = catalog.variants_with_role(role_name)
            titles = " + ".join(catalog.p_title[int(catalog.v_product[v])] for v in pool)
            if s.kind == "low_cover_pushed":
                area = "+".join(c.split("-")[1] for c in s.regions) or prefix
                name = {
                    "tiktok": f"Spark Ads | {titles} Push | {area}",
                    "meta": f"Push | {titles} | {area}",
                    "google_ads": f"Shopping | {titles} | {area}",
                }[platform]
                mult = 0.78  # the push converts worse than the channel (ROAS < 2.5)
            elif s.kind == "overstock_unsupported":
                area = "Midwest" if s.regions else prefix
                name = {
                    "meta": f"{area} | Evergreen | {titles}",
                    "tiktok": f"{area} | Catalog | {titles}",
                    "google_ads": f"Shopping | {area} | {titles}",
                }[platform]
                mult = 4.8 / profile.roas[platform][0]  # the plan's strong 4.8x
            else:
                name = {
                    "google_ads": f"Shopping | {titles}",
                    "meta": f"Catalog | {titles}",
                    "tiktok": f"Catalog | {titles}",
                }[platform]
                mult = 1.0
            source = {"meta": "product_set", "tiktok": "product_set", "google_ads": "shopping_item"}[platform]
            if s.kind == "low_cover_pushed" and platform == "tiktok":
                source = "destination_url"
            specs.append(
                {
                    "role": s.kind,
                    "kind": role_name,
                    "name": name,
                    "source": source,
                    "share": s.spend_share,
                    "mult": mult,
                    "fixed": s.kind == "stockout_with_spend",
                    "regions": s.regions,
                    "pool": pool,
                    "objective": _BACKGROUND[platform][0][2],
                }
            )
        weights = 0.6 ** np.arange(n_background)
        weights = weights / weights.sum()
        templates = _BACKGROUND[platform]
        for k in range(n_background):
            kind, name, objective, source, mult = templates[k % len(templates)]
            if k >= len(templates):
                name = f"{name} {k // len(templates) + 1}"
            specs.append(
                {
                    "role": "background",
                    "kind": kind,
                    "name": name,
                    "source": source,
                    "share": background_share * float(weights[k]),
                    "mult": mult * float(rng.lognormal(0.0, 0.05)),
                    "fixed": False,
                    "regions": (),
                    "pool": None,
                    "objective": objective,
                }
            )
        # Every advertised product sits in at least one background campaign of each platform.
        bg = [sp for sp in specs if sp["role"] == "background"]
        members: list[set[int]] = [set() for _ in bg]
        for j, p in enumerate(promoted_products):
            members[j % len(bg)].add(p)
        for m in members:
            extra = rng.random(len(promoted_products)) < 0.5
            m.update(p for p, e in zip(promoted_products, extra, strict=True) if e)
            if not m:  # more campaigns than advertised products: share one
                m.add(promoted_products[int(rng.integers(len(promoted_products)))])
        for sp, m in zip(bg, members, strict=True):
            sp["pool"] = np.flatnonzero(np.isin(catalog.v_product, sorted(m)))
        for k, sp in enumerate(specs):
            paused = sp["role"] == "background" and per_platform >= 4 and k == len(specs) - 1 and days >= 35
            pool = sp["pool"]
            pw = catalog.v_popularity[pool] / catalog.v_popularity[pool].sum()
            ridx, rw = targeting(sp["regions"])
            cid = next(id_source[platform])
            budget = (
                f"customers/{accounts.ids[platform]}/campaignBudgets/{next(google_budgets)}"
                if platform == "google_ads"
                else cid
            )
            keyword = None
            if sp["objective"] == "SEARCH":
                word = catalog.p_type[0].lower()
                keyword = (
                    profile.name.lower()
                    if sp["kind"] == "brand"
                    else _KEYWORDS[int(rng.integers(len(_KEYWORDS)))].format(t=word)
                )
            name = f"{prefix} | {sp['name']}"
            if any(c.name == name for c in campaigns):  # names are unique within a brand
                name = f"{name} | {platform}"
            campaigns.append(
                Campaign(
                    index=len(campaigns),
                    platform=platform,
                    campaign_id=cid,
                    name=name,
                    objective=sp["objective"],
                    role=sp["role"],
                    kind=sp["kind"],
                    source=sp["source"],
                    share=sp["share"],
                    roas_mult=sp["mult"],
                    fixed=sp["fixed"],
                    regions=ridx,
                    region_weights=rw,
                    pool=pool,
                    pool_weights=pw,
                    stop_day=max(7, days - 21) if paused else NEVER,
                    ramp=profile.spend_ramp.get(platform, 1.0),
                    budget_id=budget,
                    keyword=keyword,
                    products=sorted({int(catalog.v_product[v]) for v in pool}),
                )
            )
    # Background multipliers are scaled so each channel's spend-weighted multiplier is 1: the
    # planted campaigns then land on their own targets and the channel on the story's.
    for platform in AD_PLATFORMS:
        mine = [c for c in campaigns if c.platform == platform]
        planted = [c for c in mine if c.role != "background"]
        background = [c for c in mine if c.role == "background"]
        total = sum(c.share for c in mine)
        fixed_part = sum(c.share * c.roas_mult for c in planted)
        k = (total - fixed_part) / sum(c.share * c.roas_mult for c in background)
        for c in background:
            c.roas_mult *= max(0.5, k)
    return campaigns


@dataclass
class SpendCells:
    """Planned spend per campaign × account-local day × region (store currency, float)."""

    campaign: np.ndarray
    day: np.ndarray
    region: np.ndarray
    spend: np.ndarray
    target_roas: np.ndarray  # the Shopify-truth ROAS this cell is generated at


def plan_spend(
    campaigns: list[Campaign],
    profile: BrandProfile,
    days: int,
    weekday: np.ndarray,
    total_daily: float,
    rng: np.random.Generator,
) -> SpendCells:
    """Spend cells of every campaign (zero cells dropped)."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("campaign", "day", "region", "spend", "roas")}
    d = np.arange(days)
    last_week = d >= days - 7
    for c in campaigns:
        daily = c.share * total_daily * WEEKDAY_SPEND[weekday] * rng.lognormal(0.0, 0.07, days)
        daily = daily * np.where(last_week, c.ramp, 1.0) * (d < c.stop_day)
        prev, cur = profile.roas[c.platform]
        roas = np.where(last_week, cur, prev) * c.roas_mult
        cell = daily[:, None] * c.region_weights[None, :] * rng.lognormal(0.0, 0.1, (days, c.regions.size))
        keep = cell >= 0.05  # platforms omit rows without (billable) delivery
        dd, rr = np.nonzero(keep)
        parts["campaign"].append(np.full(dd.size, c.index))
        parts["day"].append(dd)
        parts["region"].append(c.regions[rr])
        parts["spend"].append(cell[keep])
        parts["roas"].append(roas[dd])
    return SpendCells(*(np.concatenate(parts[k]) for k in ("campaign", "day", "region", "spend", "roas")))


def calibrate(
    cells: SpendCells,
    campaigns: list[Campaign],
    profile: BrandProfile,
    days: int,
    driven_campaign: np.ndarray,
    driven_day: np.ndarray,
    driven_revenue: np.ndarray,
) -> np.ndarray:
    """Final spend per cell (store currency) so each channel's weekly truth ROAS hits its target.

    Args:
        driven_campaign, driven_day, driven_revenue: per driven order, its campaign, store-local
            day index and net revenue (store currency, major units).

    Weeks are 7-day buckets counted back from the last day (bucket 0 = the current week). Within a
    bucket each non-fixed campaign is first scaled toward its own target (clipped to ×0.5..×2),
    then the channel's non-fixed campaigns are scaled together so the channel total is exact.
    """
    n_c = len(campaigns)
    n_b = (days + 6) // 7
    cell_b = (days - 1 - cells.day) // 7
    order_b = (days - 1 - driven_day) // 7
    spend_cb = np.zeros((n_c, n_b))
    np.add.at(spend_cb, (cells.campaign, cell_b), cells.spend)
    rev_cb = np.zeros((n_c, n_b))
    np.add.at(rev_cb, (driven_campaign, order_b), driven_revenue)
    target_cb = np.zeros((n_c, n_b))
    for c in campaigns:
        prev, cur = profile.roas[c.platform]
        target_cb[c.index, 0] = cur
        target_cb[c.index, 1:] = prev
    fixed = np.array([c.fixed for c in campaigns])
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(
            spend_cb > 0,
            rev_cb / (target_cb * np.array([c.roas_mult for c in campaigns])[:, None]) / spend_cb,
            1.0,
        )
    own = np.clip(np.nan_to_num(own, nan=1.0), 0.5, 2.0)
    own[fixed] = 1.0
    factor = own.copy()
    platform_of = np.array([c.platform for c in campaigns])
    for p in AD_PLATFORMS:
        members = platform_of == p
        for b in range(n_b):
            target = profile.roas[p][1] if b == 0 else profile.roas[p][0]
            want = rev_cb[members, b].sum() / target
            fixed_spend = spend_cb[members & fixed, b].sum()
            flexible = (spend_cb[members & ~fixed, b] * own[members & ~fixed, b]).sum()
            if flexible <= 0 or want <= fixed_spend:
                continue
            factor[members & ~fixed, b] *= (want - fixed_spend) / flexible
    return cells.spend * factor[cells.campaign, cell_b]


def campaign_tables(
    brand_id: str,
    campaigns: list[Campaign],
    accounts: Accounts,
    product_gids: list[str],
    budgets_cents: np.ndarray,
    updated_s: np.ndarray,
) -> tuple[pa.Table, pa.Table]:
    """``ad_campaigns`` and ``ad_campaign_products``."""
    n = len(campaigns)
    campaigns_t = build_table(
        "ad_campaigns",
        {
            "brand_id": const(brand_id, n),
            "platform": [c.platform for c in campaigns],
            "account_id": [accounts.ids[c.platform] for c in campaigns],
            "campaign_id": [c.campaign_id for c in campaigns],
            "campaign_name": [c.name for c in campaigns],
            "status": [c.status for c in campaigns],
            "objective": [c.objective for c in campaigns],
            "daily_budget_amount": money(budgets_cents),
            "budget_id": [c.budget_id for c in campaigns],
            "currency": [accounts.currency[c.platform] for c in campaigns],
            "account_timezone": [accounts.timezone[c.platform] for c in campaigns],
            "updated_at": timestamps(updated_s),
        },
    )
    rows = [(c.platform, c.campaign_id, product_gids[p], c.source) for c in campaigns for p in c.products]
    products_t = build_table(
        "ad_campaign_products",
        {
            "brand_id": const(brand_id, len(rows)),
            "platform": [r[0] for r in rows],
            "campaign_id": [r[1] for r in rows],
            "product_id": [r[2] for r in rows],
            "source": [r[3] for r in rows],
        },
    )
    return campaigns_t, products_t


@dataclass
class PerformanceRows:
    """The ``ad_performance`` table plus per-row facts the manifest uses."""

    table: pa.Table
    campaign: np.ndarray  # campaign index per row
    platform: np.ndarray
    day: np.ndarray
    spend_cents: np.ndarray  # account currency
    value_cents: np.ndarray  # account currency


def performance_table(
    brand_id: str,
    campaigns: list[Campaign],
    accounts: Accounts,
    regions: list[Region],
    cells: SpendCells,
    spend_store: np.ndarray,
    to_account: dict[str, np.ndarray],
    driven_cell: np.ndarray,
    driven_revenue: np.ndarray,
    first_day: int,
    rng: np.random.Generator,
) -> PerformanceRows:
    """Aggregate cells to the rows each platform reports (campaign × day × reported region).

    Args:
        to_account: per platform, the daily multiplier from store to account currency.
        driven_cell: per driven order, the index of the spend cell that drove it.
        driven_revenue: per driven order, net revenue in store currency (major units).
        first_day: epoch day of day index 0.
    """
    n_cells = cells.campaign.size
    platform_idx = np.array([AD_PLATFORMS.index(c.platform) for c in campaigns])[cells.campaign]
    # Reported region per (platform, customer region): Canada collapses to country level on
    # Google and TikTok (see geo.platform_region).
    rep_code: list[list[str]] = []
    rep_name: list[list[str]] = []
    for p in AD_PLATFORMS:
        pairs = [platform_region(p, r) for r in regions]
        rep_code.append([c for c, _ in pairs])
        rep_name.append([n for _, n in pairs])
    code_keys = sorted({c for row in rep_code for c in row})
    code_id = np.array([[code_keys.index(c) for c in row] for row in rep_code])
    country_keys = sorted({r.country for r in regions})
    country_id = np.array([country_keys.index(r.country) for r in regions])
    key_region = code_id[platform_idx, cells.region]
    key_country = country_id[cells.region]
    n_days = int(cells.day.max()) + 1 if n_cells else 1
    key = ((cells.campaign * n_days + cells.day) * len(country_keys) + key_country) * len(
        code_keys
    ) + key_region
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)

    # Spend in account currency, rounded per cell then summed (what the platform bills).
    rate = np.zeros(n_cells)
    for i, p in enumerate(AD_PLATFORMS):
        m = platform_idx == i
        rate[m] = to_account[p][cells.day[m]]
    spend_cents = np.rint(spend_store * rate * 100).astype(np.int64)
    row_spend = np.bincount(inverse, weights=spend_cents, minlength=uniq.size).astype(np.int64)

    # Platform-reported conversions: the cell's driven orders and revenue times the channel factor.
    count_cell = np.bincount(driven_cell, minlength=n_cells).astype(float)
    rev_cell = np.bincount(driven_cell, weights=driven_revenue, minlength=n_cells)
    factor = np.array([OVER_REPORT[p] for p in AD_PLATFORMS])[platform_idx]
    noise = rng.lognormal(0.0, 0.08, n_cells)
    purchases_cell = count_cell * factor * noise
    value_cents_cell = np.rint(rev_cell * factor * noise * rate * 100).astype(np.int64)
    row_purchases = np.bincount(inverse, weights=purchases_cell, minlength=uniq.size)
    row_value = np.bincount(inverse, weights=value_cents_cell, minlength=uniq.size).astype(np.int64)
    row_platform = platform_idx[first]
    # Meta and TikTok count whole purchases; Google reports fractional (data-driven) conversions.
    whole = row_platform != AD_PLATFORMS.index("google_ads")
    frac = row_purchases - np.floor(row_purchases)
    rounded = np.floor(row_purchases) + (rng.random(uniq.size) < frac)
    row_purchases = np.where(whole, rounded, np.round(row_purchases, 2))
    row_value = np.where(row_purchases > 0, row_value, 0)

    cpm = np.array([_CPM[p] for p in AD_PLATFORMS])[row_platform] * rng.lognormal(0.0, 0.15, uniq.size)
    impressions = np.rint(row_spend / 100 / cpm * 1000).astype(np.int64)
    ctr = np.array([_CTR[p] for p in AD_PLATFORMS])[row_platform] * rng.lognormal(0.0, 0.15, uniq.size)
    clicks = np.maximum(np.rint(impressions * ctr), np.ceil(row_purchases * 1.3)).astype(np.int64)
    impressions = np.maximum(impressions, clicks)

    keep = (row_spend > 0) | (row_purchases > 0)
    sel = np.flatnonzero(keep)
    cell_of_row = first[sel]
    camp = cells.campaign[cell_of_row]
    plat = row_platform[sel]
    reg = cells.region[cell_of_row]
    n_reg = len(regions)
    flat = plat * n_reg + reg
    table = build_table(
        "ad_performance",
        {
            "brand_id": const(brand_id, sel.size),
            "platform": take(AD_PLATFORMS, plat),
            "account_id": take([accounts.ids[p] for p in AD_PLATFORMS], plat),
            "campaign_id": take([c.campaign_id for c in campaigns], camp),
            "campaign_name": take([c.name for c in campaigns], camp),
            "stat_date": dates(cells.day[cell_of_row] + first_day),
            "country_code": take([r.country for r in regions], reg),
            "region_code": take([c for row in rep_code for c in row], flat),
            "region_name": take([n for row in rep_name for n in row], flat),
            "spend_amount": money(row_spend[sel]),
            "impressions": impressions[sel],
            "clicks": clicks[sel],
            "purchases": row_purchases[sel].astype(float),
            "purchase_value_amount": money(row_value[sel]),
            "currency": take([accounts.currency[p] for p in AD_PLATFORMS], plat),
            # Set by the loader when a connector stores the row; the world has no sync time.
            "synced_at": pa.nulls(sel.size, pa.timestamp("us", tz="UTC")),
        },
    )
    return PerformanceRows(
        campaign=camp,
        table=table,
        platform=plat,
        day=cells.day[cell_of_row],
        spend_cents=row_spend[sel],
        value_cents=row_value[sel],
    )


def destination_table(campaign_products: pa.Table, products: pa.Table) -> pa.Table:
    """``ad_campaign_destinations``: the product handles the destination-URL campaigns' ads link to.

    What an ad sync stores of those campaigns (the models match the handles to products); the world's
    ``ad_campaign_products`` keeps them matched too, as the truth the synced models are checked against.
    """
    handles = {r["product_id"]: r["handle"] for r in products.select(["product_id", "handle"]).to_pylist()}
    rows = sorted({(r["brand_id"], r["platform"], r["campaign_id"], handles[r["product_id"]])
                   for r in campaign_products.to_pylist()
                   if r["source"] == "destination_url" and handles.get(r["product_id"])})
    return build_table("ad_campaign_destinations", {
        "brand_id": [r[0] for r in rows], "platform": [r[1] for r in rows],
        "campaign_id": [r[2] for r in rows], "product_handle": [r[3] for r in rows],
    })
