"""The default dashboard's warehouse figures, computed when the models are built and kept in the
document store, so a page load reads one document instead of running warehouse queries (issue 16).

What a page asks first for a brand (no range chosen: last week against the week before) is the
same for every caller until the next build or the next store-local day: the dashboard's
``performance_snapshot``, ``tiles`` and ``range``, each channel's drilldown, the daily series
of revenue over every channel, and the product list (:mod:`tower.analytics.products`). :func:`write` computes them with exactly the functions the API
runs for a request that misses the cache (:mod:`tower.analytics.ranges`,
:func:`tower.analytics.snapshots.channel_drilldown`) and stores each view at ``brands/{id}/cache/{view}``
(a request parses only the one it answers with), each build replacing them together (the models' stage calls it after every build,
:func:`tower.pipeline.handle_sync_completed`).

A document answers only the request it was computed for: the same store-local ``today`` (a new day
moves the default week), attribution model and snapshot period. Anything else is a miss: the API
computes the figures from the warehouse and stores them with :func:`write_if_unchanged`, which
writes only when no build replaced the document meanwhile (a build's figures are never overwritten
by ones read before it). Live parts (the summary, cards, alerts, the brand's own today) are not
cached: they are document reads already.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tower.analytics.products import catalogue, products, with_pictures
from tower.analytics.ranges import (
    daily_series,
    default_range,
    empty_drilldown,
    performance,
    range_dashboard,
)
from tower.analytics.snapshots import channel_drilldown, latest_as_of
from tower.brands import brand_row
from tower.names import AD_PLATFORMS

if TYPE_CHECKING:  # pragma: no cover
    from tower.ports import DocumentStore, Warehouse
    from tower.runtime import Runtime

ALL_CHANNELS = "all"
"""The key of the product list over every channel."""

SERIES_METRIC = "revenue"
"""The metric of the cached daily series (the chart's default)."""


VIEWS = ("dashboard", "drilldowns", "series", "products", "catalogue")
"""The cached views, one document each: a request parses only the one it answers with. ``catalogue``
is every product's title and picture, for the live parts (alerts, cards) a response shows."""


def path(brand_id: str, view: str = "dashboard") -> str:
    """The cache document of one of a brand's views."""
    return f"brands/{brand_id}/cache/{view}"


@dataclass(frozen=True)
class CacheKey:
    """What the cached figures depend on besides the warehouse's rows."""

    today: str
    attribution_model: str
    snapshot_period_days: int

    @classmethod
    def of(cls, today: date, *, attribution_model: str, snapshot_period_days: int) -> CacheKey:
        """The key of a brand's store-local ``today`` under these settings."""
        return cls(today.isoformat(), attribution_model, int(snapshot_period_days))


def _plain(o: Any) -> Any:
    if isinstance(o, datetime | date):
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    raise TypeError(f"{type(o).__name__} is not JSON")


def compute(warehouse: Warehouse, brand_id: str, key: CacheKey, *, currency: str) -> dict[str, Any]:
    """Every default view's warehouse figures, as the JSON the API answers with.

    Returns:
        ``{"dashboard": {performance_snapshot, tiles, range}, "drilldowns": {channel: body without
        its live recommendations}, "series": body of revenue over every channel, "products":
        {channel or "all": product list}, "catalogue": [{product_id, title, image_url, image_alt}]}``;
        every product a view names carries its picture (:func:`tower.analytics.products.with_pictures`).
    """
    today = date.fromisoformat(key.today)
    known = catalogue(warehouse, brand_id)
    model = key.attribution_model
    shown = default_range(today)
    as_of = latest_as_of(warehouse, brand_id, today)
    views = {
        "dashboard": {
            "performance_snapshot": performance(warehouse, brand_id, today),
            "tiles": range_dashboard(warehouse, brand_id, shown, attribution_model=model, currency=currency)["tiles"],
            "range": shown.to_dict(),
        },
        "drilldowns": with_pictures({
            ch: empty_drilldown(ch) if as_of is None else channel_drilldown(
                warehouse, brand_id, ch, as_of, attribution_model=model, period_days=key.snapshot_period_days)
            for ch in AD_PLATFORMS
        }, known),
        "series": daily_series(warehouse, brand_id, shown, metric=SERIES_METRIC, channel="", attribution_model=model),
        # keyed by channel, every channel together under "all" (a document key cannot be empty)
        "products": {ch or ALL_CHANNELS: products(warehouse, brand_id, as_of, ch, known) for ch in ("", *AD_PLATFORMS)},
        # a list, not a map: product gids are not fit to be a document's field names
        "catalogue": [{"product_id": pid, **info} for pid, info in sorted(known.items())],
    }
    # Through JSON once: the document holds what a response would (ISO dates, floats), nothing else
    plain: dict[str, Any] = json.loads(json.dumps(views, default=_plain))
    return plain


def _documents(key: CacheKey, views: Mapping[str, Any], now: datetime | None) -> dict[str, dict[str, Any]]:
    """Path → document of each view, all of one generation."""
    generation = uuid.uuid4().hex
    stamp = (now or datetime.now(UTC)).isoformat()
    return {name: {"key": asdict(key), "generation": generation, "computed_at": stamp, "view": views[name]}
            for name in VIEWS}


def _store_all(batch: Any, brand_id: str, key: CacheKey, views: Mapping[str, Any], now: datetime | None) -> None:
    """Set every view's document through ``batch`` (a batch or a transaction: both commit them together)."""
    for name, doc in _documents(key, views, now).items():
        batch.set(path(brand_id, name), doc)


def clear(store: DocumentStore, brand_id: str) -> None:
    """Delete the brand's cache documents (the next request computes them)."""
    batch = store.batch()
    for name in VIEWS:
        batch.delete(path(brand_id, name))
    batch.commit()


def write(store: DocumentStore, warehouse: Warehouse, brand_id: str, key: CacheKey, *, currency: str,
          now: datetime | None = None) -> dict[str, Any]:
    """Compute the default views and replace the brand's cache documents together (after a build).

    Returns:
        The stored views.
    """
    try:
        views = compute(warehouse, brand_id, key, currency=currency)
    except Exception:
        # the figures before this build must not go on answering as if they were its own
        clear(store, brand_id)
        raise
    batch = store.batch()
    _store_all(batch, brand_id, key, views, now)
    batch.commit()
    return views


def refresh(runtime: Runtime, brand_id: str, today: date, *, now: datetime | None = None) -> dict[str, Any]:
    """:func:`write` for a brand just built, under the runtime's settings (the models' stage calls it)."""
    settings = runtime.settings
    key = CacheKey.of(today, attribution_model=settings.attribution_model,
                      snapshot_period_days=settings.snapshot_period_days)
    currency = str(brand_row(runtime.warehouse, brand_id)["currency"])
    return write(runtime.store, runtime.warehouse, brand_id, key, currency=currency, now=now)


def read(store: DocumentStore, brand_id: str, key: CacheKey, view: str) -> tuple[Any, str | None]:
    """One cached view when it was computed for ``key``, and its document's generation.

    Returns:
        ``(view, generation)``: view None on a miss (no document, or one for another day or
        settings); generation None when there is no document at all.
    """
    doc = store.get(path(brand_id, view))
    if not doc:
        return None, None
    generation = str(doc.get("generation") or "")
    if doc.get("key") != asdict(key):
        return None, generation
    return doc.get("view"), generation


def write_if_unchanged(store: DocumentStore, brand_id: str, key: CacheKey, views: Mapping[str, Any],
                       seen: str | None, view: str, *, now: datetime | None = None) -> bool:
    """Store views computed on a miss of ``view``, unless its document changed since it was read as ``seen``.

    Seven parameters: where (store, brand, key), what (the views), the read it answers (``seen``, ``view``)
    and the clock.

    A build that replaced the documents while these were computed wrote figures at least as new: they
    stay. Returns whether the views were written.
    """
    def swap(txn: Any) -> bool:
        current = txn.get(path(brand_id, view))
        generation = str(current.get("generation") or "") if current else None
        if generation != seen:
            return False
        _store_all(txn, brand_id, key, views, now)
        return True

    return bool(store.transaction(swap))
