"""Where customers live and where stock sits: US states and Canadian provinces, with the facts the world needs.

Populations are the 2020 US census and the 2021 Canadian census (thousands), so shipping regions
are weighted like real demand. Coordinates are rough population centres (for routing orders to
the nearest warehouse), tax rates are state / provincial base rates, ZIP3 ranges are the USPS
prefixes of each state and the letters the first letter of Canadian postal codes.

Google Ads criterion ids of the states come from Google's published geotargets (2026-08-12 dump,
the copy in ``../shared/fixtures/google_ads/``; a test checks this table against it). They are
not in alphabetical order and 21134 / 21181 are unused, so they are listed, not computed. Google
Ads country criteria are 2000 + the ISO 3166-1 numeric code (2840 United States, 2124 Canada).
No verified public table of Google's or TikTok's Canadian province ids was at hand, so the world
reports Google and TikTok rows in Canada at country level (``region_code`` ''), the documented
fallback of the ``ad_performance`` table; Meta names Canadian provinces like US states.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Region:
    """One shipping / ad-targeting region (a US state, DC or a Canadian province or territory)."""

    code: str  # ISO 3166-2, e.g. "US-TX"
    name: str  # English name as Meta and TikTok report it, e.g. "Texas"
    country: str  # ISO 3166-1 alpha-2
    population_k: int
    lat: float
    lon: float
    tax_rate: float  # base sales tax (US) or GST/HST/PST (CA) as a fraction
    census_region: str  # US Census region; "Canada" for provinces
    cities: tuple[str, ...]
    zip3: tuple[int, int] | None  # US ZIP3 range, inclusive
    postal_letters: str  # Canadian postal-code first letters
    google_geo_id: int | None  # Google Ads geoTargetConstants id (US states only, see module doc)

    @property
    def subdivision(self) -> str:
        """The part after the dash ("TX"): Shopify's provinceCode."""
        return self.code.split("-", 1)[1]


def _us(
    code: str,
    name: str,
    pop: int,
    lat: float,
    lon: float,
    tax: float,
    census: str,
    cities: str,
    z0: int,
    z1: int,
    gid: int,
) -> Region:
    return Region(
        f"US-{code}",
        name,
        "US",
        pop,
        lat,
        lon,
        tax / 100,
        census,
        tuple(cities.split("|")),
        (z0, z1),
        "",
        gid,
    )


def _ca(
    code: str, name: str, pop: int, lat: float, lon: float, tax: float, cities: str, letters: str
) -> Region:
    return Region(
        f"CA-{code}",
        name,
        "CA",
        pop,
        lat,
        lon,
        tax / 100,
        "Canada",
        tuple(cities.split("|")),
        None,
        letters,
        None,
    )


# fmt: off
REGIONS: tuple[Region, ...] = (
    _us("AL", "Alabama", 5024, 33.0, -86.8, 4.0, "South", "Birmingham|Montgomery|Huntsville", 350, 369, 21133),
    _us("AK", "Alaska", 733, 61.2, -149.9, 0.0, "West", "Anchorage|Fairbanks", 995, 999, 21132),
    _us("AZ", "Arizona", 7152, 33.4, -112.0, 5.6, "West", "Phoenix|Tucson|Mesa", 850, 865, 21136),
    _us("AR", "Arkansas", 3012, 34.9, -92.4, 6.5, "South", "Little Rock|Fayetteville", 716, 729, 21135),
    _us("CA", "California", 39538, 35.5, -119.4, 7.25, "West", "Los Angeles|San Diego|San Jose|Sacramento", 900, 961, 21137),
    _us("CO", "Colorado", 5774, 39.6, -105.0, 2.9, "West", "Denver|Colorado Springs|Boulder", 800, 816, 21138),
    _us("CT", "Connecticut", 3606, 41.6, -72.7, 6.35, "Northeast", "Hartford|New Haven|Stamford", 60, 69, 21139),
    _us("DE", "Delaware", 990, 39.3, -75.5, 0.0, "South", "Wilmington|Dover", 197, 199, 21141),
    _us("DC", "District of Columbia", 690, 38.9, -77.0, 6.0, "South", "Washington", 200, 205, 21140),
    _us("FL", "Florida", 21538, 27.8, -81.6, 6.0, "South", "Miami|Orlando|Tampa|Jacksonville", 320, 349, 21142),
    _us("GA", "Georgia", 10712, 33.3, -84.0, 4.0, "South", "Atlanta|Savannah|Augusta", 300, 319, 21143),
    _us("HI", "Hawaii", 1455, 21.3, -157.8, 4.0, "West", "Honolulu|Hilo", 967, 968, 21144),
    _us("ID", "Idaho", 1839, 43.6, -116.2, 6.0, "West", "Boise|Meridian", 832, 838, 21146),
    _us("IL", "Illinois", 12812, 41.3, -88.4, 6.25, "Midwest", "Chicago|Naperville|Springfield", 600, 629, 21147),
    _us("IN", "Indiana", 6786, 39.9, -86.3, 7.0, "Midwest", "Indianapolis|Fort Wayne", 460, 479, 21148),
    _us("IA", "Iowa", 3190, 41.9, -93.0, 6.0, "Midwest", "Des Moines|Cedar Rapids", 500, 528, 21145),
    _us("KS", "Kansas", 2938, 38.5, -97.0, 6.5, "Midwest", "Wichita|Overland Park", 660, 679, 21149),
    _us("KY", "Kentucky", 4506, 37.8, -85.2, 6.0, "South", "Louisville|Lexington", 400, 427, 21150),
    _us("LA", "Louisiana", 4658, 30.7, -91.5, 4.45, "South", "New Orleans|Baton Rouge", 700, 714, 21151),
    _us("ME", "Maine", 1362, 44.3, -69.8, 5.5, "Northeast", "Portland|Bangor", 39, 49, 21154),
    _us("MD", "Maryland", 6177, 39.1, -76.8, 6.0, "South", "Baltimore|Columbia|Rockville", 206, 219, 21153),
    _us("MA", "Massachusetts", 7030, 42.3, -71.4, 6.25, "Northeast", "Boston|Worcester|Cambridge", 10, 27, 21152),
    _us("MI", "Michigan", 10077, 42.9, -84.2, 6.0, "Midwest", "Detroit|Grand Rapids|Ann Arbor", 480, 499, 21155),
    _us("MN", "Minnesota", 5706, 45.2, -93.6, 6.875, "Midwest", "Minneapolis|Saint Paul|Duluth", 550, 567, 21156),
    _us("MS", "Mississippi", 2961, 32.6, -89.7, 7.0, "South", "Jackson|Gulfport", 386, 397, 21158),
    _us("MO", "Missouri", 6154, 38.4, -92.2, 4.225, "Midwest", "St. Louis|Kansas City|Springfield", 630, 658, 21157),
    _us("MT", "Montana", 1084, 46.6, -110.9, 0.0, "West", "Billings|Missoula|Bozeman", 590, 599, 21159),
    _us("NE", "Nebraska", 1962, 41.2, -97.0, 5.5, "Midwest", "Omaha|Lincoln", 680, 693, 21162),
    _us("NV", "Nevada", 3105, 36.6, -115.5, 6.85, "West", "Las Vegas|Reno|Henderson", 889, 898, 21166),
    _us("NH", "New Hampshire", 1378, 43.2, -71.5, 0.0, "Northeast", "Manchester|Nashua", 30, 38, 21163),
    _us("NJ", "New Jersey", 9289, 40.4, -74.4, 6.625, "Northeast", "Newark|Jersey City|Hoboken", 70, 89, 21164),
    _us("NM", "New Mexico", 2118, 34.8, -106.4, 4.875, "West", "Albuquerque|Santa Fe", 870, 884, 21165),
    _us("NY", "New York", 20201, 41.5, -74.6, 4.0, "Northeast", "New York|Brooklyn|Buffalo", 100, 149, 21167),
    _us("NC", "North Carolina", 10439, 35.6, -79.6, 4.75, "South", "Charlotte|Raleigh|Durham", 270, 289, 21160),
    _us("ND", "North Dakota", 779, 47.4, -99.5, 5.0, "Midwest", "Fargo|Bismarck", 580, 588, 21161),
    _us("OH", "Ohio", 11799, 40.5, -82.7, 5.75, "Midwest", "Columbus|Cleveland|Cincinnati", 430, 458, 21168),
    _us("OK", "Oklahoma", 3959, 35.6, -96.8, 4.5, "South", "Oklahoma City|Tulsa", 730, 749, 21169),
    _us("OR", "Oregon", 4237, 44.7, -122.7, 0.0, "West", "Portland|Eugene|Salem", 970, 979, 21170),
    _us("PA", "Pennsylvania", 13003, 40.5, -77.0, 6.0, "Northeast", "Philadelphia|Pittsburgh|Allentown", 150, 196, 21171),
    _us("RI", "Rhode Island", 1097, 41.8, -71.4, 7.0, "Northeast", "Providence|Warwick", 28, 29, 21172),
    _us("SC", "South Carolina", 5118, 34.0, -81.0, 6.0, "South", "Charleston|Columbia|Greenville", 290, 299, 21173),
    _us("SD", "South Dakota", 887, 44.0, -99.0, 4.2, "Midwest", "Sioux Falls|Rapid City", 570, 577, 21174),
    _us("TN", "Tennessee", 6911, 35.8, -86.4, 7.0, "South", "Nashville|Memphis|Knoxville", 370, 385, 21175),
    _us("TX", "Texas", 29146, 30.9, -97.4, 6.25, "South", "Houston|Dallas|Austin|San Antonio", 750, 799, 21176),
    _us("UT", "Utah", 3272, 40.5, -111.9, 6.1, "West", "Salt Lake City|Provo", 840, 847, 21177),
    _us("VT", "Vermont", 643, 44.1, -72.8, 6.0, "Northeast", "Burlington|Montpelier", 50, 59, 21179),
    _us("VA", "Virginia", 8631, 38.0, -77.8, 5.3, "South", "Richmond|Virginia Beach|Arlington", 220, 246, 21178),
    _us("WA", "Washington", 7705, 47.3, -121.6, 6.5, "West", "Seattle|Spokane|Tacoma", 980, 994, 21180),
    _us("WV", "West Virginia", 1794, 38.8, -80.9, 6.0, "South", "Charleston|Huntington", 247, 268, 21183),
    _us("WI", "Wisconsin", 5894, 43.7, -89.0, 5.0, "Midwest", "Milwaukee|Madison|Green Bay", 530, 549, 21182),
    _us("WY", "Wyoming", 577, 42.8, -107.0, 4.0, "West", "Cheyenne|Casper", 820, 831, 21184),
    _ca("ON", "Ontario", 14223, 43.9, -79.7, 13.0, "Toronto|Ottawa|Hamilton|London|Mississauga", "KLMNP"),
    _ca("QC", "Quebec", 8502, 46.0, -73.0, 14.975, "Montreal|Quebec City|Laval|Gatineau", "GHJ"),
    _ca("BC", "British Columbia", 5000, 49.5, -123.0, 12.0, "Vancouver|Victoria|Surrey|Kelowna", "V"),
    _ca("AB", "Alberta", 4262, 52.0, -113.8, 5.0, "Calgary|Edmonton|Red Deer", "T"),
    _ca("MB", "Manitoba", 1342, 50.0, -97.5, 12.0, "Winnipeg|Brandon", "R"),
    _ca("SK", "Saskatchewan", 1132, 51.5, -106.0, 11.0, "Saskatoon|Regina", "S"),
    _ca("NS", "Nova Scotia", 969, 44.9, -63.5, 14.0, "Halifax|Sydney", "B"),
    _ca("NB", "New Brunswick", 776, 46.0, -66.0, 15.0, "Moncton|Fredericton|Saint John", "E"),
    _ca("NL", "Newfoundland and Labrador", 510, 47.8, -53.5, 15.0, "St. John's|Corner Brook", "A"),
    _ca("PE", "Prince Edward Island", 155, 46.3, -63.2, 15.0, "Charlottetown", "C"),
    _ca("NT", "Northwest Territories", 41, 62.5, -114.4, 5.0, "Yellowknife", "X"),
    _ca("YT", "Yukon", 40, 60.7, -135.1, 5.0, "Whitehorse", "Y"),
    _ca("NU", "Nunavut", 37, 63.7, -68.5, 5.0, "Iqaluit", "X"),
)
# fmt: on

BY_CODE: dict[str, Region] = {r.code: r for r in REGIONS}

COUNTRY_NAMES = {"US": "United States", "CA": "Canada"}
# Google Ads country criteria: 2000 + ISO 3166-1 numeric.
GOOGLE_COUNTRY_IDS = {"US": 2840, "CA": 2124}

# TikTok reports ``province_id`` as a GeoNames id (same table as tower/data/tiktok_locations_us.csv).
TIKTOK_LOCATION_IDS: dict[str, str] = {
    "US-AK": "5879092",
    "US-AL": "4829764",
    "US-AR": "4099753",
    "US-AZ": "5551752",
    "US-CA": "5332921",
    "US-CO": "5417618",
    "US-CT": "4831725",
    "US-DC": "4138106",
    "US-DE": "4142224",
    "US-FL": "4155751",
    "US-GA": "4197000",
    "US-HI": "5855797",
    "US-IA": "4862182",
    "US-ID": "5596512",
    "US-IL": "4896861",
    "US-IN": "4921868",
    "US-KS": "4273857",
    "US-KY": "6254925",
    "US-LA": "4331987",
    "US-MA": "6254926",
    "US-MD": "4361885",
    "US-ME": "4971068",
    "US-MI": "5001836",
    "US-MN": "5037779",
    "US-MO": "4398678",
    "US-MS": "4436296",
    "US-MT": "5667009",
    "US-NC": "4482348",
    "US-ND": "5690763",
    "US-NE": "5073708",
    "US-NH": "5090174",
    "US-NJ": "5101760",
    "US-NM": "5481136",
    "US-NV": "5509151",
    "US-NY": "5128638",
    "US-OH": "5165418",
    "US-OK": "4544379",
    "US-OR": "5744337",
    "US-PA": "6254927",
    "US-RI": "5224323",
    "US-SC": "4597040",
    "US-SD": "5769223",
    "US-TN": "4662168",
    "US-TX": "4736286",
    "US-UT": "5549030",
    "US-VA": "6254928",
    "US-VT": "5242283",
    "US-WA": "5815135",
    "US-WI": "5279468",
    "US-WV": "4826850",
    "US-WY": "5843591",
}

MIDWEST: tuple[str, ...] = tuple(r.code for r in REGIONS if r.census_region == "Midwest")


def regions_of(countries: tuple[str, ...]) -> list[Region]:
    """The regions of the given countries, in table order (deterministic)."""
    return [r for r in REGIONS if r.country in countries]


def population_weights(regions: list[Region], country_shares: dict[str, float]) -> np.ndarray:
    """Demand weight per region: population share within its country times the country's share."""
    pops = np.array([r.population_k for r in regions], dtype=float)
    out = np.zeros(len(regions))
    for country, share in country_shares.items():
        mask = np.array([r.country == country for r in regions])
        if mask.any():
            out[mask] = pops[mask] / pops[mask].sum() * share
    return out / out.sum()


def distance_km(
    lat1: np.ndarray | float, lon1: np.ndarray | float, lat2: np.ndarray | float, lon2: np.ndarray | float
) -> np.ndarray:
    """Great-circle distance (haversine), vectorised."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat = p2 - p1
    dlon = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(a)))


def platform_region(platform: str, region: Region) -> tuple[str, str]:
    """``(region_code, region_name)`` of an ad_performance row for a customer region, per platform.

    Meta reports English names (DC as "Washington, District of Columbia"), Google Ads a geo target
    constant resource name, TikTok a GeoNames id. Where the platform's id for a region is not
    verified (Google and TikTok in Canada) the row stays at country level: ``("", "")``.
    """
    if platform == "meta":
        if region.code == "US-DC":
            return region.code, "Washington, District of Columbia"
        return region.code, region.name
    if platform == "google_ads":
        if region.google_geo_id is None:
            return "", ""
        return region.code, f"geoTargetConstants/{region.google_geo_id}"
    if platform == "tiktok":
        location = TIKTOK_LOCATION_IDS.get(region.code)
        return (region.code, location) if location else ("", "")
    raise ValueError(f"unknown ad platform {platform!r}")
