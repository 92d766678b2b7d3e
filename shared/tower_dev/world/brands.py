"""Who the brands are: name, timezone, currency, ad accounts, and which planted situations each carries.

The first three are the demo brands an agency would triage:

1. **Acme Candles** (USD, America/New_York): urgent. Every situation of the product plan is
   planted here: SKU-A pushed on TikTok in CA and TX with ~8 days of cover, SKU-B and SKU-C
   overstocked (~120 days) with a little Meta support in the Midwest, SKU-D out of stock while a
   Google Shopping campaign keeps spending, TikTok ROAS falling 2.8x → 2.1x while Meta holds 4.2x
   and Google improves 3.0x → 3.5x. Its Meta account reports in Pacific time.
2. **Urban Wellness Co.** (USD, America/Los_Angeles): clearly healthy; stable ROAS, healthy stock.
3. **Maple & Moss** (CAD, America/Toronto): to watch. Ships to Canada and the US; its Meta and
   TikTok accounts bill in USD (so spend needs the daily FX rate), TikTok reports in UTC. One
   overstocked SKU and one product out of stock with Meta spend.

Later brands cycle through the three profiles with their own names and zones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tower.names import AD_PLATFORMS

# Platform-reported purchases over Shopify truth, as vendors cite (15-40 %).
OVER_REPORT = {"meta": 1.25, "tiktok": 1.4, "google_ads": 1.15}


@dataclass(frozen=True)
class Situation:
    """A planted situation: its kind, the platform that carries it, and its size."""

    kind: str  # low_cover_pushed | overstock_unsupported | stockout_with_spend
    platform: str
    spend_share: float  # share of the brand's total ad spend on the campaign that carries it
    count: int = 1  # overstock: how many SKUs
    regions: tuple[str, ...] = ()  # ISO 3166-2 codes the campaign targets ('' = national)


@dataclass(frozen=True)
class BrandProfile:
    """Everything fixed about one brand before any random draw."""

    index: int
    brand_id: str
    name: str
    timezone: str
    currency: str
    countries: dict[str, float]  # shipping country → share of orders
    accounts: dict[str, tuple[str, str]]  # platform → (currency, timezone)
    category: str
    health: str  # urgent | watch | healthy
    roas: dict[str, tuple[float, float]]  # platform → (previous weeks, current week), Shopify truth
    situations: tuple[Situation, ...] = ()
    high_cost_regions: tuple[str, ...] = ()
    high_cost_factor: float = 1.0
    # spend of a channel's last week relative to the weeks before (TikTok +28 % in the plan's story)
    spend_ramp: dict[str, float] = field(default_factory=dict)
    channel_share: dict[str, float] = field(
        default_factory=lambda: {"meta": 0.50, "tiktok": 0.32, "google_ads": 0.18}
    )

    @property
    def shop_domain(self) -> str:
        return f"{self.brand_id}.myshopify.com"

    def situation(self, kind: str) -> Situation | None:
        return next((s for s in self.situations if s.kind == kind), None)


_MIDWEST = (
    "US-IL",
    "US-IN",
    "US-IA",
    "US-KS",
    "US-MI",
    "US-MN",
    "US-MO",
    "US-NE",
    "US-ND",
    "US-OH",
    "US-SD",
    "US-WI",
)

_URGENT = (
    Situation("low_cover_pushed", "tiktok", 0.22, regions=("US-CA", "US-TX")),
    Situation("overstock_unsupported", "meta", 0.03, count=2, regions=_MIDWEST),
    Situation("stockout_with_spend", "google_ads", 0.03),
)
_WATCH = (
    Situation("overstock_unsupported", "google_ads", 0.02, count=1),
    Situation("stockout_with_spend", "meta", 0.03),
)

_EXTRA_NAMES = (
    ("northwind-outfitters", "Northwind Outfitters", "outdoor"),
    ("golden-hour-coffee", "Golden Hour Coffee", "coffee"),
    ("tidepool-swim", "Tidepool Swim", "apparel"),
    ("juniper-pet-supply", "Juniper Pet Supply", "pet"),
    ("copperline-cookware", "Copperline Cookware", "kitchen"),
    ("fern-and-fable", "Fern & Fable", "candles"),
    ("harbor-knitworks", "Harbor Knitworks", "outdoor"),
    ("sunday-sprout", "Sunday Sprout", "wellness"),
)
_EXTRA_ZONES = (
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/New_York",
    "America/Los_Angeles",
)


def profile(index: int) -> BrandProfile:
    """The profile of brand ``index`` (0-based). Deterministic; no randomness here."""
    if index == 0:
        return BrandProfile(
            index=0,
            brand_id="acme-candles",
            name="Acme Candles",
            timezone="America/New_York",
            currency="USD",
            countries={"US": 0.97, "CA": 0.03},
            accounts={
                "meta": ("USD", "America/Los_Angeles"),
                "tiktok": ("USD", "America/New_York"),
                "google_ads": ("USD", "America/New_York"),
            },
            category="candles",
            health="urgent",
            roas={"meta": (4.2, 4.2), "tiktok": (2.8, 2.1), "google_ads": (3.0, 3.5)},
            situations=_URGENT,
            high_cost_regions=("US-CA", "US-TX"),
            high_cost_factor=1.3,
            spend_ramp={"tiktok": 1.28},
        )
    if index == 1:
        return BrandProfile(
            index=1,
            brand_id="urban-wellness",
            name="Urban Wellness Co.",
            timezone="America/Los_Angeles",
            currency="USD",
            countries={"US": 1.0},
            accounts={p: ("USD", "America/Los_Angeles") for p in AD_PLATFORMS},
            category="wellness",
            health="healthy",
            roas={"meta": (4.0, 4.05), "tiktok": (3.0, 3.0), "google_ads": (3.4, 3.45)},
        )
    if index == 2:
        return BrandProfile(
            index=2,
            brand_id="maple-and-moss",
            name="Maple & Moss",
            timezone="America/Toronto",
            currency="CAD",
            countries={"CA": 0.75, "US": 0.25},
            accounts={
                "meta": ("USD", "America/Toronto"),
                "tiktok": ("USD", "Etc/UTC"),
                "google_ads": ("CAD", "America/Toronto"),
            },
            category="outdoor",
            health="watch",
            roas={"meta": (3.8, 3.7), "tiktok": (2.6, 2.6), "google_ads": (3.1, 3.2)},
            situations=_WATCH,
        )
    k = index - 3
    slug, name, category = _EXTRA_NAMES[k % len(_EXTRA_NAMES)]
    if k >= len(_EXTRA_NAMES):
        slug, name = f"{slug}-{k // len(_EXTRA_NAMES) + 1}", f"{name} {k // len(_EXTRA_NAMES) + 1}"
    zone = _EXTRA_ZONES[k % len(_EXTRA_ZONES)]
    base = profile(index % 3)
    return BrandProfile(
        index=index,
        brand_id=slug,
        name=name,
        timezone=zone,
        currency="USD",
        countries={"US": 1.0},
        accounts={p: ("USD", zone) for p in AD_PLATFORMS},
        category=category,
        health=base.health,
        roas=base.roas,
        # A US-only store: keep the situations, target regions stay US.
        situations=base.situations,
        high_cost_regions=base.high_cost_regions,
        high_cost_factor=base.high_cost_factor,
        spend_ramp=base.spend_ramp,
    )
