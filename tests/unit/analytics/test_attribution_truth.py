"""Attribution against the world's truth: Shopify-attributed ROAS per channel within 15 % of what was planted.

The world plants each channel's true ROAS (``tower_dev.world.brands``' profiles, calibrated in ``ads.py``) and
records which campaign drove every order; the warehouse sees only what a store sees. Three seeds, three
brands each (one of them Canadian, where Google and TikTok report no provinces).
"""

from __future__ import annotations

import pytest

from tower.config import Settings
from tower_dev.world import WorldParams
from tower_dev.world.truth import channel_roas_errors


@pytest.mark.parametrize("seed", [3, 11, 29])
def test_channel_roas_is_within_15_percent_of_the_planted_truth(seed: int, world_builder) -> None:
    built = world_builder(WorldParams(seed=seed, brands=3, days=35, orders_per_day=100, skus=20, locations=2,
                                    campaigns_per_platform=3))
    start, end = built.window
    model = Settings().attribution_model
    for bw in built.world.brands:
        errors = channel_roas_errors(built.warehouse, bw, start, end, model)
        assert set(errors) == {"meta", "tiktok", "google_ads"}, bw.brand_id
        for channel, e in errors.items():
            assert abs(e["error"]) <= 0.15, (seed, bw.brand_id, channel, e)
