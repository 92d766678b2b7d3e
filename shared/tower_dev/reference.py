"""A plain-Python reference of every SQL model: one order, one SKU, one row at a time.

It states the models' rules a second time, in the most direct form (loops, dicts), so tests can check
that the set-based SQL on DuckDB computes exactly the same rows on small worlds. It is slow by design and
never used by the product. The comments in ``tower/sql/models/*.sql`` are the specification; where this
file and a model disagree, one of them has a bug.

Input rows are dicts shaped like the DDL (what ``Warehouse.rows`` or ``pa.Table.to_pylist`` returns).
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tower.analytics.parameters import ATTRIBUTION_MODELS, EVERY_MODEL, ModelParameters, week_start

Row = dict[str, Any]
INPUT_TABLES = (
    "brands", "products", "variants", "locations", "location_regions", "inventory_levels", "orders",
    "order_line_items", "fulfillment_orders", "fulfillment_order_line_items", "ad_campaigns",
    "ad_campaign_products", "ad_campaign_destinations", "ad_performance", "fx_rates", "google_click_views",
)


@dataclass
class Inputs:
    """The warehouse's input tables as lists of dict rows (every brand; the reference filters)."""

    tables: dict[str, list[Row]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> list[Row]:
        return self.tables.get(name, [])


def _f(x: Any) -> float | None:
    return None if x is None else float(x)


def _sum(values: Iterable[float | None]) -> float | None:
    """SQL SUM: NULLs ignored, NULL when nothing is left."""
    vals = [v for v in values if v is not None]
    return sum(vals) if vals else None


def _div(a: float | None, b: float | None) -> float | None:
    """SAFE_DIVIDE."""
    if a is None or b is None or b == 0:
        return None
    return a / b


def _day_start(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def _local_date(ts: datetime, tz: str) -> date:
    return ts.astimezone(ZoneInfo(tz)).date()


_SEARCH_REFERRER = re.compile(r"^https?://([a-z0-9-]+\.)*(google|bing|yahoo|duckduckgo|ecosia|baidu|yandex)\.")
_SEARCH_CLICK = re.compile(r"[?&](gclid|gbraid|wbraid|msclkid)=")
_META_REFERRER = re.compile(r"^https?://([a-z0-9-]+\.)*(facebook|instagram|fb)\.com")
_TIKTOK_REFERRER = re.compile(r"^https?://([a-z0-9-]+\.)*tiktok\.com")


def _known_source(o: Row, click: str | None) -> str | None:
    """The non-paid source an order's journey proves (stg_shopify__orders.known_source), else None."""
    medium = (o.get("utm_medium") or "").lower()
    if (o.get("sales_channel") or "").lower() in ("pos", "shopify_draft_order"):
        return "organic"
    if click is not None:
        return None
    if medium in ("email", "e-mail", "newsletter", "sms"):
        return "email"
    if medium in ("organic", "referral", "social-organic", "social_organic", "organic_social"):
        return "organic"
    referrer = (o.get("referrer_url") or "").lower()
    if (o.get("utm_medium") is None and _SEARCH_REFERRER.search(referrer)
            and not _SEARCH_CLICK.search((o.get("landing_site") or "").lower())):
        return "organic"
    if o.get("utm_medium") is None:
        tactic = (o.get("journey_source_type") or "").upper()
        if tactic in ("NEWSLETTER", "ABANDONED_CART", "TRANSACTIONAL") or (
                (o.get("journey_source") or "").lower() in ("email", "e-mail", "newsletter", "sms")):
            return "email"
        if tactic in ("SEO", "POST"):
            return "organic"
    return None


def _utc(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class Reference:
    """The models for one brand and window, computed row by row."""

    def __init__(
        self, inputs: Inputs, brand_id: str, start: date, end: date, params: ModelParameters, as_of: date
    ) -> None:
        self.inputs = inputs
        self.brand_id = brand_id
        self.start = start
        self.end = end
        self.p = params
        self.as_of = as_of
        (self.brand,) = [b for b in inputs["brands"] if b["brand_id"] == brand_id]
        self.currency = self.brand["currency"]
        self.scan_start = start - timedelta(days=params.scan_days)
        self._fx = self._rates()
        self.orders = self._stg_orders()
        self.lines = self._stg_lines()
        self.ads = self._stg_ads()

    def _mine(self, table: str) -> list[Row]:
        return [r for r in self.inputs[table] if r.get("brand_id") == self.brand_id]

    # -- staging ------------------------------------------------------------------------------------
    def _promoted(self) -> dict[tuple[str, str], set[str]]:
        """(platform, campaign) -> the products it promotes: product sets and Shopping items as stored,
        destination handles matched to the brand's products by handle."""
        promoted: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in self._mine("ad_campaign_products"):
            promoted[(r["platform"], r["campaign_id"])].add(r["product_id"])
        by_handle: dict[str, set[str]] = defaultdict(set)
        for p in self._mine("products"):
            if p.get("handle") is not None:
                by_handle[p["handle"]].add(p["product_id"])
        for r in self._mine("ad_campaign_destinations"):
            promoted[(r["platform"], r["campaign_id"])] |= by_handle.get(r["product_handle"], set())
        return promoted

    def _rates(self) -> dict[tuple[date, str], float | None]:
        lo = self.start - timedelta(days=self.p.scan_days + 7)
        raw = [r for r in self.inputs["fx_rates"] if lo <= r["rate_date"] < self.end and r["rate"] > 0]
        store = self.currency
        candidates: dict[tuple[date, str], list[tuple[int, str, float]]] = defaultdict(list)
        for r in raw:
            if r["quote_currency"] == store:
                candidates[(r["rate_date"], r["base_currency"])].append((1, "", r["rate"]))
            if r["base_currency"] == store:
                candidates[(r["rate_date"], r["quote_currency"])].append((2, "", 1 / r["rate"]))
        for s in raw:
            if s["quote_currency"] != store:
                continue
            for x in raw:
                if (x["rate_date"] == s["rate_date"] and x["base_currency"] == s["base_currency"]
                        and x["quote_currency"] != store):
                    candidates[(s["rate_date"], x["quote_currency"])].append((3, s["base_currency"], s["rate"] / x["rate"]))
        published = {k: min(v)[2] for k, v in candidates.items() if k[1] != store}
        currencies = {c for _, c in published}
        out: dict[tuple[date, str], float | None] = {}
        day = lo
        while day < self.end:
            out[(day, store)] = 1.0
            for c in currencies:
                rate = None
                for back in range(8):  # the day itself and up to 7 before
                    rate = published.get((day - timedelta(days=back), c))
                    if rate is not None:
                        break
                out[(day, c)] = rate
            day += timedelta(days=1)
        return out

    def rate(self, day: date, currency: str | None) -> float | None:
        return self._fx.get((day, currency))

    def _stg_orders(self) -> dict[str, Row]:
        out = {}
        platforms_by_source = {
            **dict.fromkeys(("facebook", "fb", "instagram", "ig", "meta"), "meta"),
            **dict.fromkeys(("tiktok", "tt"), "tiktok"),
            **dict.fromkeys(("google", "adwords", "google_ads", "youtube"), "google_ads"),
        }
        for o in self._mine("orders"):
            if not (self.scan_start <= o["order_date"] < self.end) or o.get("cancelled_at") is not None:
                continue
            rate = self.rate(o["order_date"], o["currency"])
            revenue = _f(o.get("net_revenue_amount"))
            click = None
            for platform, col in (("google_ads", "gclid"), ("tiktok", "ttclid"), ("meta", "fbclid")):
                if o.get(col):
                    click = platform
                    break
            utm = (o.get("utm_campaign") or "").strip(" ").lower() or None
            utm_platform = platforms_by_source.get((o.get("utm_source") or "").lower())
            referrer = (o.get("referrer_url") or "").lower()
            hint = utm_platform or ("meta" if _META_REFERRER.search(referrer)
                                    else "tiktok" if _TIKTOK_REFERRER.search(referrer) else None)
            out[o["order_id"]] = {
                "order_id": o["order_id"],
                "order_date": o["order_date"],
                "order_at": _utc(o["created_at"]),
                "country_code": o.get("shipping_country_code"),
                "region_code": o.get("shipping_region_code") or None,
                "net_revenue_amount": None if revenue is None or rate is None else revenue * rate,
                "currency": self.currency,
                "utm_campaign_key": utm,
                "gclid": o.get("gclid") or None,
                "click_platform": click,
                "utm_platform": utm_platform,
                "known_source": _known_source(o, click),
                "hint_platform": hint,
            }
        return out

    def _stg_lines(self) -> list[Row]:
        variants = {v["variant_id"]: v for v in self._mine("variants")}
        lines = []
        for li in self._mine("order_line_items"):
            if not (self.scan_start <= li["order_date"] < self.end):
                continue
            o = self.orders.get(li["order_id"])
            if o is None or o["order_date"] != li["order_date"]:
                continue
            v = variants.get(li.get("variant_id"))
            q = li["quantity"]
            rq = min(li.get("refunded_quantity") or 0, q)
            kept = q - rq
            discount = _f(li.get("discount_amount")) or 0.0
            price = _f(li.get("price_amount")) or 0.0
            value = None if q == 0 else max(price * kept - discount * kept / q, 0)
            cost = None
            if v is not None and v.get("unit_cost_amount") is not None:
                rate = self.rate(li["order_date"], v.get("currency") or li["currency"])
                cost = None if rate is None else float(v["unit_cost_amount"]) * rate
            lines.append({
                "line_item_id": li["line_item_id"], "order_id": li["order_id"], "order_date": li["order_date"],
                "product_id": li.get("product_id") or (v["product_id"] if v else None),
                "variant_id": li.get("variant_id"), "quantity": q, "net_quantity": kept, "value": value,
                "unit_cost_amount": cost, "country_code": o["country_code"], "region_code": o["region_code"],
            })
        by_order: dict[str, list[Row]] = defaultdict(list)
        for line in lines:
            by_order[line["order_id"]].append(line)
        for order_id, group in by_order.items():
            total_value = _sum(x["value"] for x in group)
            total_q = sum(x["quantity"] for x in group)
            revenue = self.orders[order_id]["net_revenue_amount"]
            for x in group:
                share = _div(x["value"], total_value)
                if share is None:
                    share = _div(x["quantity"], total_q)
                x["revenue_share"] = share
                x["net_revenue_amount"] = None if revenue is None or share is None else revenue * share
        return lines

    def _stg_ads(self) -> list[Row]:
        campaigns = {(c["platform"], c["campaign_id"]): c for c in self._mine("ad_campaigns")}
        out = []
        for r in self._mine("ad_performance"):
            if not (self.scan_start <= r["stat_date"] < self.end):
                continue
            c = campaigns.get((r["platform"], r["campaign_id"]), {})
            tz = c.get("account_timezone") or self.brand["timezone"]
            rate = self.rate(r["stat_date"], r["currency"])
            spend, value = _f(r.get("spend_amount")), _f(r.get("purchase_value_amount"))
            out.append({
                "platform": r["platform"], "account_id": r["account_id"], "campaign_id": r["campaign_id"],
                "campaign_name": c.get("campaign_name") or r.get("campaign_name"),
                "stat_date": r["stat_date"], "country_code": r["country_code"],
                "region_code": r.get("region_code") or "", "account_timezone": tz,
                "touch_at": _day_start(r["stat_date"], tz),
                "spend_amount": None if spend is None or rate is None else spend * rate,
                "purchase_value_amount": None if value is None or rate is None else value * rate,
                "purchases": r.get("purchases"),
            })
        return out

    # -- attribution -------------------------------------------------------------------------------
    def attributed_orders(self) -> list[Row]:
        """Every order of the window: its credited campaigns per model (or one row for every model: an order no
        campaign touched, or one a deterministic rule placed)."""
        orders = [o for o in self.orders.values() if o["order_date"] >= self.start]
        campaigns = {(c["platform"], c["campaign_id"]): c for c in self._mine("ad_campaigns")}
        keys: dict[str, list[tuple[int, str, str, str]]] = defaultdict(list)
        for c in campaigns.values():
            keys[c["campaign_id"].strip(" ").lower()].append((1, c["platform"], c["account_id"], c["campaign_id"]))
            name = (c.get("campaign_name") or "").strip(" ")
            if name:
                keys[name.lower()].append((2, c["platform"], c["account_id"], c["campaign_id"]))

        promoted = self._promoted()
        products_of: dict[str, set[str]] = defaultdict(set)
        for line in self.lines:
            if line["order_date"] >= self.start and line["product_id"] is not None:
                products_of[line["order_id"]].add(line["product_id"])

        spend_days: dict[tuple, float] = defaultdict(float)
        for a in self.ads:
            if a["spend_amount"] is not None and a["spend_amount"] > 0:
                spend_days[(a["platform"], a["account_id"], a["campaign_id"], a["account_timezone"],
                            a["country_code"], a["region_code"], a["stat_date"], a["touch_at"])] += a["spend_amount"]
        has_regions: dict[tuple[str, str, str], bool] = defaultdict(bool)
        for (platform, _, campaign, _, country, region, _, _) in spend_days:
            has_regions[(platform, campaign, country)] |= region != ""
        # touches[(tz, country, geo_key, stat_date)] -> list of touch dicts; a Google Search or Shopping campaign
        # earns through clicks only: where the orders show gclids (auto-tagging) the geo rule leaves it out
        tagging = any(o["click_platform"] == "google_ads" for o in self.orders.values())
        click_only = {k for k, c in campaigns.items() if tagging and k[0] == "google_ads"
                      and (c.get("objective") or "").upper() in ("SEARCH", "SHOPPING")}
        touches: dict[tuple, list[Row]] = defaultdict(list)
        whole: dict[tuple, float] = defaultdict(float)
        for (platform, account, campaign, tz, country, region, day, at), spend in spend_days.items():
            if (platform, campaign) in click_only:
                continue
            regional = has_regions[(platform, campaign, country)]
            if region != "" or not regional:
                geo = region if regional else ""
                touches[(tz, country, geo, day)].append(
                    {"platform": platform, "account_id": account, "campaign_id": campaign, "stat_date": day,
                     "touch_at": at, "spend": spend})
            whole[(platform, account, campaign, tz, country, day, at)] += spend
        for (platform, account, campaign, tz, country, day, at), spend in whole.items():
            touches[(tz, country, "*", day)].append(
                {"platform": platform, "account_id": account, "campaign_id": campaign, "stat_date": day,
                 "touch_at": at, "spend": spend})
        timezones = sorted({k[0] for k in touches})
        day_spend: dict[tuple[str, str], dict[datetime, float]] = defaultdict(lambda: defaultdict(float))
        for (platform, _, campaign, _, _, _, _, at), spend in spend_days.items():
            day_spend[(platform, campaign)][at] += spend
        placed: list[tuple[Row, str, str]] = []
        geo_credits: list[tuple] = []

        out: list[Row] = []

        def emit(o: Row, model: str, platform: str | None, account: str | None, campaign: str | None,
                 match: str, touch_date: date | None, n: int, credit: float) -> None:
            revenue = o["net_revenue_amount"]
            out.append({
                "brand_id": self.brand_id, "order_id": o["order_id"], "order_date": o["order_date"],
                "order_at": o["order_at"], "attribution_model": model, "platform": platform,
                "campaign_id": campaign, "match_type": match,
                "touch_date": touch_date, "touches": n, "credit": credit,
                "attributed_revenue_amount": None if revenue is None else revenue * credit,
                "currency": self.currency,
            })

        lookback = timedelta(hours=self.p.attribution_lookback_hours)
        half_life_s = 3600.0 * self.p.attribution_half_life_hours
        clicks = self._google_clicks()
        for o in orders:
            viewed = clicks.get(o["gclid"] or "\0")
            if viewed is not None and ("google_ads", viewed["campaign_id"]) in campaigns:
                account = campaigns[("google_ads", viewed["campaign_id"])]["account_id"]
                placed.append((o, "google_ads", viewed["campaign_id"]))
                emit(o, EVERY_MODEL, "google_ads", account, viewed["campaign_id"], "click_id", None, 0, 1.0)
                continue
            matches = keys.get(o["utm_campaign_key"] or "\0", [])
            if matches:
                _, platform, account, campaign = min(
                    matches,
                    key=lambda m: (m[1] != o["click_platform"], m[1] != o["utm_platform"], m[0], m[1], m[3]),
                )
                match = "click_id" if o["click_platform"] == platform else "utm_campaign"
                placed.append((o, platform, campaign))
                emit(o, EVERY_MODEL, platform, account, campaign, match, None, 0, 1.0)
                continue
            clicked = self._click_match(o, campaigns, promoted, products_of[o["order_id"]], day_spend, lookback)
            if clicked is not None:
                placed.append((o, clicked["platform"], clicked["campaign_id"]))
                emit(o, EVERY_MODEL, clicked["platform"], clicked["account_id"], clicked["campaign_id"], "click_id",
                     None, 0, 1.0)
                continue
            only = o["click_platform"] or o["hint_platform"]
            candidates: dict[tuple[str, str], Row] = {}
            if o["country_code"] is not None and o["known_source"] is None:
                geos = ["*"] if o["region_code"] is None else [o["region_code"], ""]
                for tz in timezones:
                    hi = _local_date(o["order_at"], tz)
                    lo = _local_date(o["order_at"] - lookback, tz)
                    hi_at = _day_start(hi, tz)
                    for geo in geos:
                        day = lo + timedelta(days=1)
                        while day <= hi:
                            for t in touches.get((tz, o["country_code"], geo, day), []):
                                key = (t["platform"], t["campaign_id"])
                                if only is not None and t["platform"] != only:
                                    continue
                                if key in promoted and not promoted[key] & products_of[o["order_id"]]:
                                    continue
                                c = candidates.setdefault(key, {
                                    "platform": t["platform"], "account_id": t["account_id"],
                                    "campaign_id": t["campaign_id"], "geo": geo, "touches": [], "hi_at": hi_at,
                                })
                                c["touches"].append(t)
                            day += timedelta(days=1)
            if not candidates:  # no campaign touched it: one fact for every model
                emit(o, EVERY_MODEL, None, None, None, o["known_source"] or "unattributed", None, 0, 1.0)
                continue
            total = 0
            total_decay = 0.0
            for c in candidates.values():
                ts = c["touches"]
                c["n"] = len(ts)
                first = min(ts, key=lambda t: t["touch_at"])
                last = max(ts, key=lambda t: t["touch_at"])
                c["first_at"], c["first_spend"] = first["touch_at"], first["spend"]
                c["last_at"], c["last_spend"] = last["touch_at"], last["spend"]
                c["touch_date"] = max(t["stat_date"] for t in ts)
                at_day = sum(0.5 ** ((c["hi_at"] - t["touch_at"]).total_seconds() / half_life_s) for t in ts)
                c["decay"] = at_day * 0.5 ** ((o["order_at"] - c["hi_at"]).total_seconds() / half_life_s)
                total += c["n"]
                total_decay += c["decay"]
            ordered = sorted(candidates.values(), key=lambda c: (c["platform"], c["campaign_id"]))
            for c in ordered:  # the more specific campaign (fewer promoted products; none named: least) is later
                named = promoted.get((c["platform"], c["campaign_id"]))
                c["specificity"] = -len(named) if named else -1_000_000_000
            # ties: among equal (time, specificity, spend) the last touch is the smallest (platform, campaign), the
            # first the largest, as the SQL's single ordering of touches has it (max/min keep the first of equal keys)
            last_c = max(ordered, key=lambda c: (c["last_at"], c["specificity"], c["last_spend"]))
            first_c = min(reversed(ordered), key=lambda c: (c["first_at"], c["specificity"], c["first_spend"]))
            for c in ordered:
                is_first, is_last = c is first_c, c is last_c
                if total == 1:
                    position = 1.0
                elif total == 2:
                    position = 0.5 * c["n"]
                else:
                    position = 0.4 * is_first + 0.4 * is_last + 0.2 * (c["n"] - is_first - is_last) / (total - 2)
                credits = {
                    "last_touch": 1.0 if is_last else 0.0,
                    "first_touch": 1.0 if is_first else 0.0,
                    "linear": c["n"] / total,
                    "time_decay": c["decay"] / total_decay,
                    "position_based": position,
                }
                match = "geo_region" if c["geo"] == o["region_code"] else "geo_country"
                cap_geo = o["region_code"] if match == "geo_region" else "*"
                for model in ATTRIBUTION_MODELS:
                    if credits[model] > 0:
                        geo_credits.append((o, model, c, match, cap_geo, credits[model]))
        self._cap_geo_credits(geo_credits, placed, emit)
        return out

    def _click_match(self, o: Row, campaigns: Mapping[tuple[str, str], Row],
                     promoted: Mapping[tuple[str, str], set[str]], products: set[str],
                     day_spend: Mapping[tuple[str, str], dict[datetime, float]], lookback: timedelta) -> Row | None:
        """The click-id rule: the click platform's campaign for an order that no utm_campaign placed."""
        platform = o["click_platform"]
        if platform is None:
            return None
        best = None
        for (p, cid), c in sorted(campaigns.items()):
            if p != platform:
                continue
            named = promoted.get((p, cid))
            if named and not named & products:
                continue
            touches = {at: v for at, v in day_spend.get((p, cid), {}).items()
                       if o["order_at"] - lookback < at <= o["order_at"]}
            if not named and not touches:
                continue
            last = max(touches) if touches else None
            key = (0 if named else 1, last is None, -(last.timestamp() if last else 0.0),
                   len(named) if named else 1_000_000_000, -(touches[last] if last else 0.0), cid)
            if best is None or key < best[0]:
                best = (key, c)
        # a campaign promoting the order's products always ranks before one that names none
        return None if best is None else best[1]

    def _google_clicks(self) -> dict[str, Row]:
        """gclid -> the click click_view reported on the window's click span (one row per gclid: the table's key)."""
        return {c["gclid"]: c for c in self._mine("google_click_views")
                if self.scan_start <= c["click_date"] < self.end}

    def _cap_geo_credits(self, geo_credits: list[tuple], placed: list[tuple[Row, str, str]], emit: Any) -> None:
        """Cut geo + time credits to what the platform reported there, less the deterministic orders."""
        reported: dict[tuple, float | None] = {}
        for a in self.ads:
            for geo in ([a["region_code"]] if a["region_code"] != "" else []) + ["*"]:
                key = (a["platform"], a["campaign_id"], a["country_code"], geo, a["stat_date"])
                if a["purchases"] is not None:
                    reported[key] = (reported.get(key) or 0.0) + float(a["purchases"])
                else:
                    reported.setdefault(key, None)
        taken: dict[tuple, float] = defaultdict(float)
        for o, platform, campaign in placed:
            if o["country_code"] is None:
                continue
            geos = ([o["region_code"]] if o["region_code"] is not None else []) + ["*"]
            for geo in geos:
                taken[(platform, campaign, o["country_code"], geo, o["order_date"])] += 1
        room: dict[tuple, float | None] = {
            k: None if v is None else max(v - taken.get(k, 0.0), 0.0) for k, v in reported.items()}
        asked: dict[tuple, float] = defaultdict(float)  # credit earlier orders asked of each room, uncut
        residual: dict[tuple[str, str], list] = {}
        geo_credits.sort(key=lambda g: (g[0]["order_at"], g[0]["order_date"], g[0]["order_id"]))
        for o, model, c, match, cap_geo, credit in geo_credits:
            key = (c["platform"], c["campaign_id"], o["country_code"], cap_geo, c["touch_date"])
            cap = room.get(key)
            if cap is not None:
                before = asked[(model, *key)]
                asked[(model, *key)] += credit
                credit = min(credit, max(cap - before, 0.0))
            if credit > 0:
                emit(o, model, c["platform"], c["account_id"], c["campaign_id"], match, c["touch_date"], c["n"],
                     credit)
            residual.setdefault((o["order_id"], model), [o, 1.0])[1] -= credit
        for (_, model), (o, rest) in sorted(residual.items(), key=lambda kv: kv[0]):
            if rest > 1e-9:
                emit(o, model, None, None, None, "unattributed", None, 0, rest)

    # -- where sales ship from ---------------------------------------------------------------------
    def line_locations(self) -> list[tuple[Row, str | None, str, int]]:
        """(line, location, placed_by, units) for each line in the velocity span: the region rule, else the
        units the line's fulfillment orders hold at their locations, else pooled (location None)."""
        lo = self.start - timedelta(days=self.p.velocity_window_days)
        rules = {(r["country_code"], r["region_code"]): r["location_id"] for r in self._mine("location_regions")}
        fo_location = {f["fulfillment_order_id"]: f["location_id"] for f in self._mine("fulfillment_orders")
                       if f.get("status") != "CANCELLED" and f.get("location_id") is not None}
        held: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for fl in self._mine("fulfillment_order_line_items"):
            loc = fo_location.get(fl["fulfillment_order_id"])
            if loc is not None and fl["quantity"] > 0:
                held[fl["line_item_id"]][loc] += fl["quantity"]
        out: list[tuple[Row, str | None, str, int]] = []
        for line in self.lines:
            if line["order_date"] < lo or line["variant_id"] is None:
                continue
            rule = rules.get((line["country_code"], line["region_code"]))
            if rule is not None:
                out.append((line, rule, "rule", line["quantity"]))
                continue
            routed = held.get(line["line_item_id"], {})
            out.extend((line, loc, "fulfillment_order", n) for loc, n in routed.items())
            rest = line["quantity"] - sum(routed.values())
            if rest > 0:
                out.append((line, None, "pooled", rest))
        return out

    def region_locations(self) -> dict[tuple[str, str], str]:
        """Region → serving location: the merchant's rule, else where fulfillment orders shipped most units."""
        shipped: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for line, loc, placed_by, units in self.line_locations():
            if placed_by == "fulfillment_order" and line["country_code"] is not None and line["region_code"]:
                shipped[(line["country_code"], line["region_code"])][str(loc)] += units
        out = {k: min(by, key=lambda loc: (-by[loc], loc)) for k, by in shipped.items()}
        out.update({(r["country_code"], r["region_code"]): r["location_id"] for r in self._mine("location_regions")})
        return out

    # -- days of cover -----------------------------------------------------------------------------
    def days_of_cover(self) -> list[Row]:
        v = self.p.velocity_window_days
        lo = self.start - timedelta(days=v)
        variants = {x["variant_id"]: x for x in self._mine("variants")}
        by_item = {x["inventory_item_id"]: x["variant_id"] for x in self._mine("variants")}
        sellable = {p["product_id"]: bool(p["is_active"]) for p in self._mine("products")}
        active = {loc["location_id"]: bool(loc["is_active"]) for loc in self._mine("locations")}
        snaps: dict[tuple[str, str], dict[date, Row]] = defaultdict(dict)
        for s in self._mine("inventory_levels"):
            if lo <= s["snapshot_date"] <= self.end:
                # the snapshot taken during the window's end day stands for the last complete day when that
                # day has none of its own
                day = self.end - timedelta(days=1) if s["snapshot_date"] == self.end else s["snapshot_date"]
                variant = s.get("variant_id") or by_item.get(s["inventory_item_id"])
                held = snaps[(variant, s["location_id"])].get(day) if variant is not None else None
                if variant is not None and (held is None or s["snapshot_date"] < held["snapshot_date"]):
                    snaps[(variant, s["location_id"])][day] = s
        placed: dict[tuple[str, str | None, date], int] = defaultdict(int)
        for line, loc, _, units in self.line_locations():
            placed[(line["variant_id"], loc, line["order_date"])] += units
        brand_first = min((min(by_day) for by_day in snaps.values()), default=None)
        first_order = min((line["order_date"] for line in self.lines), default=None)
        series_of: dict[tuple[str, str], list[tuple[date, dict[str, Any], bool, float]]] = {}
        for (variant, loc), by_day in snaps.items():
            first = min(by_day)
            is_active = active.get(loc, True)
            can_sell = sellable.get((variants.get(variant) or {}).get("product_id"), True)
            # the store's first days count from its first order on (see the model's header)
            day = max(lo, min(first_order or first, first)) if first == brand_first else first
            carried: dict[str, Any] = {"available": None, "on_hand": None, "incoming": None}
            series = []
            while day < self.end:
                s = by_day.get(day)
                for col in carried:
                    if s is not None and s.get(col) is not None:
                        carried[col] = s[col]
                source = by_day[first] if day < first else carried
                weight = 0 if not is_active else max(source["available"] or 0, 0)
                series.append((day, dict(carried), day >= first, float(weight)))
                day += timedelta(days=1)
            series_of[(variant, loc)] = series
        # pooled units: spread over the variant's active locations by the day's stock (evenly when none has any)
        pool: dict[tuple[str, date], list[float]] = defaultdict(lambda: [0.0, 0])
        for (variant, loc), series in series_of.items():
            for day, _, _, weight in series:
                acc = pool[(variant, day)]
                acc[0] += weight
                acc[1] += 1 if active.get(loc, True) else 0
        out = []
        for (variant, loc), series in series_of.items():
            is_active = active.get(loc, True)
            can_sell = sellable.get((variants.get(variant) or {}).get("product_id"), True)
            days = []
            for day, snap, snapshotted, weight in series:
                total, count = pool[(variant, day)]
                share = 0.0 if not is_active else (weight / total if total > 0 else 1.0 / count)
                units = placed.get((variant, loc, day), 0) + placed.get((variant, None, day), 0) * share
                in_stock = units > 0 or (((snap["available"] or 0) > 0) if snapshotted else can_sell)
                days.append((day, snap, snapshotted, units, in_stock))
            for i, (day, snap, snapshotted, _, _) in enumerate(days):
                if day < self.start or not snapshotted:
                    continue
                window = [x for x in days[: i + 1] if x[0] > day - timedelta(days=v)]
                sold = sum(x[3] for x in window)
                in_units = sum(x[3] for x in window if x[4])
                in_days = sum(1 for x in window if x[4])
                available = max(snap["available"] or 0, 0)
                velocity = _div(in_units, in_days)
                doc = 0.0 if available == 0 else _div(available, velocity)
                if available == 0:
                    status, stockout = "stockout", day
                else:
                    stockout = day + timedelta(days=math.floor(doc)) if doc is not None and doc < 3650 else None
                    if doc is None or doc > self.p.cover_overstock_days:
                        status = "overstock"
                    elif doc < self.p.cover_low_days:
                        status = "low"
                    else:
                        status = "healthy"
                info = variants.get(variant, {})
                out.append({
                    "brand_id": self.brand_id, "snapshot_date": day, "variant_id": variant,
                    "product_id": info.get("product_id"), "sku": info.get("sku"), "location_id": loc,
                    "available": available, "on_hand": snap["on_hand"], "incoming": snap["incoming"],
                    "units_sold": math.floor(sold + 0.5), "in_stock_units_sold": math.floor(in_units + 0.5),
                    "in_stock_days": in_days, "velocity_window_days": v, "velocity_per_day": velocity,
                    "days_of_cover": doc, "projected_stockout_date": stockout, "cover_status": status,
                })
        return out

    # -- unified performance -----------------------------------------------------------------------
    def unified_performance(self, attributed: Sequence[Row], cover: Sequence[Row]) -> list[Row]:
        regions = {(r["country_code"], r["region_code"]): r for r in self._mine("location_regions")}
        serving = self.region_locations()
        lines_of: dict[tuple[str, date], list[Row]] = defaultdict(list)
        for line in self.lines:
            if line["order_date"] >= self.start:
                lines_of[(line["order_id"], line["order_date"])].append(line)
        promoted = self._promoted()
        facts: list[Row] = []
        earned: dict[tuple, float] = defaultdict(float)
        earned_seen: set[tuple] = set()
        accounts: dict[tuple[str, str], str] = {}
        for row in [*(x for x in self.ads if x["stat_date"] >= self.start), *self._mine("ad_campaigns")]:
            key = (row["platform"], row["campaign_id"])
            accounts[key] = max(accounts.get(key) or "", row["account_id"])
        for a in attributed:
            if (a["attribution_model"] not in (self.p.attribution_model, EVERY_MODEL)
                    or not (self.start <= a["order_date"] < self.end)):
                continue
            order = self.orders[a["order_id"]]
            a = {**a, "country_code": order["country_code"], "region_code": order["region_code"]}
            region = regions.get((a["country_code"], a["region_code"]))
            cost = _f(region["fulfillment_cost_amount"]) if region and region.get("fulfillment_cost_amount") is not None \
                else self.p.fulfillment_cost_per_order
            revenue = _f(a["attributed_revenue_amount"])
            earning = a["touch_date"] or a["order_date"]
            lines = lines_of.get((a["order_id"], a["order_date"]), [])
            spends_on = promoted.get((a["platform"], a["campaign_id"])) if a["platform"] else None
            parts: list[tuple[str | None, float, float, float | None, bool | None]] = []  # product, w, units, cogs, unknown
            if spends_on:
                # the whole cart, credited to the promoted products: by their parts of the order, else equally
                held: dict[str, list[float | None]] = defaultdict(list)
                for line in lines:
                    if line["product_id"] in spends_on:
                        held[line["product_id"]].append(line["revenue_share"])
                units = sum(x["net_quantity"] for x in lines)
                cogs = _sum(x["net_quantity"] * x["unit_cost_amount"] for x in lines
                            if x["unit_cost_amount"] is not None) or 0.0
                unknown = any(x["net_quantity"] > 0 and x["unit_cost_amount"] is None for x in lines) if lines else None
                if held:
                    shares = {prod: _sum(v) for prod, v in held.items()}
                    total = _sum(shares.values())
                    weights = {prod: _div(v, total) if _div(v, total) is not None else 1.0 / len(shares)
                               for prod, v in shares.items()}
                else:
                    weights = {prod: 1.0 / len(spends_on) for prod in spends_on}
                for prod, w in weights.items():
                    parts.append((prod, w, units * w, cogs * w, unknown))
            else:
                for line in lines or [None]:
                    share = 1.0 if line is None or line["revenue_share"] is None else line["revenue_share"]
                    cogs = None if line is None or line["unit_cost_amount"] is None \
                        else line["net_quantity"] * line["unit_cost_amount"]
                    unknown = None if line is None else (line["net_quantity"] > 0 and line["unit_cost_amount"] is None)
                    parts.append((None if line is None else line["product_id"], share,
                                  0 if line is None else line["net_quantity"], cogs, unknown))
            for product, w, units, cogs, unknown in parts:
                rev = None if revenue is None else revenue * w
                facts.append({
                    "date": a["order_date"], "platform": a["platform"],
                    "campaign_id": a["campaign_id"], "country_code": a["country_code"], "region_code": a["region_code"],
                    "product_id": product, "spend_allocation": None, "spend": 0.0,
                    "orders": a["credit"] * w, "units": a["credit"] * units, "revenue": rev,
                    "cogs": None if cogs is None else a["credit"] * cogs, "unknown": unknown,
                    "fulfillment": a["credit"] * cost * w,
                })
                if a["platform"] is not None and product is not None:
                    k = (earning, a["platform"], a["campaign_id"], a["country_code"], a["region_code"], product)
                    earned_seen.add(k)
                    if rev is not None:
                        earned[k] += rev
        by_geo: dict[tuple, float] = defaultdict(float)
        country: dict[tuple, float] = defaultdict(float)
        for k in earned_seen:
            day, platform, campaign, cc, region, product = k
            value = earned.get(k, 0.0)
            if region is not None and value > 0:
                by_geo[(day, platform, campaign, cc, region, product)] += value
            country[(day, platform, campaign, cc, "", product)] += value
        shares: dict[tuple, dict[str, float]] = defaultdict(dict)
        for (day, platform, campaign, cc, geo, product), value in list(by_geo.items()) + list(country.items()):
            if value > 0:
                shares[(day, platform, campaign, cc, geo)][product] = value
        spend: dict[tuple, list] = {}
        for a in self.ads:
            if a["stat_date"] < self.start or a["spend_amount"] is None:
                continue
            k = (a["stat_date"], a["platform"], a["campaign_id"], a["country_code"], a["region_code"])
            acc = spend.setdefault(k, [None, 0.0])
            acc[0] = max(acc[0] or "", a["account_id"])
            acc[1] += a["spend_amount"]
        for (day, platform, campaign, cc, region), (account, amount) in spend.items():
            if amount == 0:
                continue
            base = {"date": day, "platform": platform, "campaign_id": campaign,
                    "country_code": cc, "region_code": region, "orders": 0.0, "units": 0.0, "revenue": 0.0,
                    "cogs": 0.0, "unknown": False, "fulfillment": 0.0}
            mix = shares.get((day, platform, campaign, cc, region))
            if mix:
                total = sum(mix.values())
                for product, value in mix.items():
                    facts.append({**base, "product_id": product, "spend": amount * value / total,
                                  "spend_allocation": "revenue_share"})
            else:  # earned nothing that day: kept whole, readers split it over their window (window_spend)
                facts.append({**base, "product_id": None, "spend": amount, "spend_allocation": "unsplit"})
        groups: dict[tuple, list[Row]] = defaultdict(list)
        for f in facts:
            groups[(f["date"], f["platform"], f["campaign_id"], f["country_code"], f["region_code"],
                    f["product_id"])].append(f)
        stock: dict[tuple, list[float]] = defaultdict(lambda: [0, None])
        for c in cover:
            if self.start <= c["snapshot_date"] < self.end and c["product_id"] is not None:
                s = stock[(c["snapshot_date"], c["product_id"], c["location_id"])]
                s[0] += c["available"]
                if c["velocity_per_day"] is not None:
                    s[1] = (s[1] or 0.0) + c["velocity_per_day"]
        names = {(c["platform"], c["campaign_id"]): c.get("campaign_name") for c in self._mine("ad_campaigns")}
        out = []
        for (day, platform, campaign, cc, region, product), fs in groups.items():
            spend_total = sum(f["spend"] for f in fs)
            sold = [f for f in fs if f["spend_allocation"] is None]  # the revenue side (spend facts carry 0)
            revenue = _sum(f["revenue"] for f in sold) if sold else 0.0
            cogs = None if any(f["unknown"] for f in fs) else (_sum(f["cogs"] for f in fs) or 0.0)
            fulfillment = sum(f["fulfillment"] for f in fs)
            profit = None if revenue is None or cogs is None else revenue - spend_total - cogs - fulfillment
            location = serving.get((cc, region))
            st = stock.get((day, product, location)) if location else None
            allocs = [f["spend_allocation"] for f in fs if f["spend_allocation"]]
            out.append({
                "brand_id": self.brand_id, "performance_date": day, "attribution_model": self.p.attribution_model,
                "channel": platform, "account_id": accounts.get((platform, campaign)),
                "campaign_id": campaign, "campaign_name": names.get((platform, campaign)),
                "country_code": cc, "region_code": region, "product_id": product,
                "spend_allocation": max(allocs) if allocs else None, "currency": self.currency,
                "spend_amount": spend_total, "attributed_orders": sum(f["orders"] for f in fs),
                "attributed_units": sum(f["units"] for f in fs), "attributed_revenue_amount": revenue,
                "cogs_amount": cogs, "fulfillment_cost_amount": fulfillment, "profit_amount": profit,
                "roas": _div(revenue, spend_total), "roi": _div(profit, spend_total), "location_id": location,
                "stock_level": st[0] if st else None,
                "days_of_cover": (0.0 if st[0] == 0 else _div(st[0], st[1])) if st else None,
            })
        return out

    # -- reconciliation ----------------------------------------------------------------------------
    def attribution_reconciliation(self, attributed: Sequence[Row]) -> list[Row]:
        first = week_start(self.start)
        shopify: dict[tuple, list[float]] = defaultdict(lambda: [0.0] * 6)
        kinds = {"utm_campaign": 2, "click_id": 2, "geo_region": 4, "geo_country": 4}
        for a in attributed:
            if not first <= a["order_date"] < self.end:
                continue
            channel = a["platform"] or a["match_type"]
            revenue = _f(a["attributed_revenue_amount"]) or 0.0
            models = ATTRIBUTION_MODELS if a["attribution_model"] == EVERY_MODEL else (a["attribution_model"],)
            for model in models:
                s = shopify[(week_start(a["order_date"]), channel, model)]
                s[0] += a["credit"]
                s[1] += revenue
                if a["match_type"] in kinds:
                    s[kinds[a["match_type"]]] += a["credit"]
                    s[kinds[a["match_type"]] + 1] += revenue
        reported: dict[tuple, list[float | None]] = {}
        for r in self.ads:
            if r["stat_date"] >= first:
                acc = reported.setdefault((week_start(r["stat_date"]), r["platform"]), [None, None, None])
                for i, col in enumerate(("spend_amount", "purchases", "purchase_value_amount")):
                    if r[col] is not None:
                        acc[i] = (acc[i] or 0.0) + float(r[col])
        keys = {(w, p, m) for (w, p) in reported for m in ATTRIBUTION_MODELS} | set(shopify)
        out = []
        for w, p, m in keys:
            spend, purchases, value = reported.get((w, p), [None, None, None])
            orders, revenue, det_orders, det_revenue, geo_orders, geo_revenue = shopify.get(
                (w, p, m), (None, None, 0.0, 0.0, 0.0, 0.0))
            out.append({
                "brand_id": self.brand_id, "week_start": w, "platform": p, "attribution_model": m,
                "is_partial_week": w + timedelta(days=7) > self.end, "currency": self.currency,
                "spend_amount": spend or 0.0, "shopify_attributed_orders": orders or 0.0,
                "shopify_attributed_revenue_amount": revenue or 0.0, "deterministic_orders": det_orders,
                "deterministic_revenue_amount": det_revenue, "geo_credited_orders": geo_orders,
                "geo_credited_revenue_amount": geo_revenue, "platform_reported_purchases": purchases or 0.0,
                "platform_reported_revenue_amount": value or 0.0,
                "over_reporting_ratio": _div(value, revenue), "shopify_roas": _div(revenue, spend),
                "platform_roas": _div(value, spend),
            })
        return out

    # -- alignment ---------------------------------------------------------------------------------
    def _alignment_period(self, rows: Sequence[Row]) -> list[Row]:
        """The window's revenue rows and each campaign × geography's spend by the shared rule (window_spend)."""
        # campaigns reporting a country's spend only at country level: their regional revenue joins that row
        by_country: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for u in rows:
            if u["channel"] is not None and u["region_code"] is not None:
                acc = by_country[(u["channel"], u["campaign_id"], u["country_code"])]
                acc[0 if u["region_code"] == "" else 1] += float(u["spend_amount"] or 0)
        country_reported = {k for k, (country, regional) in by_country.items() if country > 0 and regional == 0}
        out: list[Row] = []
        for u in rows:
            remap = u["channel"] is not None and (u["channel"], u["campaign_id"], u["country_code"]) in country_reported
            out.append({"channel": u["channel"], "country_code": u["country_code"],
                        "region_code": "" if remap else u["region_code"], "product_id": u["product_id"],
                        "spend_amount": None, "attributed_revenue_amount": _f(u["attributed_revenue_amount"])})
        for w in window_spend(rows, self.promoted()):
            out.append({"channel": w["channel"], "country_code": w["country_code"], "region_code": w["region_code"],
                        "product_id": w["product_id"], "spend_amount": w["spend"], "attributed_revenue_amount": 0.0})
        return out

    def promoted(self) -> dict[tuple[str, str], set[str]]:
        """(platform, campaign) -> the products it promotes (ad_campaign_products)."""
        out: dict[tuple[str, str], set[str]] = defaultdict(set)
        for r in self._mine("ad_campaign_products"):
            out[(r["platform"], r["campaign_id"])].add(r["product_id"])
        return dict(out)

    def inventory_alignment(self, unified: Sequence[Row], cover: Sequence[Row]) -> list[Row]:
        lo = self.as_of - timedelta(days=self.p.alignment_window_days)
        period = self._alignment_period([u for u in unified if lo < u["performance_date"] <= self.as_of
                                         and u["attribution_model"] == self.p.attribution_model])
        stock: dict[tuple[str, str], list] = defaultdict(lambda: [0, None])
        for c in cover:
            if c["snapshot_date"] == self.as_of and c["product_id"] is not None:
                s = stock[(c["product_id"], c["location_id"])]
                s[0] += c["available"]
                if c["velocity_per_day"] is not None:
                    s[1] = (s[1] or 0.0) + c["velocity_per_day"]
        product_stock: dict[str, list] = defaultdict(lambda: [0, None])
        for (product, _), (units, velocity) in stock.items():
            ps = product_stock[product]
            ps[0] += units
            if velocity is not None:
                ps[1] = (ps[1] or 0.0) + velocity
        brand_spend = _sum(_f(u["spend_amount"]) for u in period)
        perf: dict[str, list] = defaultdict(lambda: [None, None])
        for u in period:
            if u["product_id"] is not None:
                acc = perf[u["product_id"]]
                for i, col in enumerate(("spend_amount", "attributed_revenue_amount")):
                    if u[col] is not None:
                        acc[i] = (acc[i] or 0.0) + float(u[col])
        active = {p["product_id"]: p["is_active"] for p in self._mine("products")}
        rows = []
        for product in set(perf) | set(product_stock):
            spend, revenue = perf.get(product, (None, None))
            if not (active.get(product, True) or (spend or 0) > 0):
                continue
            units, velocity = product_stock.get(product, (None, None))
            rows.append({"level": "product", "product_id": product, "channel": None, "country_code": None,
                         "region_code": None, "location_id": None, "spend": spend or 0.0, "scope": brand_spend,
                         "revenue": revenue or 0.0, "units": units, "velocity": velocity})
        region_perf: dict[tuple, list] = defaultdict(lambda: [None, None])
        region_spend: dict[tuple, float | None] = {}
        for u in period:
            if u["channel"] is None:
                continue
            k = (u["channel"], u["country_code"], u["region_code"])
            if u["spend_amount"] is not None:
                region_spend[k] = (region_spend.get(k) or 0.0) + float(u["spend_amount"])
            else:
                region_spend.setdefault(k, None)
            if u["product_id"] is not None:
                acc = region_perf[(u["product_id"], *k)]
                for i, col in enumerate(("spend_amount", "attributed_revenue_amount")):
                    if u[col] is not None:
                        acc[i] = (acc[i] or 0.0) + float(u[col])
        regions = self.region_locations()
        for (product, channel, cc, region), (spend, revenue) in region_perf.items():
            if not spend or spend <= 0:
                continue
            location = regions.get((cc, region))
            if product not in product_stock:
                units, velocity = None, None
            elif location is None:
                units, velocity = product_stock[product]
            else:
                units, velocity = stock.get((product, location), (0, None))
            rows.append({"level": "product_channel_region", "product_id": product, "channel": channel,
                         "country_code": cc, "region_code": region, "location_id": location, "spend": spend,
                         "scope": region_spend[(channel, cc, region)], "revenue": revenue, "units": units,
                         "velocity": velocity})
        out = []
        for r in rows:
            share = _div(r["spend"], r["scope"])
            doc = 0.0 if r["units"] == 0 else _div(r["units"], r["velocity"])
            if r["units"] is not None and r["units"] <= 0 and r["spend"] > 0:
                mismatch = "spending_on_stockout"
            elif doc is not None and doc < self.p.cover_low_days and share is not None \
                    and share > self.p.alignment_high_share:
                mismatch = "overspending_low_stock"
            elif r["units"] is not None and r["units"] > 0 and (doc is None or doc > self.p.cover_overstock_days) \
                    and (share or 0) < self.p.alignment_low_share:
                mismatch = "underspending_overstock"
            else:
                mismatch = "aligned"
            out.append({
                "brand_id": self.brand_id, "as_of_date": self.as_of, "level": r["level"],
                "product_id": r["product_id"], "channel": r["channel"], "country_code": r["country_code"],
                "region_code": r["region_code"], "location_id": r["location_id"],
                "window_days": self.p.alignment_window_days, "currency": self.currency,
                "spend_amount": r["spend"], "scope_spend_amount": r["scope"], "spend_share": share,
                "attributed_revenue_amount": r["revenue"], "roas": _div(r["revenue"], r["spend"]),
                "inventory_units": r["units"], "velocity_per_day": r["velocity"], "days_of_cover": doc,
                "mismatch_type": mismatch,
            })
        return out

    # -- snapshots ---------------------------------------------------------------------------------
    def performance_snapshots(self, unified: Sequence[Row]) -> list[Row]:
        period = self.p.snapshot_period_days
        daily: dict[tuple, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
        for u in unified:
            if u["attribution_model"] != self.p.attribution_model:
                continue
            spend = _f(u["spend_amount"]) or 0.0
            revenue = _f(u["attributed_revenue_amount"]) or 0.0
            profit = _f(u["profit_amount"])
            if profit is None:
                profit = revenue - spend - (_f(u["fulfillment_cost_amount"]) or 0.0)
            keys = [("blended", None, None, None), ("region", None, u["country_code"], u["region_code"])]
            if u["channel"] is not None:
                keys += [("channel", u["channel"], None, None),
                         ("channel_region", u["channel"], u["country_code"], u["region_code"])]
            for k in keys:
                acc = daily[(*k, u["performance_date"])]
                acc[0] += spend
                acc[1] += revenue
                acc[2] += u["attributed_orders"] or 0.0
                acc[3] += profit
        out: dict[tuple, Row] = {}
        for (*key, day), (spend, revenue, orders, profit) in daily.items():
            for offset in range(2 * period):
                as_of = day + timedelta(days=offset)
                if not (self.start <= as_of < self.end):
                    continue
                row = out.setdefault((*key, as_of), {
                    "cur": [0.0, 0.0, 0.0, 0.0], "prev": [0.0, 0.0, 0.0, 0.0]})
                bucket = row["cur"] if offset < period else row["prev"]
                for i, v in enumerate((spend, revenue, orders, profit)):
                    bucket[i] += v
        rows = []
        for (scope, channel, cc, region, as_of), r in out.items():
            (spend, revenue, orders, profit), (pspend, prevenue, porders, pprofit) = r["cur"], r["prev"]
            roas, proas = _div(revenue, spend), _div(prevenue, pspend)
            rows.append({
                "brand_id": self.brand_id, "as_of_date": as_of, "scope": scope, "channel": channel,
                "country_code": cc, "region_code": region, "period_days": period, "currency": self.currency,
                "spend_amount": spend, "revenue_amount": revenue, "orders": orders, "profit_amount": profit,
                "roas": roas, "prev_spend_amount": pspend, "prev_revenue_amount": prevenue, "prev_orders": porders,
                "prev_profit_amount": pprofit, "prev_roas": proas,
                "spend_change_pct": _div(spend - pspend, pspend), "revenue_change_pct": _div(revenue - prevenue, prevenue),
                "roas_change_pct": _div(roas - proas, proas) if roas is not None and proas is not None else None,
                "profit_change_amount": profit - pprofit,
            })
        return rows


def window_spend(rows: Iterable[Row], promoted: Mapping[tuple[str, str], set[str]]) -> list[Row]:
    """Spend per product over one window: the rule of ``tower/sql/rules/window_spend.sql``, a loop at a time.

    Args:
        rows: unified_performance rows of the window (channel, campaign_id, country_code, region_code,
            product_id, spend_amount, attributed_revenue_amount).
        promoted: (platform, campaign) -> the products the campaign promotes.

    Returns:
        One row per campaign × country × region × product: ``spend`` and ``spend_allocation``
        (revenue_mix | promoted_equal | unallocated; product None for unallocated).
    """
    geo: dict[tuple, float] = defaultdict(float)  # (channel, campaign, country, region) -> spend
    earned: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))  # campaign -> product -> revenue
    for u in rows:
        if u["channel"] is None or u["campaign_id"] is None:
            continue
        campaign = (u["channel"], u["campaign_id"])
        geo[(*campaign, u["country_code"], u["region_code"])] += _f(u["spend_amount"]) or 0.0
        if u["product_id"] is not None:
            earned[campaign][u["product_id"]] += _f(u["attributed_revenue_amount"]) or 0.0
    out: list[Row] = []
    for (channel, campaign, cc, region), spend in geo.items():
        if spend == 0:
            continue
        mix = {p: v for p, v in earned.get((channel, campaign), {}).items() if v > 0}
        total = sum(mix.values())
        names = sorted(promoted.get((channel, campaign), ()))
        if total > 0:
            parts = [(p, spend * v / total, "revenue_mix") for p, v in mix.items()]
        elif names:
            parts = [(p, spend / len(names), "promoted_equal") for p in names]
        else:
            parts = [(None, spend, "unallocated")]
        out.extend({"channel": channel, "campaign_id": campaign, "country_code": cc, "region_code": region,
                    "product_id": p, "spend": v, "spend_allocation": how} for p, v, how in parts)
    return out


def build_reference(
    inputs: Inputs | Mapping[str, list[Row]],
    brand_id: str,
    start: date,
    end: date,
    params: ModelParameters,
    as_of: date | None = None,
) -> dict[str, list[Row]]:
    """Every mart for one brand over ``[start, end)``, as one full build writes them."""
    data = inputs if isinstance(inputs, Inputs) else Inputs(dict(inputs))
    ref = Reference(data, brand_id, start, end, params, as_of or end - timedelta(days=1))
    attributed = ref.attributed_orders()
    cover = ref.days_of_cover()
    unified = ref.unified_performance(attributed, cover)
    return {
        "attributed_orders": attributed,
        "days_of_cover": cover,
        "unified_performance": unified,
        "attribution_reconciliation": ref.attribution_reconciliation(attributed),
        "inventory_alignment": ref.inventory_alignment(unified, cover),
        "performance_snapshots": ref.performance_snapshots(unified),
    }
