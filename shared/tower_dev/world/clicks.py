"""The Google Ads clicks behind the world's gclids: what Google's ``click_view`` reports for them.

Every order that carries a gclid came from one click on one Google Ads campaign: the campaign the world says
drove the order (``raw["orders"].driven_campaign_id``), which is not always the one an attribution rule would
guess (a search campaign's click on a product another campaign promotes). The click happened up to a day and
a half before the order, on the account's local calendar.

``google_click_views`` is what the warehouse holds after a sync on the world's last day:

* only clicks of the last :data:`~tower.connectors.google_ads.streams.CLICK_VIEW_DAYS` days (click_view keeps
  no more), so a long world's early gclids stay unresolved;
* about 8 % of the rest are missing, as clicks Google leaves out of click_view are (App campaigns, a click on a
  customer the token cannot read), so the click-id fallback stays exercised in a short world too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tower.connectors.google_ads.streams import CLICK_VIEW_DAYS
from tower_dev.world.context import BrandContext
from tower_dev.world.schema import build_table, const

MISSING_SHARE = 0.08
_STREAM = 16  # its own random stream: adding clicks shifts no other number of the world


def click_view_table(ctx: BrandContext, orders: pa.Table, raw_orders: pa.Table) -> pa.Table:
    """``google_click_views`` rows for the brand's gclid orders (see the module docstring)."""
    rng = np.random.default_rng([ctx.params.seed, ctx.brand_no, _STREAM])
    google = pc.and_(pc.is_valid(orders["gclid"]), pc.equal(raw_orders["driven_platform"], "google_ads"))
    google = pc.fill_null(google, False)
    gclid = orders["gclid"].filter(google).to_pylist()
    campaign = raw_orders["driven_campaign_id"].filter(google).to_pylist()
    created = orders["created_at"].filter(google).to_pylist()
    n = len(gclid)
    tz = ZoneInfo(ctx.accounts.timezone["google_ads"])
    before = rng.uniform(0, 36 * 3600, n)
    kept = rng.random(n) >= MISSING_SHARE
    ad_group = rng.integers(1, 3, n)
    now = datetime.fromtimestamp(ctx.world_end, UTC)
    first_day = ctx.params.end_date - timedelta(days=CLICK_VIEW_DAYS - 1)
    rows: dict[str, list] = {"gclid": [], "campaign_id": [], "ad_group_id": [], "click_date": []}
    for i in range(n):
        day = (created[i] - timedelta(seconds=float(before[i]))).astimezone(tz).date()
        if not kept[i] or day < first_day:
            continue
        rows["gclid"].append(gclid[i])
        rows["campaign_id"].append(campaign[i])
        rows["ad_group_id"].append(f"{campaign[i]}{ad_group[i]:02d}")
        rows["click_date"].append(day)
    m = len(rows["gclid"])
    return build_table("google_click_views", {
        "brand_id": const(ctx.brand_id, m),
        "gclid": rows["gclid"],
        "account_id": const(ctx.accounts.ids["google_ads"], m),
        "campaign_id": rows["campaign_id"],
        "ad_group_id": rows["ad_group_id"],
        "click_date": pa.array(rows["click_date"], pa.date32()),
        "synced_at": pa.array([now] * m, pa.timestamp("us", tz="UTC")),
    })
