"""Each ad platform's geography, mapped to ISO 3166-1 countries and ISO 3166-2 subdivisions.

The platforms name regions three different ways, and hand-written maps in public code get them
wrong, so the mappings live in committed data files under ``tower/data`` built from public facts:

* **Meta** reports ``region`` as an English name ("Texas"; the District of Columbia comes as
  "Washington, District of Columbia") and ``country`` as ISO alpha-2.
* **Google Ads** reports ``geoTargetConstants/{criterion id}``. ``geo_targets_us.csv`` is our copy of
  Google's geotargets rows for the US and its states (columns as Google publishes them, plus the
  ISO code). Google numbers the states 21132-21184 in the order of their USPS codes, skipping 21134
  and 21181, so they are *not* alphabetical by name (21132 Alaska, 21133 Alabama, 21176 Texas).
  Country criterion ids are 2000 + the ISO 3166-1 numeric code (2840 = US), see ``countries.csv``.
* **TikTok** reports ``country_code`` as ISO alpha-2 and, where it gives one, ``province_id``: TikTok
  location ids are GeoNames ids (6252001 = United States, 4736286 = Texas, 6093943 = Ontario), in
  ``tiktok_locations.csv`` (US states, DC and the Canadian provinces and territories). That table is
  also our list of subdivisions and their English names (as Meta names them).

Beyond that seed, Google's ids are resolved through the API's own ``geo_target_constant`` resource
(a GAQL query by id: name, canonical name, country code, target type): a :class:`GeoTarget` maps
to ISO 3166-2 by its country and name through the subdivisions we know (US states and DC, Canadian
provinces and territories), and the loaders cache what was resolved in the warehouse
(``geo_targets``), so an id is asked once. A subdivision we do not map keeps its rows at country
level, as an unknown name or id does.

Unknown names or ids map to ``None``; callers then keep the row at country level (region ``''``)
rather than guess.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

GOOGLE_COUNTRY_OFFSET = 2000  # Google's country criterion id = 2000 + ISO 3166-1 numeric


@dataclass(frozen=True)
class Subdivision:
    """One ISO 3166-2 subdivision as the platforms know it."""

    iso_code: str  # "US-TX"
    name: str  # "Texas"
    country_code: str  # "US"
    google_criterion_id: int | None
    tiktok_location_id: str | None


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("tower").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@lru_cache(maxsize=1)
def google_geo_targets() -> list[dict[str, str]]:
    """Our Google geotargets table (US and its states), as rows of strings."""
    return _read("geo_targets_us.csv")


@lru_cache(maxsize=1)
def subdivisions() -> dict[str, Subdivision]:
    """Every subdivision we map, by ISO 3166-2 code."""
    google = {
        r["iso_3166_2"]: int(r["criteria_id"]) for r in google_geo_targets() if r["target_type"] == "State"
    }
    out: dict[str, Subdivision] = {}
    for r in _read("tiktok_locations.csv"):
        if r["level"] != "PROVINCE":
            continue
        iso = r["iso_3166_2"]
        out[iso] = Subdivision(
            iso_code=iso,
            name=r["name"],
            country_code=r["country_code"],
            google_criterion_id=google.get(iso),
            tiktok_location_id=r["location_id"],
        )
    return out


@lru_cache(maxsize=1)
def _countries() -> dict[str, dict[str, str]]:
    return {r["alpha2"]: r for r in _read("countries.csv")}


@lru_cache(maxsize=1)
def _by_google_id() -> dict[int, Subdivision]:
    return {s.google_criterion_id: s for s in subdivisions().values() if s.google_criterion_id}


@lru_cache(maxsize=1)
def _by_tiktok_id() -> dict[str, Subdivision]:
    return {s.tiktok_location_id: s for s in subdivisions().values() if s.tiktok_location_id}


@lru_cache(maxsize=1)
def _by_meta_name() -> dict[tuple[str, str], Subdivision]:
    out = {(s.country_code, s.name.casefold()): s for s in subdivisions().values()}
    # Meta's region breakdown names DC after its city ("Washington, District of Columbia").
    out[("US", "washington, district of columbia")] = subdivisions()["US-DC"]
    out[("CA", "québec")] = subdivisions()["CA-QC"]
    # "Yukon Territory" was the territory's name until 2003; older lists still use it.
    out[("CA", "yukon territory")] = subdivisions()["CA-YT"]
    return out


def subdivision_named(country_code: str, name: str) -> Subdivision | None:
    """The subdivision a platform names in a country ("CA", "Ontario"), or None when we do not map it.

    Names compare without case; the variants platforms are known to use are accepted too (Meta's
    "Washington, District of Columbia", "Québec").
    """
    return _by_meta_name().get((country_code.upper(), name.strip().casefold()))


@dataclass(frozen=True)
class GeoTarget:
    """One Google Ads geo target constant, as ``geo_target_constant`` (or the seed table) describes it."""

    criterion_id: int
    name: str
    canonical_name: str
    country_code: str
    target_type: str
    status: str = "ENABLED"

    @property
    def iso_3166_2(self) -> str | None:
        """The subdivision's ISO 3166-2 code when it is one we map (a country or a city is not)."""
        if self.target_type.casefold() in _NOT_SUBDIVISIONS:
            return None
        sub = subdivision_named(self.country_code, self.name)
        return sub.iso_code if sub else None

    def row(self, now: Any) -> dict[str, Any]:
        """The ``geo_targets`` row (``now``: when it was resolved)."""
        return {"criterion_id": self.criterion_id, "name": self.name, "canonical_name": self.canonical_name,
                "country_code": self.country_code, "target_type": self.target_type, "status": self.status,
                "iso_3166_2": self.iso_3166_2, "resolved_at": now}


# Google target types below or beside the first subdivision level: never a region of our own.
_NOT_SUBDIVISIONS = frozenset({"country", "city", "county", "dma region", "postal code", "municipality",
                               "neighborhood", "airport", "university", "city region", "district"})


@lru_cache(maxsize=1)
def seed_geo_targets() -> dict[int, GeoTarget]:
    """The shipped table (``geo_targets_us.csv``: the US and its states) as geo targets, by id."""
    status = {"Active": "ENABLED"}
    return {int(r["criteria_id"]): GeoTarget(int(r["criteria_id"]), r["name"], r["canonical_name"],
                                             r["country_code"], r["target_type"], status.get(r["status"], r["status"]))
            for r in google_geo_targets()}


def meta_region_code(region_name: str, country_code: str = "US") -> str | None:
    """ISO 3166-2 code of a Meta ``region`` breakdown value, or None when unknown ("Unknown")."""
    sub = _by_meta_name().get((country_code.upper(), region_name.strip().casefold()))
    return sub.iso_code if sub else None


@lru_cache(maxsize=512)
def meta_region(region_name: str) -> Subdivision | None:
    """The subdivision behind a Meta ``region`` value in any country we map ("Texas", "Ontario").

    Our subdivision names are unique across the countries we map, so the name alone decides.
    None for "Unknown" and names we do not know.
    """
    key = region_name.strip().casefold()
    for (_country, name), sub in _by_meta_name().items():
        if name == key:
            return sub
    return None


def meta_region_name(iso_code: str) -> str:
    """The name Meta's region breakdown uses for an ISO 3166-2 code (what the sandbox serves)."""
    if iso_code == "US-DC":
        return "Washington, District of Columbia"
    return subdivisions()[iso_code].name


@lru_cache(maxsize=4096)
def google_region(criterion: int | str) -> Subdivision | None:
    """The subdivision behind a Google geo target constant id or resource name, or None."""
    cid = google_criterion_id(criterion)
    return _by_google_id().get(cid) if cid is not None else None


def google_criterion_id(value: int | str) -> int | None:
    """The numeric id of ``geoTargetConstants/21176`` or ``21176``; None when not numeric."""
    text = str(value).rsplit("/", 1)[-1]
    return int(text) if text.isdigit() else None


@lru_cache(maxsize=1024)
def google_country_code(criterion: int | str) -> str | None:
    """ISO alpha-2 of a Google country criterion id (2840 → "US"), or None when unknown."""
    cid = google_criterion_id(criterion)
    if cid is None:
        return None
    numeric = f"{cid - GOOGLE_COUNTRY_OFFSET:03d}"
    for alpha2, row in _countries().items():
        if row["numeric"] == numeric:
            return alpha2
    return None


def google_country_criterion(country_code: str) -> int:
    """Google's country criterion id for an ISO alpha-2 code ("US" → 2840).

    Raises:
        KeyError: The country is not in ``countries.csv``.
    """
    return GOOGLE_COUNTRY_OFFSET + int(_countries()[country_code.upper()]["numeric"])


@lru_cache(maxsize=4096)
def tiktok_region(location_id: int | str) -> Subdivision | None:
    """The subdivision behind a TikTok ``province_id`` (a GeoNames id), or None when unknown."""
    return _by_tiktok_id().get(str(location_id).strip())


def region_country(iso_code: str) -> str:
    """The country part of an ISO 3166-2 code ("US-TX" → "US")."""
    return iso_code.split("-", 1)[0]
