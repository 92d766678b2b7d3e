"""Google's ``click_view`` in the warehouse: which campaign each gclid was a click on (``google_click_views``).

The ad sync calls :func:`store` for every chunk of its window once the chunk's performance is stored. Only a
connector that reads click_view (Google's) has anything to give; the others are skipped. Rows are MERGEd on
(brand, gclid), so re-pulling a day (the trailing re-pull, a retried chunk) rewrites the same rows.
Attribution reads them to credit an order carrying a gclid to that click's exact campaign
(``int_attribution__click_view_matches``). A refused read raises the integration's warning
:data:`WARNING` (the ad sync does, as for its other degraded reads); a sync whose reads all succeed clears it.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from tower import sql
from tower.connectors.ads_records import MappingUnavailable
from tower.ports import Warehouse

log = logging.getLogger(__name__)

TABLE = "google_click_views"
#: The integration's standing warning while click_view cannot be read (raised and cleared by the ad sync).
WARNING = "click_view_unavailable"
#: What lets the Google Ads user read click_view again (the fix the warning names).
FIX = ("give the Google Ads user read access to the customer's click reports (click_view), then tower connect "
       "google_ads --brand {brand} --account {account} --token T")
KEY = ["brand_id", "gclid"]


def store(connector: Any, warehouse: Warehouse, brand_id: str, start: date, end: date,
          now: datetime) -> MappingUnavailable | None:
    """Read the connector's clicks of ``[start, end)`` (if it reads click_view) and MERGE them.

    A click_view read that fails degrades, never stops the sync: the chunk's spend is stored, its gclids
    stay unresolved (the click-id rule places their orders) and the next sync's trailing days ask again.

    Returns:
        The failure, for the caller to raise as the integration's warning (:data:`WARNING`); None when the
        read succeeded or the connector reads no click_view.
    """
    read = getattr(connector, "click_views", None)
    if read is None:
        return None
    try:
        found = read(start, end)
    except MappingUnavailable as e:
        log.warning("click_view unavailable; gclids left to the click-id rule", extra={
            "brand_id": brand_id, "read": e.read, "code": e.code})
        return e
    if found:
        table = pa.Table.from_pylist([c.row(brand_id, now) for c in found], schema=sql.arrow_schema(TABLE))
        warehouse.merge(TABLE, table, KEY)
    return None
