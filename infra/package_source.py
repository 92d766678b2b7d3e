"""Build the Cloud Functions source zip that Terraform uploads (infra/modules/functions).

Cloud Functions' Python build installs ``requirements.txt`` and imports ``main.py`` from the root of
the zip, with that root on ``sys.path``. The zip therefore holds:

* ``main.py`` and ``functions/`` as they are in the repository;
* ``tower/``: the library, lifted from ``shared/tower`` so ``import tower`` works without installing
  the project (the repository installs it editable instead);
* ``web/dist/``: the merchant page the API serves (``tower.api.page``), when ``web/`` has been built
  (``npm ci && npm run build``; cloudbuild.yaml builds it before packaging); the sources, node_modules
  and the page's tests stay out. Deployed, that is ``/workspace/web/dist``, which main.tf names in
  ``TOWER_PAGE_DIR`` (and which the api finds beside its code when the setting is empty);
* ``requirements.txt``: the committed ``requirements-functions.lock``, pinned with hashes: the
  runtime's dependencies only (no dev extra: no pytest, ruff, mypy... in a function), resolved for the
  platform the functions run on (x86_64 Linux, CPython 3.11) and constrained to the versions of
  ``requirements.lock``, so production runs the versions the tests ran. Regenerate it with
  ``make functions-lock`` whenever requirements.lock changes (a test fails when the two disagree).

The zip is byte-identical for an unchanged tree (sorted entries, fixed timestamps and modes): its
MD5 names the uploaded object, so an unchanged build redeploys nothing.

Usage: ``python infra/package_source.py [--root DIR] [--out out/functions-source.zip]``.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FUNCTIONS_LOCK = "requirements-functions.lock"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


class PackageError(ValueError):
    """The tree lacks something the deployed functions need."""


def _files_under(base: Path) -> list[Path]:
    return sorted(
        p
        for p in base.rglob("*")
        if p.is_file()
        and not _SKIP_DIRS.intersection(p.relative_to(base).parts)
        and p.suffix not in _SKIP_SUFFIXES
    )


def entries(root: Path) -> dict[str, Path]:
    """Archive name -> file on disk, for everything the functions' source needs."""
    required = {"main.py": root / "main.py", "requirements.txt": root / FUNCTIONS_LOCK}
    missing = [str(p.relative_to(root)) for p in required.values() if not p.is_file()]
    for folder in ("functions", "shared/tower"):
        if not (root / folder).is_dir():
            missing.append(folder + "/")
    if missing:
        raise PackageError(f"cannot package the functions: {', '.join(missing)} missing under {root}")
    out = dict(required)
    for p in _files_under(root / "functions"):
        out[p.relative_to(root).as_posix()] = p
    for p in _files_under(root / "shared" / "tower"):
        out["tower/" + p.relative_to(root / "shared" / "tower").as_posix()] = p
    page = root / "web" / "dist"
    if (page / "index.html").is_file():
        for p in _files_under(page):
            out[p.relative_to(root).as_posix()] = p
    return dict(sorted(out.items()))


def build(root: Path, out: Path) -> int:
    """Write the zip; return the number of files in it."""
    files = entries(root)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in files.items():
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return len(files)


def main(argv: list[str] | None = None) -> int:
    """CLI: build the zip, or exit 2 naming what is missing."""
    parser = argparse.ArgumentParser(description="Build the Cloud Functions source zip.")
    parser.add_argument("--root", type=Path, default=REPO, help="repository root (default: this checkout)")
    parser.add_argument("--out", type=Path, default=Path("out/functions-source.zip"), help="zip to write")
    args = parser.parse_args(argv)
    try:
        count = build(args.root, args.out)
    except PackageError as e:
        print(f"package_source: {e}", file=sys.stderr)
        return 2
    print(f"package_source: wrote {args.out} ({count} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
