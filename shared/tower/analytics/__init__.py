"""Runs the SQL models for a brand and a window, and reads their headline figures back.

* :func:`build_models`: build every mart for one brand over ``[start, end)``, idempotently.
* :func:`headline_findings`: channels, top mismatches and stock issues for the demo's table.
* :mod:`tower.analytics.snapshots`: the product plan's dashboard and drilldown JSON shapes.
* :mod:`tower_dev.reference`: a row-by-row Python statement of the same rules (tests only).
"""

from tower.analytics.parameters import ModelConfigError, ModelParameters
from tower.analytics.runner import BuildError, BuildResult, ModelRun, build_models
from tower.analytics.snapshots import headline_findings

__all__ = [
    "BuildError",
    "BuildResult",
    "ModelConfigError",
    "ModelParameters",
    "ModelRun",
    "build_models",
    "headline_findings",
]
