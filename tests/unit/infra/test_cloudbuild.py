"""cloudbuild.yaml runs the pipeline the issue asks for, in an order that cannot deploy untested code.

lint, page build, tests, package, Terraform checks and plan, apply, smoke test of /health and a
dashboard call, and a rollback that redeploys the previous zip when the smoke test fails. Cloud Build
substitutes ``$NAME`` / ``${NAME}`` itself, so every other ``$`` must be written ``$$`` (an unknown
substitution fails the build before its first step), and every ``_SUBSTITUTION`` used is declared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
BUILT_IN = {"PROJECT_ID", "PROJECT_NUMBER", "BUILD_ID", "LOCATION", "COMMIT_SHA", "SHORT_SHA", "BRANCH_NAME",
            "TAG_NAME", "REPO_NAME", "REVISION_ID", "TRIGGER_NAME", "SERVICE_ACCOUNT_EMAIL", "SERVICE_ACCOUNT"}
ORDER = ["lint", "web", "test", "package", "schema-check", "tf-fmt", "checkov", "tf-init", "tf-validate", "tf-plan",
         "previous-source", "deploy", "api-url", "smoke", "rollback-fetch", "rollback"]


@pytest.fixture(scope="module")
def build() -> dict[str, Any]:
    return yaml.safe_load((REPO / "cloudbuild.yaml").read_text())


def _steps(build: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in build["steps"]}


def _script(step: dict[str, Any]) -> str:
    return " ".join(str(a) for a in step.get("args", []))


def test_the_steps_run_in_the_order_that_keeps_untested_code_out(build: dict[str, Any]) -> None:
    ids = [s["id"] for s in build["steps"]]
    assert [i for i in ids if i in ORDER] == ORDER, ids
    assert len(ids) == len(set(ids))
    # Nothing runs in the background: each step waits for the one before it.
    assert all("waitFor" not in s for s in build["steps"])


def test_the_page_is_built_before_it_is_packaged_and_only_when_web_exists(build: dict[str, Any]) -> None:
    web = _script(_steps(build)["web"])
    assert "if [ -f web/package.json ]" in web and "npm ci" in web and "npm run build" in web


def test_the_test_step_has_what_make_test_needs(build: dict[str, Any]) -> None:
    # make test runs the page's tests (npm, Node 20.19+ as .ci/run requires) and the browser tests
    # (Chromium and its driver) besides the emulators: the Python image has none of them.
    steps = _steps(build)
    web, test = _script(steps["web"]), _script(steps["test"])
    assert "cp -r /usr/local/lib/node_modules .ci-node/lib/" in web and ".ci-node/bin/npm" in web
    assert build["substitutions"]["_NODE_IMAGE"].startswith("node:20")
    assert 'export PATH="$$PWD/.ci-node/bin:$$PATH"' in test and "make test" in test
    assert test.index(".ci-node/bin") < test.index("make test")
    for package in ("openjdk-17-jre-headless", "google-cloud-cli-firestore-emulator",
                    "google-cloud-cli-pubsub-emulator", "chromium", "chromium-driver"):
        assert package in test.split(), package


def test_the_plan_is_checked_then_applied_as_reviewed(build: dict[str, Any]) -> None:
    steps = _steps(build)
    assert steps["tf-fmt"]["args"][:2] == ["fmt", "-check"]
    assert steps["checkov"]["args"] == ["checkov"]
    assert steps["tf-plan"]["args"] == ["plan", "-out=tfplan"] and steps["deploy"]["args"] == ["apply", "tfplan"]
    assert "infra/package_source.py" in steps["package"]["args"]


def test_the_smoke_test_reads_health_and_a_dashboard_and_never_fails_before_the_rollback(
    build: dict[str, Any],
) -> None:
    steps = _steps(build)
    smoke = _script(steps["smoke"])
    assert "${_HEALTH_PATH}" in smoke and "/api/brands/${_SMOKE_BRAND}/dashboard" in smoke
    assert '"$$url/"' in smoke and '<div id="root">' in smoke  # the page, served from the zip
    assert '<div id="root">' in (REPO / "web" / "index.html").read_text()
    assert "Authorization: Bearer" in smoke and "touch out/smoke_failed" in smoke
    assert "-e" not in steps["smoke"]["args"][0]  # a failed curl must reach the marker, not end the build
    assert build["substitutions"]["_HEALTH_PATH"] == "/health"
    rollback = _script(steps["rollback"])
    assert "out/smoke_failed" in rollback and "source_archive=out/previous-source.zip" in rollback
    assert rollback.rstrip().endswith("exit 1")
    assert "functions_source_url" in _script(steps["previous-source"])
    assert "gcloud storage cp" in _script(steps["rollback-fetch"])


def test_every_substitution_is_declared_and_every_shell_dollar_escaped() -> None:
    text = (REPO / "cloudbuild.yaml").read_text()
    build = yaml.safe_load(text)
    declared = set(build["substitutions"])
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    unescaped = re.sub(r"\$\$", "", body)
    used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", unescaped))
    assert sorted(u for u in used if u.startswith("_") and u not in declared) == []
    assert sorted(u for u in used if not u.startswith("_") and u not in BUILT_IN) == []
    assert sorted(declared - used) == []


def test_terraform_outputs_the_build_reads_exist() -> None:
    import hcl2

    outputs = set()
    for item in hcl2.loads((REPO / "outputs.tf").read_text()).get("output", []):
        outputs |= {k.strip('"') for k in item}
    script = (REPO / "cloudbuild.yaml").read_text()
    for name in re.findall(r"terraform output -raw (\w+)", script):
        assert name in outputs, name
    assert "http_public_access" in (REPO / "variables.tf").read_text()
