"""Runs the SQL models for a brand and a window, and reads their headline figures back.

* :func:`tower.analytics.runner.build_models`: build every mart for one brand over ``[start, end)``,
  idempotently (:mod:`tower.analytics.models` is the registry of the SQL models it runs).
* :mod:`tower.analytics.parameters`: the models' parameters, global and per brand.
* :mod:`tower.analytics.snapshots`: the product plan's dashboard and drilldown JSON shapes, and
  :func:`~tower.analytics.snapshots.headline_findings` for the demo's table.
* :mod:`tower_dev.reference`: a row-by-row Python statement of the same rules (tests only).

The package imports none of them itself: the API reads the snapshots on every cold start, and the
runner's registry loads sqlglot, which only a build needs.
"""
