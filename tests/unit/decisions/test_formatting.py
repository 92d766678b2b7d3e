"""How sentences name regions and channels (tower.decisions.formatting and the texts built with it)."""

from __future__ import annotations

from tower.decisions.alerts import inventory_mismatches
from tower.decisions.formatting import region_name, region_names
from tower.decisions.inputs import AlignmentRow


def test_regions_read_as_their_names_in_every_country_we_map() -> None:
    assert region_name("US-CA") == "California"
    assert region_name("CA-QC") == "Quebec"
    assert region_name("us-dc") == "District of Columbia"
    assert region_name("") == "all regions"
    # A code no platform table maps stays readable as itself rather than vanishing.
    assert region_name("GB-ENG") == "GB-ENG"
    assert region_names(["CA-ON", "", "CA-BC", "US-NY"]) == "Ontario, British Columbia and New York"


def test_a_pause_reads_right_for_a_channel_whose_name_ends_in_ads() -> None:
    rows = [AlignmentRow("gid://shopify/Product/7", "Maple Tin", channel, "CA-ON", spend, 0.1, 0.0, 0.0, 2.0,
                         "spending_on_stockout")
            for channel, spend in (("google_ads", 300.0), ("meta", 120.0))]
    (alert,) = inventory_mismatches(rows, "CAD")
    assert alert.recommended_action == "Pause ads on Google Ads and Meta for Maple Tin in Ontario until it is restocked"
    assert alert.title == "Spending CA$420 on Maple Tin, which is out of stock in Ontario"
    assert alert.region == "CA-ON"  # the structured field keeps the code
