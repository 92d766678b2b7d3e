"""Geography outside the US: each platform's Canadian regions map to ISO 3166-2 (CA-ON, CA-QC...)."""

from __future__ import annotations

import pytest

from tower.connectors import geo

PROVINCES = {  # ISO 3166-2 → the English name Meta's region breakdown uses
    "CA-AB": "Alberta", "CA-BC": "British Columbia", "CA-MB": "Manitoba", "CA-NB": "New Brunswick",
    "CA-NL": "Newfoundland and Labrador", "CA-NS": "Nova Scotia", "CA-NT": "Northwest Territories",
    "CA-NU": "Nunavut", "CA-ON": "Ontario", "CA-PE": "Prince Edward Island", "CA-QC": "Quebec",
    "CA-SK": "Saskatchewan", "CA-YT": "Yukon",
}


@pytest.mark.parametrize(("iso", "name"), sorted(PROVINCES.items()))
def test_meta_region_names_of_every_province_and_territory(iso: str, name: str) -> None:
    assert geo.meta_region(name).iso_code == iso
    assert geo.meta_region_code(name, "CA") == iso
    assert geo.meta_region_code(name, "US") is None  # a Canadian name is no US state


def test_meta_spellings_with_accents_and_case() -> None:
    assert geo.meta_region_code("Québec", "CA") == "CA-QC"
    assert geo.meta_region_code("  ontario ", "ca") == "CA-ON"


@pytest.mark.parametrize(("location_id", "iso"), [
    ("6093943", "CA-ON"), ("6115047", "CA-QC"), ("5909050", "CA-BC"), ("5883102", "CA-AB"),
    ("6065171", "CA-MB"), ("6141242", "CA-SK"), ("6091530", "CA-NS"), ("6087430", "CA-NB"),
    ("6354959", "CA-NL"), ("6113358", "CA-PE"), ("6185811", "CA-YT"), ("6091069", "CA-NT"), ("6091732", "CA-NU"),
])
def test_tiktok_location_ids_of_canada_are_geonames_ids(location_id: str, iso: str) -> None:
    assert geo.tiktok_region(location_id).iso_code == iso
    assert geo.tiktok_region(int(location_id)).country_code == "CA"


def test_google_geo_targets_map_by_country_and_name_never_by_a_guess() -> None:
    ontario = geo.GeoTarget(20121, "Ontario", "Ontario,Canada", "CA", "Province")
    assert ontario.iso_3166_2 == "CA-ON"
    assert geo.GeoTarget(2124, "Canada", "Canada", "CA", "Country").iso_3166_2 is None
    assert geo.GeoTarget(1002451, "Toronto", "Toronto,Ontario,Canada", "CA", "City").iso_3166_2 is None
    assert geo.GeoTarget(20229, "Bavaria", "Bavaria,Germany", "DE", "State").iso_3166_2 is None  # not one we map
    assert geo.GeoTarget(21176, "Texas", "Texas,United States", "US", "State").iso_3166_2 == "US-TX"
    seed = geo.seed_geo_targets()
    assert seed[21176].iso_3166_2 == "US-TX" and seed[2840].target_type == "Country"
    assert all(t.iso_3166_2 for t in seed.values() if t.target_type == "State")
