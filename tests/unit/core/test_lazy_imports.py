"""The library's own imports sit at module top, where readers and tools see its structure.

An ``import tower...`` inside a function is allowed only with its reason on the import statement, a
``# lazy: <what it avoids loading>`` comment: the module it names loads a heavy library (pyarrow,
duckdb, sqlglot, a vendor SDK) that a cold start which does not need it should not pay for.
Vendor SDKs themselves are imported where they are used; this test is about ``tower`` only.
"""

from __future__ import annotations

import ast
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
LAZY = "# lazy:"


def _names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return ["." * node.level + (node.module or "")]
    return [alias.name for alias in node.names]


def unexplained(path: Path, root: Path = SHARED) -> list[str]:
    """``file:line`` of each function-level import of tower without a ``# lazy:`` reason on its lines."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for fn in ast.walk(ast.parse(source, str(path))):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(fn):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if not any(name == "tower" or name.startswith(("tower.", ".")) for name in _names(node)):
                continue
            statement = lines[node.lineno - 1:node.end_lineno or node.lineno]
            if not any(LAZY in line for line in statement):
                found.append(f"{path.relative_to(root)}:{node.lineno} in {fn.name}(): {lines[node.lineno - 1].strip()}")
    return sorted(set(found))


def test_tower_imports_inside_functions_say_why() -> None:
    found = [line for path in sorted((SHARED / "tower").rglob("*.py")) for line in unexplained(path)]
    assert not found, ("move these imports to the module's top, or give the reason on the line "
                       "(# lazy: what it keeps out of a cold start):\n" + "\n".join(found))


def test_the_check_sees_function_level_imports_only(tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(
        "import tower.config\n"
        "def hidden():\n    from tower.sql import load\n\n"
        "def relative():\n    from . import sibling\n\n"
        "def vendor():\n    import pyarrow\n\n"
        "def explained():\n    from tower.sync import ads  # lazy: pyarrow\n\n"
        "def wrapped():\n    from tower.sync.shopify import (\n        sync_brand,  # lazy: pyarrow\n    )\n"
    )
    assert [line.split(" ")[0] for line in unexplained(path, tmp_path)] == ["module.py:3", "module.py:6"]
