"""Platform geography → ISO 3166: our committed tables and the lookups on them."""

from __future__ import annotations

import pytest

from tower.connectors import geo


def test_google_state_ids_are_not_alphabetical() -> None:
    assert geo.google_region(21132).name == "Alaska"  # type: ignore[union-attr]
    assert geo.google_region(21133).name == "Alabama"  # type: ignore[union-attr]
    assert geo.google_region("geoTargetConstants/21176").iso_code == "US-TX"  # type: ignore[union-attr]
    assert geo.google_region("geoTargetConstants/21137").iso_code == "US-CA"  # type: ignore[union-attr]
    assert geo.google_region(21134) is None and geo.google_region(21181) is None  # unused ids
    assert geo.google_region("geoTargetConstants/") is None and geo.google_region("") is None


def test_every_us_state_and_dc_has_one_google_id_and_one_tiktok_id() -> None:
    us = [s for s in geo.subdivisions().values() if s.country_code == "US"]
    assert len(us) == 51
    assert len({s.google_criterion_id for s in us}) == 51 and all(s.google_criterion_id for s in us)
    assert len({s.tiktok_location_id for s in us}) == 51
    assert {s.google_criterion_id for s in us} == set(range(21132, 21185)) - {21134, 21181}


def test_canadian_provinces_map_for_meta_and_tiktok_but_not_google() -> None:
    on = geo.subdivisions()["CA-ON"]
    assert (on.name, on.tiktok_location_id, on.google_criterion_id) == ("Ontario", "6093943", None)
    assert len([s for s in geo.subdivisions().values() if s.country_code == "CA"]) == 13
    assert geo.meta_region_code("Québec", "CA") == geo.meta_region_code("Quebec", "CA") == "CA-QC"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Texas", "US-TX"),
        ("washington, district of columbia", "US-DC"),
        ("District of Columbia", "US-DC"),
        ("Washington", "US-WA"),
        (" California ", "US-CA"),
        ("Unknown", None),
        ("Youngstown", None),
    ],
)
def test_meta_region_names(name: str, code: str | None) -> None:
    sub = geo.meta_region(name)
    assert (sub.iso_code if sub else None) == code


def test_meta_names_round_trip() -> None:
    for iso in geo.subdivisions():
        assert geo.meta_region(geo.meta_region_name(iso)).iso_code == iso  # type: ignore[union-attr]


def test_tiktok_province_ids_are_geonames_ids() -> None:
    assert geo.tiktok_region("4736286").iso_code == "US-TX"  # type: ignore[union-attr]
    assert geo.tiktok_region(5332921).iso_code == "US-CA"  # type: ignore[union-attr]
    assert geo.tiktok_region("6252001") is None  # the country itself is not a province


def test_google_country_criteria_are_2000_plus_iso_numeric() -> None:
    assert (
        geo.google_country_code(2840) == "US" and geo.google_country_code("geoTargetConstants/2124") == "CA"
    )
    assert geo.google_country_criterion("gb") == 2826
    assert geo.google_country_code(2999) is None
    with pytest.raises(KeyError):
        geo.google_country_criterion("XX")
