"""The knobs of the synthetic merchant world, checked once so every generator can trust them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

# A fixed default so tests and exports are stable; the demo passes a date near "today".
DEFAULT_END_DATE = date(2026, 11, 22)

MAX_LOCATIONS = 6
MIN_DAYS = 14
MIN_SKUS = 12


@dataclass(frozen=True)
class WorldParams:
    """Parameters of :func:`tower_dev.world.generate_world`.

    Attributes:
        seed: Root seed; the same parameters always give byte-identical worlds.
        brands: Number of brands (Shopify stores). The first three are the demo brands
            (an urgent one, a healthy one, one to watch); later ones cycle through those profiles.
        days: Days of history, ending on ``end_date`` inclusive.
        orders_per_day: Approximate orders per brand per day (orders lost to stockouts are not
            replaced, so the real count is a little lower).
        skus: Variants (SKUs) per brand.
        locations: Stock locations per brand (1..6).
        campaigns_per_platform: Campaigns per ad platform per brand (2..12); campaigns carrying a
            planted situation always fit in.
        end_date: The world's last day (store-local); "now" is the end of that day.
    """

    seed: int = 7
    brands: int = 3
    days: int = 120
    orders_per_day: int = 300
    skus: int = 40
    locations: int = 3
    campaigns_per_platform: int = 4
    end_date: date = DEFAULT_END_DATE

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.seed, int) or self.seed < 0:
            problems.append(f"seed must be a non-negative integer, got {self.seed!r}")
        if not 1 <= self.brands <= 50:
            problems.append(f"brands must be between 1 and 50, got {self.brands}")
        if not MIN_DAYS <= self.days <= 2000:
            problems.append(f"days must be between {MIN_DAYS} and 2000, got {self.days}")
        if not 1 <= self.orders_per_day <= 200_000:
            problems.append(f"orders_per_day must be between 1 and 200000, got {self.orders_per_day}")
        if not MIN_SKUS <= self.skus <= 5000:
            problems.append(f"skus must be between {MIN_SKUS} and 5000, got {self.skus}")
        if not 1 <= self.locations <= MAX_LOCATIONS:
            problems.append(f"locations must be between 1 and {MAX_LOCATIONS}, got {self.locations}")
        if not 2 <= self.campaigns_per_platform <= 12:
            problems.append(
                f"campaigns_per_platform must be between 2 and 12, got {self.campaigns_per_platform}"
            )
        if not isinstance(self.end_date, date):
            problems.append(f"end_date must be a date, got {self.end_date!r}")
        if problems:
            raise ValueError("invalid world parameters: " + "; ".join(problems))

    @property
    def start_date(self) -> date:
        """The first day of history (store-local)."""
        return self.end_date - timedelta(days=self.days - 1)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready parameters (dates as ISO strings)."""
        d = asdict(self)
        d["end_date"] = self.end_date.isoformat()
        return d
