"""The Terraform is complete and checked: providers declared everywhere, locked, and checkov clean.

* every module (root and infra/modules/*) declares in ``required_providers`` each provider its resources
  use, with the root's constraint;
* ``.terraform.lock.hcl`` locks each of them at a version its constraint allows, with the registry's
  ``zh:`` checksums (the lock was assembled offline from HashiCorp's published checksums: see
  infra/README.md; ``terraform init`` adds this machine's ``h1:`` hash the first time it runs);
* checkov (``make tools`` installs it in .venv-tools) reports no failed check, and every
  ``checkov:skip`` in the configuration says why.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import hcl2
import pytest
from hcl2.utils import SerializationOptions

REPO = Path(__file__).resolve().parents[3]
CHECKOV = REPO / ".venv-tools" / "bin" / "checkov"
_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)


def _load(path: Path) -> dict:
    return hcl2.loads(path.read_text(), serialization_options=_OPTIONS)


def _module_dirs() -> list[Path]:
    return [REPO, *sorted(p.parent for p in (REPO / "infra" / "modules").glob("*/main.tf"))]


def _parsed(directory: Path) -> list[dict]:
    return [_load(p) for p in sorted(directory.glob("*.tf"))]


def _required_providers(directory: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for doc in _parsed(directory):
        for block in doc.get("terraform", []):
            for req in block.get("required_providers", []):
                out.update({name: {k: str(v) for k, v in spec.items()} for name, spec in req.items()})
    return out


def _providers_used(directory: Path) -> set[str]:
    """Local provider names the module's resources and data sources use (a type's prefix, or provider =)."""
    used = set()
    for doc in _parsed(directory):
        for kind in ("resource", "data"):
            for item in doc.get(kind, []):
                for rtype, bodies in item.items():
                    for body in bodies.values():
                        explicit = str(body.get("provider", "")).strip("${}").split(".")[0]
                        used.add(explicit or rtype.split("_")[0])
    return used


def _lock() -> dict[str, dict]:
    doc = _load(REPO / ".terraform.lock.hcl")
    return {addr: body for item in doc.get("provider", []) for addr, body in item.items()}


def _allows(constraint: str, version: str) -> bool:
    """Terraform's version constraints, as this configuration writes them (~>, >=, <, =)."""
    have = tuple(int(x) for x in version.split("."))
    for part in (p.strip() for p in constraint.split(",")):
        m = re.fullmatch(r"(~>|>=|<|=)?\s*([0-9.]+)", part)
        assert m, f"constraint {part!r} not modelled"
        op, nums = m.group(1) or "=", tuple(int(x) for x in m.group(2).split("."))
        want = nums + (0,) * (3 - len(nums))
        if op == "~>":
            # ~> X.Y allows X.Y up to (excluding) X+1.0: every part but the last one written is fixed.
            ok = have >= want and have[: len(nums) - 1] == nums[: len(nums) - 1]
        else:
            ok = {">=": have >= want, "<": have < want, "=": have == want}[op]
        if not ok:
            return False
    return True


@pytest.mark.parametrize("directory", _module_dirs(), ids=lambda p: p.relative_to(REPO).as_posix() or "root")
def test_each_module_requires_every_provider_it_uses(directory: Path) -> None:
    required = _required_providers(directory)
    root = _required_providers(REPO)
    assert sorted(_providers_used(directory) - set(required)) == []
    for name, spec in required.items():
        assert spec.get("source") == root[name]["source"], name
        assert spec.get("version") == root[name]["version"], f"{directory.name}: {name} {spec} != root {root[name]}"


def test_the_root_requires_what_every_child_requires() -> None:
    root = set(_required_providers(REPO))
    for directory in _module_dirs()[1:]:
        assert set(_required_providers(directory)) <= root, directory.name


def test_the_lock_file_locks_every_required_provider_at_an_allowed_version() -> None:
    lock = _lock()
    required = _required_providers(REPO)
    addresses = {f"registry.terraform.io/{spec['source']}": spec for spec in required.values()}
    assert sorted(lock) == sorted(addresses)
    for address, spec in addresses.items():
        entry = lock[address]
        version = str(entry["version"])
        assert _allows(spec["version"], version), f"{address} {version} is outside {spec['version']}"
        assert str(entry["constraints"]) == spec["version"]
        hashes = [str(h) for h in entry["hashes"]]
        assert any(h.startswith("zh:") for h in hashes), address
        assert all(re.fullmatch(r"zh:[0-9a-f]{64}|h1:[A-Za-z0-9+/]{43}=", h) for h in hashes), address


def test_version_constraints_are_read_as_terraform_reads_them() -> None:
    assert _allows("~> 6.0", "6.50.0") and not _allows("~> 6.0", "7.0.0") and not _allows("~> 6.0", "5.9.0")
    assert _allows("~> 0.13", "0.13.1") and not _allows("~> 0.13", "0.12.1")
    assert _allows(">= 1.5.0", "1.11.4") and not _allows("= 1.2.3", "1.2.4")


def _skip_comments() -> list[tuple[str, int, str]]:
    out = []
    for tf in [*REPO.glob("*.tf"), *sorted((REPO / "infra").rglob("*.tf"))]:
        for n, line in enumerate(tf.read_text().splitlines(), 1):
            out += [(tf.relative_to(REPO).as_posix(), n, m.group(1)) for m in re.finditer(r"checkov:skip=(.*)", line)]
    return out


def test_every_checkov_skip_says_why() -> None:
    bare = [f"{f}:{n}" for f, n, rest in _skip_comments()
            if len(rest.split(":", 1)) < 2 or len(rest.split(":", 1)[1].strip()) < 20]
    assert bare == []
    assert _skip_comments(), "no skip at all: this test would not notice a reason-less one"


@pytest.mark.slow
@pytest.mark.skipif(not CHECKOV.exists(), reason="checkov is not installed: make tools")
def test_checkov_finds_no_failed_check() -> None:
    skips = [p for p in (".venv", ".venv-tools", "shared", "tests", "bench", "functions", "web", ".git", "out")
             if (REPO / p).exists()]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "LOG_LEVEL": "ERROR"}
    done = subprocess.run(
        [str(CHECKOV), "-d", str(REPO), "--framework", "terraform", "--skip-download", "--quiet", "--compact",
         "-o", "json", *[a for p in skips for a in ("--skip-path", p)]],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=600, check=False,
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    summary = [r.get("summary", {}) for r in reports]
    assert sum(s.get("resource_count", 0) for s in summary) > 0
    assert sum(s.get("parsing_errors", 0) for s in summary) == 0
    failed = [f"{c['check_id']} {c['resource']}"
              for r in reports for c in r.get("results", {}).get("failed_checks", [])]
    assert failed == []
