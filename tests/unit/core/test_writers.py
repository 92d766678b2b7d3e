"""Every input the product reads has a writer in the product itself, not only in the demo.

Read from the source (AST and the SQL files), so a table or document collection that only
``tower_dev`` fills (the demo, the synthetic world) is found before a merchant connected by hand
finds it empty:

* **tables**: every DDL table (``sql/schema``) that some SQL of ``tower`` reads (``FROM`` / ``JOIN`` in
  the model and query files and in the Python strings) must be written by ``tower``: a warehouse
  ``merge`` / ``insert`` / ``replace_window`` naming it (directly, through a module constant, or as a key
  of the module's table → keys dict its call indexes), an ``INSERT INTO`` / ``MERGE`` statement, or, for
  a mart, the model runner's build script;
* **document collections**: every collection the product reads (``store.get(path)``,
  ``store.query(DocQuery(collection))``, in a transaction too) must be one it writes
  (``set`` / ``merge`` / ``create`` on the store, a batch or a transaction). Paths are followed through
  f-strings, module constants, local names and the small path helpers modules define
  (``rec_path(brand, id)``); a variable segment counts as ``*``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import tower.config
from tower import sql as sqlfiles
from tower.analytics import models as registry

ROOT = Path(tower.config.__file__).parent
_READ = re.compile(r"\b(?:FROM|JOIN)\s+`?([a-z_][a-z0-9_]*)`?")
_WRITE_SQL = re.compile(r"\b(?:INSERT\s+INTO|MERGE\s+(?:INTO\s+)?)\s*`?([a-z_][a-z0-9_]*)`?")
_WAREHOUSE_WRITES = {"merge", "insert", "replace_window"}
_STORE_NAMES = {"store", "_store", "txn", "tx", "transaction", "batch"}
_DOC_READS = {"get", "query"}
_DOC_WRITES = {"set", "merge", "create"}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(ROOT.rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def _constants(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level ``NAME = value`` (annotated too)."""
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            out[node.target.id] = node.value
    return out


# --- tables ----------------------------------------------------------------------------------------


def tables_read() -> dict[str, list[str]]:
    """DDL table -> where the product reads it."""
    ddl = set(sqlfiles.table_names())
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "sql").rglob("*.sql")):
        if path.parent.name == "schema":
            continue
        for table in set(_READ.findall(path.read_text())) & ddl:
            out.setdefault(table, []).append(str(path.relative_to(ROOT)))
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for table in set(_READ.findall(node.value)) & ddl:
                    out.setdefault(table, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return out


def tables_written() -> dict[str, list[str]]:
    """DDL table -> where the product writes it."""
    ddl = set(sqlfiles.table_names())
    out: dict[str, list[str]] = {}

    def add(table: str, where: str) -> None:
        if table in ddl:
            out.setdefault(table, []).append(where)

    for path, tree in _modules():
        consts = _constants(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for table in _WRITE_SQL.findall(node.value):
                    add(table, where)
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _WAREHOUSE_WRITES and node.args):
                continue
            first = node.args[0]
            value = consts.get(first.id) if isinstance(first, ast.Name) else first
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                add(value.value, where)
                continue
            # merge(table, rows, KEYS[table]): every table the indexed dict names
            for arg in node.args[1:] + [k.value for k in node.keywords]:
                if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
                    table_keys = consts.get(arg.value.id)
                    if isinstance(table_keys, ast.Dict):
                        for k in table_keys.keys:
                            if isinstance(k, ast.Constant) and isinstance(k.value, str):
                                add(k.value, where)
    runner = (ROOT / "analytics" / "runner.py").read_text()
    if "registry.build_script(" in runner:
        for name, spec in registry.MARTS.items():
            if re.search(rf"INSERT\s+INTO\s+{name}\b", registry.build_script(spec)):
                add(name, "analytics/runner.py (registry.build_script)")
    return out


def test_every_table_the_product_reads_has_a_writer_outside_the_demo() -> None:
    read, written = tables_read(), tables_written()
    assert {"orders", "fx_rates", "location_regions", "brand_settings", "geo_targets"} <= set(read)  # not vacuous
    missing = {t: where[:3] for t, where in sorted(read.items()) if t not in written}
    assert missing == {}, "read by the product, written only by tower_dev (or nobody)"
    # The inputs only the demo used to write now have product writers (the demo's own do not count).
    assert any(w.startswith("sync/fx.py") for w in written["fx_rates"])
    assert any(w.startswith("decisions/brand_settings.py") for w in written["location_regions"])
    assert all(r.startswith("analytics/runner.py") for r in written["days_of_cover"])


# --- document collections -----------------------------------------------------------------------------


def _pattern(expr: ast.expr, scope: dict[str, ast.expr], consts: dict[str, ast.expr],
             helpers: dict[str, ast.expr], depth: int = 0) -> str | None:
    """A document path or collection as a pattern (variable parts ``*``), or None when it cannot be followed."""
    if depth > 5:
        return None
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.JoinedStr):
        parts = []
        for v in expr.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            else:
                inner = v.value if isinstance(v, ast.FormattedValue) else v
                sub = _pattern(inner, scope, consts, helpers, depth + 1)
                parts.append(sub if sub is not None else "*")
        return "".join(parts)
    if isinstance(expr, ast.Name):
        for table in (scope, consts):
            if expr.id in table:
                return _pattern(table[expr.id], scope, consts, helpers, depth + 1)
        return None
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        if expr.func.id == "DocQuery" and expr.args:
            return _pattern(expr.args[0], scope, consts, helpers, depth + 1)
        if expr.func.id in helpers:
            return _pattern(helpers[expr.func.id], {}, consts, helpers, depth + 1)
    return None


def _helpers(trees: dict[Path, ast.Module]) -> dict[str, ast.expr]:
    """Functions anywhere in tower returning one path expression: name -> that expression."""
    out: dict[str, ast.expr] = {}
    for tree in trees.values():
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value is not None]
                if len(returns) == 1 and isinstance(returns[0], ast.JoinedStr | ast.Constant):
                    out.setdefault(node.name, returns[0])
    return out


def _collection(pattern: str, method: str) -> str:
    segments = pattern.strip("/").split("/")
    if method != "query" and len(segments) % 2 == 0:
        segments = segments[:-1]  # a document: its collection
    return "/".join("*" if "*" in s or "{" in s else s for s in segments)


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _scope(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    """A function's simple local assignments (``path = rec_path(...)``)."""
    out: dict[str, ast.expr] = {}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = node.value
    return out


def _passed_paths(trees: dict[Path, ast.Module], function: str, param: str, index: int,
                  helpers: dict[str, ast.expr]) -> list[str | None]:
    """The path patterns callers pass as ``function``'s parameter (a reader given its path: ``cached(store, path)``)."""
    out: list[str | None] = []
    for tree in trees.values():
        consts = _constants(tree)
        for fn in _functions(tree):
            scope = _scope(fn)
            for node in ast.walk(fn):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == function:
                    given = next((k.value for k in node.keywords if k.arg == param), None)
                    if given is None and len(node.args) > index:
                        given = node.args[index]
                    out.append(_pattern(given, scope, consts, helpers) if given is not None else None)
    return out


def _enclosing_params(tree: ast.Module) -> dict[int, set[str]]:
    """A nested function's id -> the parameters of the functions around it (its free path names)."""
    out: dict[int, set[str]] = {}
    for outer in _functions(tree):
        names = {a.arg for a in outer.args.posonlyargs + outer.args.args + outer.args.kwonlyargs}
        for inner in ast.walk(outer):
            if inner is not outer and isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                out.setdefault(id(inner), set()).update(names)
    return out


def collections() -> tuple[dict[str, list[str]], dict[str, list[str]], list[str]]:
    """(collection -> reads, collection -> writes, reads that could not be followed)."""
    trees = dict(_modules())
    helpers = _helpers(trees)
    reads: dict[str, list[str]] = {}
    writes: dict[str, list[str]] = {}
    unknown: list[str] = []
    for path, tree in trees.items():
        consts = _constants(tree)
        enclosing = _enclosing_params(tree)
        for fn in _functions(tree):
            scope = _scope(fn)
            params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
            for node in ast.walk(fn):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
                    continue
                receiver = node.func.value
                name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
                method = node.func.attr
                if name not in _STORE_NAMES or method not in _DOC_READS | _DOC_WRITES:
                    continue
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                first = node.args[0]
                if (isinstance(first, ast.Name) and first.id not in params and first.id not in scope
                        and first.id in enclosing.get(id(fn), set())):
                    continue  # a closure over the enclosing function's path parameter: that function's walk follows it
                if isinstance(first, ast.Name) and first.id in params and first.id not in scope:
                    patterns = _passed_paths(trees, fn.name, first.id, params.index(first.id), helpers)
                else:
                    patterns = [_pattern(first, scope, consts, helpers)]
                for pattern in patterns or [None]:
                    if pattern is None or "/" not in pattern and method != "query":
                        if method in _DOC_READS:
                            unknown.append(where)
                        continue
                    target = reads if method in _DOC_READS else writes
                    target.setdefault(_collection(pattern, method), []).append(where)
    return reads, writes, unknown


def _matches(read: str, written: str) -> bool:
    r, w = read.split("/"), written.split("/")
    return len(r) == len(w) and all(a == b or "*" in (a, b) for a, b in zip(r, w, strict=True))


def test_every_document_collection_the_product_reads_has_a_writer_outside_the_demo() -> None:
    reads, writes, unknown = collections()
    assert {"agencies", "api_keys", "brands", "brands/*/warnings", "brands/*/recommendations"} <= set(reads)
    missing = {c: where[:3] for c, where in sorted(reads.items()) if not any(_matches(c, w) for w in writes)}
    assert missing == {}, "read by the product, written only by tower_dev (or nobody)"
    assert unknown == [], "store reads whose path the check cannot follow: name it so it can"
    assert any(w.startswith("agencies.py") for w in writes["agencies"])
