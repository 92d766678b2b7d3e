"""R7: checkov over the Terraform, and everything a demo run writes scanned for secrets and personal data.

**checkov** (``.venv-tools``: it cannot share the lock's dependencies) runs over ``main.tf`` and
``infra/`` offline (no platform download, no guideline lookup). A finding is a failed check, or a
``checkov:skip`` comment without a written reason after the check id.

**The scan** reads what the demo run left: its console output, its log lines, every file under its
data folder (the SQLite store, bus and queue byte for byte; the encrypted secrets folder is skipped:
holding tokens is its job), every text column of every warehouse table, and the API's answers to every
GET route for both brands (an agency key each) and to a question. It looks for

* tokens: every secret value the run stored (platform access tokens, customer-hash salts), the
  sandbox token shapes, Shopify ``shpat_`` tokens, API keys (``tower_`` + 43 characters);
* raw customer ids: the world's ``gid://shopify/Customer/N`` and the bare numbers;
* e-mail addresses (any ``name@domain.tld``);
* full ZIP / postal codes of the world's orders (the warehouse keeps the first three characters) and
  street addresses.

Each distinct (kind, where) is one finding.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from reliability_checks.demo_state import ApiState, DemoRun

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
#: Addresses under the ``.example`` top-level domain (RFC 2606: reserved, nobody's mailbox) are what the API's
#: documented examples use (``ana@fjordknits.example``); the world's customers write ``@example.com``, which
#: this does not cover, so their addresses are still found.
DOCUMENTED = re.compile(r"@(?:[A-Za-z0-9-]+\.)+example$")
TOKEN_SHAPES = re.compile(r"shpat_[0-9a-f]{16,}|\b(?:meta|tiktok|google_ads)-sandbox-[0-9a-f]{16,}|\btower_[A-Za-z0-9_-]{43}")
SKIP_SUFFIX = re.compile(r"^(?:checkov:skip=)?(CKV2?_[A-Z0-9_]+)(?::(.*))?$")


# --- checkov ---------------------------------------------------------------------------------------------


def checkov(repo: Path, tools: Path) -> dict[str, Any]:
    """checkov's failed checks and reason-less skips over main.tf and infra/."""
    exe = tools / "bin" / "checkov"
    if not exe.exists():
        return {"r7_checkov": "not installed (make tools)", "r7_checkov_failed": None, "r7_checkov_unexplained_skips": None}
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
           "LOG_LEVEL": "ERROR"}
    skips = [p for p in (".venv", ".venv-tools", "shared", "tests", "bench", "functions", "web", ".git")
             if (repo / p).exists()]
    cmd = [str(exe), "-d", str(repo), "--framework", "terraform", "--skip-download", "--quiet", "--compact",
           "-o", "json", *[a for p in skips for a in ("--skip-path", p)]]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=repo, timeout=600, check=False)
    try:
        reports = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"r7_checkov": f"checkov gave no JSON (exit {done.returncode})", "r7_checkov_failed": None,
                "r7_checkov_unexplained_skips": None}
    reports = reports if isinstance(reports, list) else [reports]
    failed = [f"{c['check_id']} {c['resource']}" for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    skipped = [c for r in reports for c in r.get("results", {}).get("skipped_checks", [])]
    unexplained = [f"{c['check_id']} {c['resource']}" for c in skipped
                   if not str((c.get("check_result") or {}).get("suppress_comment") or "").strip()
                   or "No comment provided" in str((c.get("check_result") or {}).get("suppress_comment"))]
    unexplained += _bare_skip_comments(repo)
    return {"r7_checkov": f"checkov {_version(exe)}", "r7_checkov_failed": len(failed),
            "r7_checkov_unexplained_skips": len(unexplained), "r7_checkov_details": (failed + unexplained)[:20]}


def _version(exe: Path) -> str:
    done = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120, check=False)
    return done.stdout.strip()


def _bare_skip_comments(repo: Path) -> list[str]:
    """``checkov:skip=ID`` comments with no reason after the id, in the Terraform files."""
    out = []
    for tf in [repo / "main.tf", *sorted((repo / "infra").rglob("*.tf"))]:
        if not tf.exists():
            continue
        for n, line in enumerate(tf.read_text().splitlines(), 1):
            for m in re.finditer(r"checkov:skip=(\S+)(.*)", line):
                rest = (m.group(1).split(":", 1)[1] if ":" in m.group(1) else "") + m.group(2)
                if not rest.strip(" :"):
                    out.append(f"{tf.relative_to(repo)}:{n} skips {m.group(1)} without a reason")
    return out


# --- the scan ------------------------------------------------------------------------------------------


#: Candidates looked up in the sets of known values: whole numbers of five digits or more, Shopify
#: customer gids, and postal-code shapes (US five digits, Canadian ``A1A 1A1``), none inside a longer
#: number or word (``0.06913`` is an amount, not a ZIP).
NUMBERS = re.compile(r"(?<![\w.])\d{5,}(?![\w])")
GIDS = re.compile(r"gid://shopify/Customer/\d+")
POSTCODES = re.compile(r"(?<![\w.])(?:\d{5}|[A-Z]\d[A-Z] ?\d[A-Z]\d)(?![\w])")


class Needles:
    """The sensitive values of one demo run, and how to find them in text."""

    def __init__(self, demo: DemoRun, extra_secrets: list[str]) -> None:
        orders = [r for bw in demo.world.brands for r in bw.raw["orders"].to_pylist()]
        self.secrets = sorted({v for v in [*demo.secret_values, *extra_secrets] if v and len(v) >= 8})
        customers = {str(r["customer_id"]) for r in orders if r.get("customer_id")}
        self.customer_ids = customers | {c.rsplit("/", 1)[-1] for c in customers}
        self.zips = {str(r["zip"]) for r in orders if r.get("zip") and len(str(r["zip"])) > 3}
        self.streets = sorted({str(r["address1"]) for r in orders if r.get("address1")})

    def find(self, text: str, recipients: frozenset[str] = frozenset()) -> list[str]:
        """Kinds of sensitive values in a text (``recipients``: e-mail addresses allowed in it)."""
        kinds = []
        if any(s in text for s in self.secrets) or TOKEN_SHAPES.search(text):
            kinds.append("token")
        if any(m.group(0) in self.customer_ids for pattern in (NUMBERS, GIDS) for m in pattern.finditer(text)):
            kinds.append("customer_id")
        if any(m.group(0) not in recipients and not DOCUMENTED.search(m.group(0)) for m in EMAIL.finditer(text)):
            kinds.append("email")
        if any(m.group(0) in self.zips for m in POSTCODES.finditer(text)):
            kinds.append("full_zip")
        if any(s in text for s in self.streets):
            kinds.append("street")
        return kinds


def scan(demo: DemoRun, state: ApiState) -> dict[str, Any]:
    """Findings in everything the demo run wrote, and in the API's answers over it."""
    needles = Needles(demo, list(state.keys.values()))
    findings: set[tuple[str, str]] = set()
    # The agency's notification recipients are the agency's own staff, whom the product must e-mail: their
    # addresses may sit in the document store and in the agency's own notifications answer, nowhere else
    # (never in a log line, the warehouse or another route).
    recipients = _recipient_addresses(state)
    allowed_at = ("file store.sqlite", "API GET /api/agency/notifications")

    def look(where: str, text: str) -> None:
        for kind in needles.find(text, recipients if where.startswith(allowed_at) else frozenset()):
            findings.add((kind, where))

    look("console", demo.console_text)
    for n, line in enumerate(demo.log_text.splitlines(), 1):
        kinds = needles.find(line)
        for kind in kinds:
            findings.add((kind, f"log line {n}"))
    for path in sorted(p for p in demo.root.rglob("*") if p.is_file()):
        rel = path.relative_to(demo.root)
        if rel.parts and rel.parts[0] == "secrets":
            continue
        look(f"file {rel}", path.read_bytes().decode("utf-8", errors="replace"))
    _scan_warehouse(state, look)
    _scan_api(state, look)
    by_kind: dict[str, int] = {}
    for kind, _ in findings:
        by_kind[kind] = by_kind.get(kind, 0) + 1
    return {"r7_scan_findings": len(findings), "r7_scan_by_kind": by_kind,
            "r7_scan_details": sorted(f"{k} in {w}" for k, w in findings)[:20],
            "r7_scanned_log_lines": len(demo.log_text.splitlines())}


def _recipient_addresses(state: ApiState) -> frozenset[str]:
    """The e-mail addresses of every agency's notification recipients and digest senders (tower.notify)."""
    from tower.notify.recipients import branding, list_recipients
    from tower.runtime import Runtime

    runtime = Runtime(state.settings())
    try:
        people = list_recipients(runtime.store)
        senders = {branding(runtime.store, str(a)).get("from_address") for a in {r.get("agency_id") for r in people}}
        return frozenset({str(r["address"]) for r in people if r.get("channel") == "email" and r.get("address")}
                         | {str(s) for s in senders if s})
    finally:
        runtime.close()


def _scan_warehouse(state: ApiState, look: Any) -> None:
    """Every text column of every table (read from a copy: the scan never touches the demo's files)."""
    from reliability_checks import fingerprint as fp
    from tower.runtime import Runtime

    runtime = Runtime(state.settings())
    try:
        for table, rows in fp.warehouse_rows(runtime.warehouse).items():
            columns: dict[str, set[str]] = {}
            for r in rows:
                for col, v in r.items():
                    if isinstance(v, str):
                        columns.setdefault(col, set()).add(v)
            for col, values in columns.items():
                look(f"warehouse {table}.{col}", "\n".join(sorted(values)))
    finally:
        runtime.close()


def _scan_api(state: ApiState, look: Any) -> None:
    """The API's answers to every GET route of both brands, to a question, and to bad requests."""
    from tower.api.app import create_app
    from tower.api.openapi import build_document
    from tower.runtime import Runtime

    runtime = Runtime(state.settings())
    try:
        app = create_app(runtime)
        client = app.test_client()
        doc = build_document(app)
        for index, (brand, key) in enumerate(((state.brand_ids[0], "agency"), (state.brand_ids[1], "other_agency"))):
            headers = {"Authorization": f"Bearer {state.keys[key]}"}
            for path, methods in doc["paths"].items():
                if "get" not in methods or (index and "{brand_id}" not in path):
                    continue
                url = path.replace("{brand_id}", brand).replace("{channel}", "meta")
                r = client.get(url, headers=headers)
                look(f"API GET {path}", r.get_data(as_text=True) + json.dumps(dict(r.headers)))
            r = client.post(f"/api/brands/{brand}/ask", headers=headers,
                            json={"question": "Which products performed best last month?"})
            look("API POST /ask", r.get_data(as_text=True))
            r = client.get(f"/api/brands/{brand}/dashboard", headers={"Authorization": "Bearer tower_wrong"})
            look("API error body", r.get_data(as_text=True))
    finally:
        runtime.close()

