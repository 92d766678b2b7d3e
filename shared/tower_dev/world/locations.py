"""Stock locations of a brand and which one serves each shipping region, at what fulfilment cost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tower_dev.world.geo import BY_CODE, Region, distance_km

# Candidate sites in the order a growing brand opens them.
_SITES = {
    "US": (
        ("West Warehouse", "US-CA", 34.06, -117.65),  # Ontario, CA (Inland Empire)
        ("Central Warehouse", "US-IL", 41.53, -88.08),  # Joliet, IL
        ("East Warehouse", "US-NJ", 40.52, -74.41),  # Edison, NJ
        ("South Warehouse", "US-TX", 32.78, -96.80),  # Dallas, TX
        ("Southeast Warehouse", "US-GA", 33.75, -84.39),  # Atlanta, GA
        ("Northwest Warehouse", "US-WA", 47.38, -122.23),  # Kent, WA
    ),
    "CA": (
        ("Toronto DC", "CA-ON", 43.59, -79.64),  # Mississauga, ON
        ("Calgary DC", "CA-AB", 51.05, -114.07),
        ("Buffalo 3PL", "US-NY", 42.89, -78.88),  # the US side of the border
        ("Montreal DC", "CA-QC", 45.50, -73.57),
        ("Vancouver DC", "CA-BC", 49.28, -123.12),
        ("Dallas 3PL", "US-TX", 32.78, -96.80),
    ),
}


@dataclass(frozen=True)
class Site:
    """One stock location."""

    name: str
    region: str  # ISO 3166-2 of where it stands
    lat: float
    lon: float

    @property
    def country(self) -> str:
        return self.region.split("-", 1)[0]

    @property
    def province(self) -> str:
        return self.region.split("-", 1)[1]


def sites(home_country: str, n: int) -> list[Site]:
    """The first ``n`` locations of a brand based in ``home_country``."""
    return [Site(*s) for s in _SITES[home_country][:n]]


def route(regions: list[Region], locations: list[Site]) -> tuple[np.ndarray, np.ndarray]:
    """Serving location index and distance (km) for each region: the nearest location.

    A location's own region is always served by it (POS orders there ship from that building).
    """
    lat = np.array([r.lat for r in regions])
    lon = np.array([r.lon for r in regions])
    dist = np.stack([distance_km(lat, lon, s.lat, s.lon) for s in locations], axis=1)
    for j, s in enumerate(locations):
        for i, r in enumerate(regions):
            if r.code == s.region:
                dist[i, j] = 0.0
    idx = np.argmin(dist, axis=1)
    return idx, dist[np.arange(len(regions)), idx]


def fulfillment_cost_cents(
    regions: list[Region],
    locations: list[Site],
    serving: np.ndarray,
    km: np.ndarray,
    currency_scale: float,
    high_cost: dict[str, float],
) -> np.ndarray:
    """Per-order fulfilment cost to each region: pick-pack plus a distance-based carrier rate.

    Cross-border parcels pay a brokerage surcharge; ``high_cost`` multiplies named regions (the
    product plan's "fulfilment costs are 30 % higher" in CA and TX for the urgent brand).
    """
    cost = 5.25 + 0.0022 * km
    cross = np.array([r.country != locations[s].country for r, s in zip(regions, serving, strict=True)])
    cost = cost + np.where(cross, 7.5, 0.0)
    factor = np.array([high_cost.get(r.code, 1.0) for r in regions])
    return np.round(cost * factor * currency_scale * 100).astype(np.int64)


def region_index(regions: list[Region], code: str) -> int:
    """Position of an ISO 3166-2 code in the brand's region list."""
    for i, r in enumerate(regions):
        if r.code == code:
            return i
    raise KeyError(f"{code} is not a region of this brand ({BY_CODE.get(code)})")
