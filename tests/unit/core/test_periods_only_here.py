"""tower.periods is the only module of the product that turns period words into dates.

What this checks, by reading every module of ``shared/tower`` (tower.periods left out) as Python's AST:

1. no regular expression reads a period out of text: no string passed to ``re.*`` names "yesterday", a
   week, a month, a year, "to date" or "last/past N days" (tower.periods.in_text is where questions are read);
2. no month or year boundary is computed: no ``<date>.replace(day=1)`` and no ``date(<year>, 1, 1)``;
3. no window of the vocabulary's lengths is cut by hand: no ``timedelta(weeks=...)`` and no
   ``timedelta(days=N)`` with N one of 7, 14, 28, 30, 31, except the named constants in :data:`NOT_PERIODS`
   (each a duration that no text names as a period).

What it does not check: a length computed at run time (``timedelta(days=settings.x)``: the settings' analysis
windows, not words), the SQL files (their windows are grains such as the reconciliation's Monday weeks, or
come in as @start_date / @end_date from here), and the page's TypeScript.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3] / "shared" / "tower"
PERIOD_WORDS = re.compile(r"yesterday|week|month|year|to\s*date|(last|past)\\?s\+?\s*\(?\\d", re.IGNORECASE)
PERIOD_LENGTHS = {7, 14, 28, 30, 31}
#: (module, assigned name): timedeltas of a period's length that are not periods.
NOT_PERIODS = {
    ("sync/webhooks.py", "PROCESSED_EVENT_RETENTION"),  # how long a delivered webhook id is remembered
    ("sync/ads.py", "GRANT_WARNING_BEFORE"),  # how early a lapsing ad-platform grant is announced
}


def _modules() -> list[tuple[str, ast.Module]]:
    return [(str(p.relative_to(ROOT)), ast.parse(p.read_text(), str(p))) for p in sorted(ROOT.rglob("*.py"))
            if p.relative_to(ROOT).as_posix() != "periods.py"]


def _constant_int(node: ast.AST) -> int | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, int) else None


def _problems(name: str, tree: ast.Module) -> list[str]:
    out = []
    allowed = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and (name, t.id) in NOT_PERIODS for t in n.targets)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        where = f"{name}:{node.lineno}"
        if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "re" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                and PERIOD_WORDS.search(node.args[0].value)):
            out.append(f"{where}: a regular expression reads a period: {node.args[0].value!r}")
        if isinstance(f, ast.Attribute) and f.attr == "replace" and any(
                k.arg == "day" and _constant_int(k.value) == 1 for k in node.keywords):
            out.append(f"{where}: a month's first day computed by hand")
        if isinstance(f, ast.Name) and f.id == "date" and len(node.args) == 3 and [
                _constant_int(a) for a in node.args[1:]] == [1, 1]:
            out.append(f"{where}: a year's first day computed by hand")
        if isinstance(f, ast.Name) and f.id == "timedelta" and id(node) not in allowed:
            for k in node.keywords:
                if k.arg == "weeks" or (k.arg == "days" and _constant_int(k.value) in PERIOD_LENGTHS):
                    out.append(f"{where}: a window of a period's length: timedelta({k.arg}={ast.unparse(k.value)})")
    return out


def test_no_other_module_turns_words_into_dates() -> None:
    problems = [p for name, tree in _modules() for p in _problems(name, tree)]
    assert not problems, "\n".join(problems)


def test_the_check_finds_what_it_looks_for() -> None:
    """Each rule fires on a module that breaks it (so an empty result above means something)."""
    bad = ast.parse(
        "import re\nfrom datetime import date, timedelta\n"
        "m = re.search(r'\\blast\\s+week\\b', q)\n"
        "start = today.replace(day=1)\n"
        "jan = date(today.year, 1, 1)\n"
        "week = today - timedelta(days=7)\n"
        "month = today - timedelta(days=30)\n"
        "two = timedelta(weeks=2)\n"
        "PROCESSED_EVENT_RETENTION = timedelta(days=7)\n")
    found = _problems("elsewhere.py", bad)
    assert [p.split(": ", 1)[1].split(":")[0] for p in found] == [
        "a regular expression reads a period", "a month's first day computed by hand",
        "a year's first day computed by hand", "a window of a period's length", "a window of a period's length",
        "a window of a period's length", "a window of a period's length"]
    assert _problems("sync/webhooks.py", ast.parse("PROCESSED_EVENT_RETENTION = timedelta(days=7)\n")) == []
