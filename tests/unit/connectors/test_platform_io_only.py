"""Connectors do platform I/O only: no module under ``tower.connectors`` knows the warehouse.

Read from the source (AST), so a warehouse statement cannot hide behind a branch no test runs: the
loaders in ``tower.sync`` take the connectors' records to the warehouse, never the reverse.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import tower.connectors

ROOT = Path(tower.connectors.__file__).parent
#: Methods only the Warehouse port has (a connector's clients have ``execute`` for GraphQL, so the
#: SQL it would carry is checked instead).
WAREHOUSE_METHODS = frozenset({"merge", "rows", "insert", "replace_window", "init_schema"})
#: What a connector may not import: the warehouse's ports and adapters, the runtime, the loaders.
FORBIDDEN_MODULES = ("tower.adapters", "tower.runtime", "tower.sync", "tower.pipeline")
SQL_STATEMENT = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|TRUNCATE)\s", re.IGNORECASE)


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(ROOT.parent.parent)
    found = []
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [f"{node.module}.{a.name}" for a in node.names]
            found += [f"{line} imports {n}" for n in names
                      if n.startswith(FORBIDDEN_MODULES) or n == "tower.ports.Warehouse"]
        elif isinstance(node, ast.Import):
            found += [f"{line} imports {a.name}" for a in node.names if a.name.startswith(FORBIDDEN_MODULES)]
        elif isinstance(node, ast.Name) and node.id.lower() in ("warehouse", "wh"):
            found.append(f"{line} uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr == "warehouse":
            found.append(f"{line} reaches .warehouse")
        elif isinstance(node, ast.arg) and node.arg.lower() in ("warehouse", "wh"):
            found.append(f"{line} takes a {node.arg} argument")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in WAREHOUSE_METHODS:
                found.append(f"{line} calls .{node.func.attr}()")
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and SQL_STATEMENT.match(first.value):
                found.append(f"{line} runs SQL: {first.value[:40]!r}")
    return found


def test_no_connector_module_touches_the_warehouse() -> None:
    modules = sorted(ROOT.rglob("*.py"))
    assert len(modules) > 15  # every connector, not an empty glob
    problems = [p for path in modules for p in _problems(path)]
    assert problems == []


def test_the_check_sees_the_loaders_statements() -> None:
    """Not vacuous: run over a loader, it reports what a connector must not do."""
    import tower.sync.ads
    import tower.sync.connect

    found = _problems(Path(tower.sync.ads.__file__)) + _problems(Path(tower.sync.connect.__file__))
    for what in ("calls .merge()", "calls .replace_window()", "runs SQL: 'DELETE", "runs SQL: 'UPDATE",
                 "reaches .warehouse", "takes a warehouse argument"):
        assert any(what in p for p in found), what
