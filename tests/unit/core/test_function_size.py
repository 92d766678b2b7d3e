"""Functions of the library stay short and narrow, or say why not.

Every function (methods and nested functions included) of ``shared/tower`` over 60 lines or 6
parameters must carry the reason in its docstring: ``Long because: ...`` for its length, or ``Seven
parameters: ...`` (any number, ``Long because`` also does) for its parameters. Lines are the
function's own, from ``def`` to its last line, its docstring left out; parameters are all it takes
but ``self`` / ``cls``, ``*args`` and ``**kwargs`` counting one each.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

TOWER = Path(__file__).resolve().parents[3] / "shared" / "tower"
MAX_LINES = 60
MAX_PARAMETERS = 6
LONG = re.compile(r"(?i)\blong because\b")
PARAMETERS = re.compile(r"(?i)\blong because\b|\b[\w-]+ parameters(, justified)?:")

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _functions(path: Path) -> Iterator[Function]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, Function):
            yield node


def lines_of(fn: Function) -> int:
    """The function's lines without its docstring."""
    total = (fn.end_lineno or fn.lineno) - fn.lineno + 1
    first = fn.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        total -= (first.end_lineno or first.lineno) - first.lineno + 1
    return total


def parameters_of(fn: Function) -> int:
    a = fn.args
    named = [p for p in (*a.posonlyargs, *a.args, *a.kwonlyargs) if p.arg not in ("self", "cls")]
    return len(named) + (a.vararg is not None) + (a.kwarg is not None)


def unjustified(path: Path, root: Path = TOWER.parent) -> list[str]:
    """``file:line name: why`` for each function of the file over a limit without its reason."""
    found = []
    for fn in _functions(path):
        doc = ast.get_docstring(fn) or ""
        over = []
        if (n := lines_of(fn)) > MAX_LINES and not LONG.search(doc):
            over.append(f"{n} lines")
        if (n := parameters_of(fn)) > MAX_PARAMETERS and not PARAMETERS.search(doc):
            over.append(f"{n} parameters")
        if over:
            found.append(f"{path.relative_to(root)}:{fn.lineno} {fn.name}: {', '.join(over)}")
    return found


def test_long_or_wide_functions_say_why() -> None:
    found = [line for path in sorted(TOWER.rglob("*.py")) for line in unjustified(path)]
    assert not found, ("split these, or say why in the docstring ('Long because: ...' / "
                       "'Seven parameters: ...'):\n" + "\n".join(found))


def test_the_checker_sees_length_parameters_and_reasons(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    source = (
        f'def long():\n    """Doc.\n\n    Spread over lines.\n    """\n{body}\n\n'
        f'def long_ok():\n    """Doc.\n\n    Long because: one table of cases.\n    """\n{body}\n\n'
        'def short():\n    """Sixty lines of docstring do not count.\n' + "\n" * MAX_LINES + '    """\n'
        "    return 1\n\n"
        "def wide(a, b, c, d, e, f, g):\n    return a\n\n"
        'def wide_ok(a, b, c, d, e, f, g):\n    """Doc.\n\n    Seven parameters: each a column.\n    """\n\n'
        "class K:\n    def method(self, a, b, c, d, e, f):\n        return a\n\n"
        "    def star(self, a, b, c, d, e, *args, **kwargs):\n        return a\n"
    )
    path = tmp_path / "tower" / "module.py"
    path.parent.mkdir()
    path.write_text(source)
    names = [line.split(" ")[1].rstrip(":") for line in unjustified(path, tmp_path)]
    assert names == ["long", "wide", "star"]
