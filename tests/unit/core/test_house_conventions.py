"""Conventions of the library that one definition or one way of writing keeps (issue 13).

* The platform names are written once, in :mod:`tower.names` (``PLATFORMS``, ``AD_PLATFORMS``).
* A log line is a plain message with ``extra={...}`` fields (:mod:`tower.logs` renders them as
  Cloud Logging's JSON), never a JSON string built by hand, and never with ``msg`` / ``event`` keys.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tower.names import AD_PLATFORMS, PLATFORMS

TOWER = Path(__file__).resolve().parents[3] / "shared" / "tower"
LEVELS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in sorted(TOWER.rglob("*.py"))]


def _strings(node: ast.AST) -> tuple[str, ...] | None:
    if isinstance(node, ast.Tuple | ast.List | ast.Set) and node.elts and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return tuple(e.value for e in node.elts)
    return None


def test_the_platform_names_are_written_once() -> None:
    wanted = {frozenset(PLATFORMS), frozenset(AD_PLATFORMS)}
    found = [f"{path.relative_to(TOWER)}:{node.lineno}"
             for path, tree in _trees() if path != TOWER / "names.py"
             for node in ast.walk(tree)
             if (names := _strings(node)) is not None and frozenset(names) in wanted and len(names) > 1]
    assert not found, f"use tower.names.PLATFORMS / AD_PLATFORMS instead of a literal: {found}"


def _is_log_call(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LEVELS
            and isinstance(node.func.value, ast.Name) and node.func.value.id in {"log", "logger", "logging"})


def _json_dumps(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "dumps"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "json")


def test_log_lines_are_a_message_with_extra_fields() -> None:
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not _is_log_call(node):
                continue
            assert isinstance(node, ast.Call)
            where = f"{path.relative_to(TOWER)}:{node.lineno}"
            if node.args and _json_dumps(node.args[0]):
                found.append(f"{where}: a JSON string built by hand")
            for kw in node.keywords:
                if kw.arg == "extra" and isinstance(kw.value, ast.Dict):
                    keys = {k.value for k in kw.value.keys if isinstance(k, ast.Constant)}
                    if keys & {"msg", "event", "message", "severity"}:
                        found.append(f"{where}: extra names {sorted(keys & {'msg', 'event', 'message', 'severity'})}")
    assert not found, "\n".join(found)
