"""The catalog of one brand: products, variants (SKUs), prices, unit costs and each product's role.

Roles say what the world does with a product:

* ``low_cover`` (SKU-A), ``overstock`` (SKU-B, SKU-C), ``stockout`` (SKU-D): planted situations,
  one variant each so "the product" and "the SKU" are the same thing.
* ``clean``: never advertised, healthy stock; the models must not flag them.
* ``promoted`` / ``unpromoted``: the ordinary catalog, with and without campaigns.
* ``archived``, ``draft``, ``deleted``: lifecycle cases (an archived product stops selling, a draft
  never sold, a deleted product stays in the tables with ``is_active`` False).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from tower_dev.world.brands import BrandProfile

# name words × (product type, options, price multiplier per option) per category
_CATEGORIES: dict[str, dict] = {
    "candles": {
        "prefix": "ACM",
        "price": 30.0,
        "product_type": "Home Fragrance",
        "names": [
            "Cedar & Smoke",
            "Fig Leaf",
            "Sea Salt Orchid",
            "Amber Noir",
            "Lavender Fields",
            "Black Currant",
            "Vanilla Bourbon",
            "Palo Santo",
            "White Tea",
            "Sandalwood Rose",
            "Citrus Grove",
            "Pine Cabin",
            "Honey Tobacco",
            "Coastal Linen",
            "Spiced Pear",
            "Eucalyptus Mint",
            "Oud & Saffron",
            "Cashmere Plum",
            "Bergamot Vetiver",
            "Apple Orchard",
        ],
        "types": [
            ("Candle", ["8 oz", "16 oz", "3-Wick"], [1.0, 1.6, 2.1]),
            ("Reed Diffuser", ["100 ml", "200 ml"], [1.1, 1.8]),
            ("Wax Melts", ["6-pack", "12-pack"], [0.5, 0.9]),
            ("Room Spray", ["4 oz"], [0.7]),
            ("Travel Tin", ["4 oz", "Set of 3"], [0.5, 1.2]),
        ],
    },
    "wellness": {
        "prefix": "UWC",
        "price": 34.0,
        "product_type": "Supplements",
        "names": [
            "Daily",
            "Calm",
            "Deep Sleep",
            "Focus",
            "Immune",
            "Glow",
            "Gut Health",
            "Recovery",
            "Morning",
            "Balance",
            "Clean Energy",
            "Restore",
        ],
        "types": [
            ("Magnesium Blend", ["60 ct", "120 ct"], [1.0, 1.7]),
            ("Gummies", ["30 ct", "60 ct", "90 ct"], [0.8, 1.4, 1.9]),
            ("Tea Blend", ["20 bags", "40 bags"], [0.5, 0.9]),
            ("Protein Powder", ["1 lb", "2 lb"], [1.3, 2.2]),
            ("Collagen Peptides", ["30 servings"], [1.4]),
            ("Electrolyte Mix", ["20 sticks", "40 sticks"], [0.7, 1.2]),
        ],
    },
    "outdoor": {
        "prefix": "MNM",
        "price": 48.0,
        "product_type": "Apparel",
        "names": [
            "Alpine",
            "Cedar",
            "Harbour",
            "Northern",
            "Glacier",
            "Trailhead",
            "Birch",
            "Summit",
            "Muskoka",
            "Tundra",
            "Lakeshore",
            "Algonquin",
        ],
        "types": [
            ("Merino Beanie", ["Charcoal", "Forest", "Rust"], [0.6, 0.6, 0.6]),
            ("Fleece Pullover", ["S", "M", "L"], [1.8, 1.8, 1.8]),
            ("Wool Socks", ["M", "L"], [0.45, 0.45]),
            ("Rain Shell", ["S", "M", "L"], [3.0, 3.0, 3.0]),
            ("Flannel Shirt", ["M", "L", "XL"], [1.5, 1.5, 1.5]),
            ("Canvas Tote", ["One size"], [0.8]),
        ],
    },
    "coffee": {
        "prefix": "GHC",
        "price": 19.0,
        "product_type": "Coffee",
        "names": [
            "Ethiopia Guji",
            "Colombia Huila",
            "House",
            "Espresso",
            "Decaf",
            "Sumatra",
            "Kenya AA",
            "Guatemala",
            "Night Owl",
            "Sunrise",
        ],
        "types": [
            ("Whole Bean", ["12 oz", "2 lb"], [1.0, 2.4]),
            ("Ground", ["12 oz"], [1.0]),
            ("Cold Brew Packs", ["4-pack"], [0.9]),
            ("Drip Bags", ["10 ct"], [0.8]),
        ],
    },
    "apparel": {
        "prefix": "TPS",
        "price": 58.0,
        "product_type": "Swimwear",
        "names": ["Reef", "Lagoon", "Coral", "Dune", "Breaker", "Sandbar", "Kelp", "Shoreline"],
        "types": [
            ("One-Piece", ["XS", "S", "M", "L"], [1.0] * 4),
            ("Bikini Top", ["S", "M", "L"], [0.6] * 3),
            ("Board Short", ["30", "32", "34"], [0.9] * 3),
            ("Rash Guard", ["S", "M", "L"], [0.8] * 3),
        ],
    },
    "pet": {
        "prefix": "JPS",
        "price": 24.0,
        "product_type": "Pet Supplies",
        "names": ["Trail", "Cozy", "Chew-Proof", "Everyday", "Calming", "Orchard", "Meadow", "Harbor"],
        "types": [
            ("Dog Bed", ["S", "M", "L"], [2.0, 2.6, 3.2]),
            ("Leash", ["4 ft", "6 ft"], [0.8, 0.9]),
            ("Treats", ["8 oz", "16 oz"], [0.5, 0.9]),
            ("Cat Toy Set", ["3-pack"], [0.6]),
        ],
    },
    "kitchen": {
        "prefix": "CLC",
        "price": 65.0,
        "product_type": "Cookware",
        "names": ["Classic", "Pro", "Heritage", "Everyday", "Chef's", "Copper Core", "Carbon", "Enamel"],
        "types": [
            ("Skillet", ["8 in", "10 in", "12 in"], [0.8, 1.0, 1.3]),
            ("Saucepan", ["2 qt", "3 qt"], [1.0, 1.2]),
            ("Dutch Oven", ["5 qt", "7 qt"], [2.2, 2.7]),
            ("Utensil Set", ["5 pc"], [0.5]),
        ],
    },
}


def slugify(text: str) -> str:
    """Shopify-style handle: lower case, words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("&", "and")).strip("-")


@dataclass
class Catalog:
    """Products and variants of one brand as parallel arrays (index = position)."""

    # products
    p_title: list[str]
    p_handle: list[str]
    p_type: list[str]
    p_role: list[str]
    p_status: list[str]
    # variants
    v_product: np.ndarray
    v_title: list[str]
    v_sku: list[str]
    v_price: np.ndarray  # cents
    v_cost: np.ndarray  # cents
    v_popularity: np.ndarray
    v_role: np.ndarray  # role of the product, per variant (object array of str)
    # lifecycle, in day indices of the history: sells on days [sell_from, sell_until);
    # inventory rows exist on days [rows_from, rows_until)
    v_sell_from: np.ndarray
    v_sell_until: np.ndarray
    v_rows_from: np.ndarray
    v_rows_until: np.ndarray
    labels: dict[int, str] = field(default_factory=dict)  # variant index → "SKU-A" ...
    vendor: str = ""

    @property
    def n_products(self) -> int:
        return len(self.p_title)

    @property
    def n_variants(self) -> int:
        return len(self.v_product)

    def variants_with_role(self, *roles: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.v_role, roles))


def build_catalog(profile: BrandProfile, skus: int, days: int, rng: np.random.Generator) -> Catalog:
    """Draw the catalog of one brand with exactly ``skus`` variants."""
    cat = _CATEGORIES[profile.category]
    combos = [(n, t) for t in range(len(cat["types"])) for n in cat["names"]]
    order = rng.permutation(len(combos))

    # Roles first: planted (one variant each), clean, lifecycle, then the ordinary catalog.
    roles: list[str] = []
    if profile.situation("low_cover_pushed"):
        roles.append("low_cover")
    over = profile.situation("overstock_unsupported")
    roles += ["overstock"] * (over.count if over else 0)
    if profile.situation("stockout_with_spend"):
        roles.append("stockout")
    n_clean = max(2, skus // 10)
    roles += ["clean"] * n_clean
    roles += ["archived", "draft", "deleted"]
    single = {"low_cover", "overstock", "stockout", "clean", "draft", "deleted"}
    used = len(roles) + 1  # archived has two variants
    if used > skus - 2:
        raise ValueError(f"skus={skus} is too few for this brand's planted situations (need ≥ {used + 2})")

    p_title, p_handle, p_type, p_role, p_status = [], [], [], [], []
    v_product, v_title, v_sku, v_price, v_cost, v_pop, v_role = [], [], [], [], [], [], []
    remaining = skus
    k = 0
    while remaining > 0:
        role = roles[k] if k < len(roles) else "ordinary"
        name, t = combos[order[k % len(combos)]]
        type_name, options, mults = cat["types"][t]
        title = f"{name} {type_name}"
        if k >= len(combos):
            title += f" {k // len(combos) + 1}"
        if role in single:
            n_var = 1
        elif role == "archived":
            n_var = min(2, len(options), remaining)
        else:
            n_var = int(min(len(options), remaining, 1 + rng.integers(0, 3)))
        base = cat["price"] * float(rng.lognormal(0.0, 0.25))
        p_index = len(p_title)
        p_title.append(title)
        p_handle.append(slugify(title))
        p_type.append(cat["product_type"])
        p_role.append(role)
        p_status.append({"archived": "ARCHIVED", "draft": "DRAFT"}.get(role, "ACTIVE"))
        for j in range(n_var):
            price = max(4.95, round(base * mults[j]) - 0.05)
            v_product.append(p_index)
            v_title.append(options[j])
            v_sku.append(f"{cat['prefix']}-{type_name[:3].upper()}-{1001 + len(v_sku)}")
            v_price.append(round(price * 100))
            v_cost.append(round(price * 100 * float(rng.uniform(0.22, 0.42))))
            v_pop.append(float(rng.lognormal(0.0, 0.7)))
            v_role.append(role)
        remaining -= n_var
        k += 1

    v_role_arr = np.array(v_role, dtype=object)
    ordinary = np.flatnonzero(v_role_arr == "ordinary")
    # The ordinary catalog splits into advertised and not (by product, so all variants follow).
    ord_products = sorted({v_product[i] for i in ordinary})
    n_promoted = max(1, min(len(ord_products) - 1, round(len(ord_products) * 0.6)))
    promoted = (
        set(rng.choice(ord_products, size=n_promoted, replace=False).tolist()) if ord_products else set()
    )
    for i in ordinary:
        v_role_arr[i] = "promoted" if v_product[i] in promoted else "unpromoted"
    for p in range(len(p_role)):
        if p_role[p] == "ordinary":
            p_role[p] = "promoted" if p in promoted else "unpromoted"

    n = len(v_product)
    v_sell_from = np.zeros(n, dtype=np.int64)
    v_sell_until = np.full(n, days, dtype=np.int64)
    v_rows_from = np.zeros(n, dtype=np.int64)
    v_rows_until = np.full(n, days, dtype=np.int64)
    archived_day = int(days * 0.6)
    deleted_day = days - 25 if days >= 50 else int(days * 0.7)
    draft_day = max(1, days - 10)
    for i in range(n):
        role = v_role_arr[i]
        if role == "archived":
            v_sell_until[i] = archived_day
        elif role == "deleted":
            v_sell_until[i] = deleted_day
            v_rows_until[i] = deleted_day
        elif role == "draft":
            v_sell_until[i] = 0
            v_rows_from[i] = draft_day
    pop = np.array(v_pop)
    # Planted SKUs sell well (they are what the brand pushes); clean products are steady sellers so
    # their velocity is measurable at every location.
    pop[np.isin(v_role_arr, ["low_cover", "overstock", "stockout"])] = 1.6
    pop[v_role_arr == "clean"] = np.maximum(pop[v_role_arr == "clean"], 1.2)

    # The product plan's names: SKU-A low cover, SKU-B/SKU-C overstock, SKU-D out of stock.
    labels = {int(i): "SKU-A" for i in np.flatnonzero(v_role_arr == "low_cover")}
    over_letters = iter("BCEFGH")
    labels.update({int(i): f"SKU-{next(over_letters)}" for i in np.flatnonzero(v_role_arr == "overstock")})
    labels.update({int(i): "SKU-D" for i in np.flatnonzero(v_role_arr == "stockout")})
    return Catalog(
        p_title=p_title,
        p_handle=p_handle,
        p_type=p_type,
        p_role=p_role,
        p_status=p_status,
        v_product=np.array(v_product, dtype=np.int64),
        v_title=v_title,
        v_sku=v_sku,
        v_price=np.array(v_price, dtype=np.int64),
        v_cost=np.array(v_cost, dtype=np.int64),
        v_popularity=pop,
        v_role=v_role_arr,
        v_sell_from=v_sell_from,
        v_sell_until=v_sell_until,
        v_rows_from=v_rows_from,
        v_rows_until=v_rows_until,
        labels=labels,
        vendor=profile.name,
    )
