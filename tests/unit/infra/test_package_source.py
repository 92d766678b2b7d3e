"""The functions' source zip: what Cloud Functions needs at its root, byte-identical for the same tree."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[3]


def _package_source() -> ModuleType:
    spec = importlib.util.spec_from_file_location("package_source", REPO / "infra" / "package_source.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("package_source", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    files = {
        "main.py": "from functions.api import api\n",
        "requirements.lock": "duckdb==1.4.0 \\\n    --hash=sha256:00\npytest==8.0.0 \\\n    --hash=sha256:11\n",
        "requirements-functions.lock": "duckdb==1.4.0 \\\n    --hash=sha256:00\n",
        "functions/__init__.py": "",
        "functions/api.py": "def api(request):\n    return 'ok'\n",
        "functions/__pycache__/api.cpython-311.pyc": "compiled",
        "shared/tower/__init__.py": "",
        "shared/tower/sql/schema/orders.sql": "CREATE TABLE orders (order_id STRING)\n",
        "shared/tower/__pycache__/x.cpython-311.pyc": "compiled",
        "tests/unit/test_x.py": "def test(): pass\n",
        ".venv/bin/python": "binary",
    }
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_zip_holds_main_functions_tower_and_the_lock_as_requirements(tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "src.zip"
    assert _package_source().main(["--root", str(tree), "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == [
            "functions/__init__.py",
            "functions/api.py",
            "main.py",
            "requirements.txt",
            "tower/__init__.py",
            "tower/sql/schema/orders.sql",
        ]
        assert zf.read("requirements.txt") == (tree / "requirements-functions.lock").read_bytes()


def test_the_built_page_is_shipped_without_its_sources(tree: Path, tmp_path: Path) -> None:
    files = {"web/package.json": "{}", "web/src/main.tsx": "x", "web/node_modules/react/index.js": "x",
             "web/dist/index.html": "<!doctype html>", "web/dist/assets/app-1a2b.js": "x"}
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    out = tmp_path / "src.zip"
    _package_source().build(tree, out)
    with zipfile.ZipFile(out) as zf:
        web = sorted(n for n in zf.namelist() if n.startswith("web/"))
    assert web == ["web/dist/assets/app-1a2b.js", "web/dist/index.html"]


def test_an_unbuilt_page_is_not_shipped(tree: Path, tmp_path: Path) -> None:
    (tree / "web" / "dist").mkdir(parents=True)
    (tree / "web" / "dist" / "stale.js").write_text("x")  # no index.html: not a built page
    out = tmp_path / "src.zip"
    _package_source().build(tree, out)
    with zipfile.ZipFile(out) as zf:
        assert not [n for n in zf.namelist() if n.startswith("web/")]


def test_same_tree_gives_the_same_bytes(tree: Path, tmp_path: Path) -> None:
    pkg = _package_source()
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    pkg.build(tree, first)
    (tree / "main.py").touch()  # a newer mtime alone must not change the archive
    pkg.build(tree, second)
    assert first.read_bytes() == second.read_bytes()
    (tree / "functions" / "api.py").write_text("def api(request):\n    return 'changed'\n")
    pkg.build(tree, second)
    assert first.read_bytes() != second.read_bytes()


def test_missing_entry_module_is_a_clear_error(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tree / "main.py").unlink()
    assert _package_source().main(["--root", str(tree), "--out", str(tmp_path / "x.zip")]) == 2
    assert "main.py missing" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()


def test_the_real_zip_ships_tower_only_and_runs_without_the_development_package(tmp_path: Path) -> None:
    """The repository's own zip: no tower_dev, no tests, no sandbox or world module; and tower imports
    nothing from tower_dev (each module of the zip imported in a process that cannot see tower_dev)."""
    out = tmp_path / "src.zip"
    assert _package_source().main(["--root", str(REPO), "--out", str(out)]) == 0
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "src")
    shipped = {"functions", "tower", "main.py", "requirements.txt"}
    if (REPO / "web" / "dist" / "index.html").is_file():
        shipped.add("web")  # the built page, and only it (test_the_built_page_is_shipped_without_its_sources)
    assert {n.split("/")[0] for n in names} == shipped
    # The sandbox servers (tower_dev/sandboxes/) stay out; tower/sandboxes.py is the product's record of
    # sandbox connections, which imports nothing of them (checked by the import below).
    leaked = [n for n in names if any(w in n for w in ("tower_dev", "sandboxes/", "/world/", "reference.py",
                                                          "samples.py", "demo.py", "tests/"))]
    assert leaked == []
    modules = sorted(n[:-3].replace("/", ".").removesuffix(".__init__") for n in names
                     if n.startswith("tower/") and n.endswith(".py"))
    code = ("import importlib, sys\n"
            "sys.path = [p for p in sys.path if 'shared' not in p and 'editable' not in p]\n"
            "sys.path.insert(0, '.')\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "assert not [m for m in sys.modules if m.startswith('tower_dev')], 'tower_dev was imported'\n"
            "import tower; assert all('/src/' in p or p.startswith('.') for p in tower.__path__), tower.__path__\n"
            "print('ok', len(sys.modules))\n")
    import subprocess

    done = subprocess.run([sys.executable, "-I", "-c", code], check=False, cwd=tmp_path / "src",
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("ok")


def _deployed_page_dir() -> str:
    """TOWER_PAGE_DIR as Terraform sets it for the api function."""
    from deploy_model import function_env, functions_by_entry_point
    from test_terraform import Config

    config = Config.from_repo()
    return function_env(config, functions_by_entry_point(config)["api"])["TOWER_PAGE_DIR"]


# Cloud Functions' Python runtime unpacks the source zip into /workspace and runs it from there.
_WORKSPACE = "/workspace"


@pytest.mark.parametrize("page_setting", ["terraform", "unset"])
def test_the_deployed_api_function_serves_the_page_from_its_zip(tmp_path: Path, page_setting: str) -> None:
    """The zip package_source builds from this repository (with a built page), unpacked as Cloud Functions
    does and run by functions-framework as the ``api`` target: ``/`` and an app path are the page's
    index.html, its hashed script is itself; with TOWER_PAGE_DIR as main.tf sets it (rebased from
    /workspace onto the unpacked folder) and with it unset (the page beside the zip's code)."""
    import shutil
    import subprocess

    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("functions", "shared/tower"):
        shutil.copytree(REPO / folder, root / folder, ignore=ignore)
    for name in ("main.py", "requirements-functions.lock"):
        shutil.copy2(REPO / name, root / name)
    index = "<!doctype html><title>Control Tower</title><div id=root data-build=zip-test></div>"
    (root / "web" / "dist" / "assets").mkdir(parents=True)
    (root / "web" / "dist" / "index.html").write_text(index)
    (root / "web" / "dist" / "assets" / "app-9f8e.js").write_text("console.log('from the zip')")
    out = tmp_path / "functions-source.zip"
    _package_source().build(root, out)
    workspace = tmp_path / "workspace"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(workspace)

    env = {"PATH": "/usr/bin:/bin", "TOWER_DATA_DIR": str(tmp_path / "data")}
    if page_setting == "terraform":
        configured = _deployed_page_dir()
        assert configured.startswith(_WORKSPACE + "/"), configured
        env["TOWER_PAGE_DIR"] = str(workspace) + configured[len(_WORKSPACE):]
    code = ("import json, sys\n"
            "sys.path = [p for p in sys.path if 'shared' not in p and 'editable' not in p]\n"
            "import functions_framework\n"
            "app = functions_framework.create_app(target='api', source='main.py')\n"
            "import tower; assert all(p.startswith(sys.argv[1]) for p in tower.__path__), tower.__path__\n"
            "client = app.test_client()\n"
            "answers = {p: client.get(p) for p in ('/', '/brands/b1', '/assets/app-9f8e.js')}\n"
            "print(json.dumps({p: [r.status_code, r.get_data(as_text=True), r.headers.get('Cache-Control')]\n"
            "                  for p, r in answers.items()}))\n")
    done = subprocess.run([sys.executable, "-I", "-c", code, str(workspace)], check=False, cwd=workspace,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers["/"][:2] == [200, index]
    assert answers["/brands/b1"][:2] == [200, index]
    assert answers["/assets/app-9f8e.js"] == [200, "console.log('from the zip')", "public, max-age=31536000, immutable"]
