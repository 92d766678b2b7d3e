"""The normalised shapes every ad connector yields: one home for what Meta, TikTok and Google share.

Each dataclass has exactly the columns of its warehouse table (``tower/sql/schema``) minus what the
loader adds (``brand_id``, ``synced_at`` / ``updated_at``). Money is in major units of the ad
account's currency, converted at the edge (Google micros ÷ 1,000,000, Meta budgets ÷ 100);
the models convert currencies later with ``fx_rates``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, TypeVar

from tower.connectors.retry import ConnectorError

T = TypeVar("T")


class Suspend(Exception):
    """A connector ran out of the sync's time budget mid-step; its checkpoint says where to resume."""


class MappingUnavailable(Exception):
    """A read that only says which products campaigns promote failed (ad sets, ads, Shopping items...).

    Deliberately not a :class:`~tower.connectors.retry.ConnectorError`: nothing may treat it as the
    account's sync failing. Spend and conversions are read and stored all the same; the sync turns
    this into a warning on the integration, and the account's campaigns count as promoting unknown
    products until a later sync reads their mapping.

    Attributes:
        platform: The ad platform.
        read: What could not be read, in words (``"ad sets (the product sets campaigns promote)"``).
        reason: The platform's sorted error, masked (``"Meta error 200/None: (#200) Requires ..."``).
        code: The platform's error code.
    """

    def __init__(self, platform: str, read: str, reason: str, code: str | int | None = None) -> None:
        super().__init__(f"{read}: {reason}")
        self.platform = platform
        self.read = read
        self.reason = reason
        self.code = code


def mapping_read(platform: str, read: str, fn: Callable[[], T]) -> T:
    """Run one product-mapping read; any platform failure becomes :class:`MappingUnavailable`.

    Every kind counts, a permission refused (which the clients sort as needing re-authorisation) as
    much as retries running out: the token still reads spend, so the account is not stopped for it.
    A token that really died fails the spend reads next, and those mark the integration.
    """
    try:
        return fn()
    except ConnectorError as e:
        raise MappingUnavailable(platform, read, str(e), e.code) from None


def add_products(found: dict[str, list[CampaignProductRecord]], campaign_id: str,
                 products: Iterable[CampaignProductRecord]) -> None:
    """Append a campaign's promoted products to ``found``, each product once whatever its source."""
    have = found.setdefault(campaign_id, [])
    known = {p.product_id for p in have}
    for p in products:
        if p.product_id not in known:
            have.append(p)
            known.add(p.product_id)


#: Minor units per currency where it is not 2 (ISO 4217); Meta budgets are sent in minor units.
_MINOR_DIGITS = {"JPY": 0, "KRW": 0, "CLP": 0, "ISK": 0, "VND": 0, "HUF": 2, "KWD": 3, "BHD": 3, "JOD": 3}


def minor_digits(currency: str) -> int:
    """Digits after the decimal point of a currency's minor unit (USD 2, JPY 0)."""
    return _MINOR_DIGITS.get(currency.upper(), 2)


def from_minor_units(value: int | str, currency: str) -> Decimal:
    """Meta-style minor units ("5000" cents) → major units (Decimal("50.00"))."""
    return Decimal(int(value)).scaleb(-minor_digits(currency))


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Major units → integer minor units, rounding half to even."""
    return int(amount.scaleb(minor_digits(currency)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def from_micros(value: int | str) -> Decimal:
    """Google micros → major units (1,500,000 → Decimal("1.5"))."""
    return (Decimal(int(value)) / Decimal(1_000_000)).normalize() if int(value) else Decimal(0)


def to_micros(amount: Decimal) -> int:
    """Major units → Google micros."""
    return int((amount * Decimal(1_000_000)).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def decimal_of(value: Any) -> Decimal:
    """A platform's numeric string ("5339.5", "20.000", None) as a Decimal (None → 0)."""
    if value is None or value == "":
        return Decimal(0)
    return Decimal(str(value))


@dataclass
class PerformanceRecord:
    """One ``ad_performance`` row: campaign × account-local day × country × region."""

    platform: str
    account_id: str
    campaign_id: str
    campaign_name: str | None
    stat_date: date
    country_code: str
    region_code: str  # ISO 3166-2, or '' when the platform gave only the country
    region_name: str | None  # the platform's own name or id for the region ('' at country level)
    spend_amount: Decimal
    impressions: int
    clicks: int
    purchases: float
    purchase_value_amount: Decimal
    currency: str

    @property
    def key(self) -> tuple[str, str, str, date, str, str]:
        """The natural key inside one brand."""
        return (
            self.platform,
            self.account_id,
            self.campaign_id,
            self.stat_date,
            self.country_code,
            self.region_code,
        )

    def row(self, brand_id: str, synced_at: datetime) -> dict[str, Any]:
        """The warehouse row (built field by field: ``asdict`` deep-copies, and there are many rows)."""
        out: dict[str, Any] = {"brand_id": brand_id}
        for name in _PERFORMANCE_FIELDS:
            out[name] = getattr(self, name)
        out["synced_at"] = synced_at
        return out


_PERFORMANCE_FIELDS = tuple(PerformanceRecord.__dataclass_fields__)


@dataclass
class CampaignRecord:
    """One ``ad_campaigns`` row."""

    platform: str
    account_id: str
    campaign_id: str
    campaign_name: str | None
    status: str | None
    objective: str | None
    daily_budget_amount: Decimal | None
    budget_id: str | None
    currency: str | None
    account_timezone: str | None
    products: list[CampaignProductRecord] = field(default_factory=list)
    # Shopify product handles the campaign's ads link to (``/products/<handle>`` destination URLs). Kept
    # as the platform says them: the models match them to products, whichever of the two syncs ran first.
    destinations: list[str] = field(default_factory=list)

    def row(self, brand_id: str, updated_at: datetime) -> dict[str, Any]:
        """The warehouse row (without the promoted products and destinations)."""
        d = asdict(self)
        d.pop("products")
        d.pop("destinations")
        return {"brand_id": brand_id, **d, "updated_at": updated_at}

    def destination_rows(self, brand_id: str) -> list[dict[str, Any]]:
        """The ``ad_campaign_destinations`` rows."""
        return [{"brand_id": brand_id, "platform": self.platform, "campaign_id": self.campaign_id,
                 "product_handle": h} for h in self.destinations]


@dataclass(frozen=True)
class CampaignProductRecord:
    """One ``ad_campaign_products`` row: a Shopify product a campaign promotes."""

    platform: str
    campaign_id: str
    product_id: str  # Shopify product gid
    source: str  # product_set | shopping_item | destination_url

    def row(self, brand_id: str) -> dict[str, Any]:
        """The warehouse row."""
        return {"brand_id": brand_id, **asdict(self)}


@dataclass(frozen=True)
class AccountInfo:
    """What the platform says about an ad account (written to ``integrations``)."""

    account_id: str
    currency: str
    timezone: str
    name: str = ""


SHOPIFY_PRODUCT_GID = "gid://shopify/Product/{}"


def shopify_product_from_item_id(item_id: str) -> str | None:
    """The Shopify product gid behind a catalog item id that Shopify's sales channels publish.

    Shopify's Facebook & Instagram and Google & YouTube channels publish catalog items with the id
    ``shopify_<COUNTRY>_<productId>_<variantId>`` (Meta's ``retailer_id``, Google's
    ``segments.product_item_id``, lower-cased by Google). Anything else returns None.
    """
    parts = item_id.strip().split("_")
    if len(parts) == 4 and parts[0].lower() == "shopify" and parts[2].isdigit():
        return SHOPIFY_PRODUCT_GID.format(parts[2])
    return None


def destination_handles(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """``(campaign id, destination URL)`` pairs → the Shopify product handles each campaign links to.

    Each campaign's handles come once and sorted, so a re-sync writes the same rows.
    """
    out: dict[str, set[str]] = {}
    for campaign_id, url in pairs:
        handle = product_handle_from_url(url)
        if handle:
            out.setdefault(str(campaign_id), set()).add(handle)
    return {cid: sorted(handles) for cid, handles in out.items()}


def product_handle_from_url(url: str) -> str | None:
    """The Shopify product handle in a destination URL (``https://shop/products/<handle>?utm=...``)."""
    from urllib.parse import urlparse

    path = urlparse(url).path.rstrip("/").split("/")
    if "products" in path:
        i = path.index("products")
        if i + 1 < len(path) and path[i + 1]:
            return path[i + 1]
    return None
