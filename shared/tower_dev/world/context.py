"""What every generator of one brand needs to know: calendar, geography, locations, catalog, accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tower_dev.world.ads import Accounts
from tower_dev.world.brands import BrandProfile
from tower_dev.world.catalog import Catalog
from tower_dev.world.geo import Region
from tower_dev.world.locations import Site
from tower_dev.world.params import WorldParams


@dataclass
class BrandContext:
    """The fixed frame of one brand's world.

    Day indices run 0..days-1 over the store-local calendar; ``store_starts[i]`` is the UTC instant
    (epoch seconds) of local midnight starting day ``i`` and ``store_starts[days]`` is "now", the
    end of the world. Ad accounts have their own local days with the same dates
    (``account_starts[platform]``).
    """

    params: WorldParams
    profile: BrandProfile
    brand_no: int  # 1-based, used in id ranges
    days: int
    first_epoch_day: int  # date32 value of day 0
    weekday: np.ndarray  # Monday=0, per day index
    store_starts: np.ndarray
    account_starts: dict[str, np.ndarray]
    regions: list[Region]
    region_weights: np.ndarray  # demand share per region
    locations: list[Site]
    serving: np.ndarray  # location index per region
    catalog: Catalog
    accounts: Accounts
    currency_scale: float  # store-currency units per USD-ish price level (CAD prices are higher)

    @property
    def world_start(self) -> int:
        return int(self.store_starts[0])

    @property
    def world_end(self) -> int:
        return int(self.store_starts[self.days])

    @property
    def brand_id(self) -> str:
        return self.profile.brand_id
