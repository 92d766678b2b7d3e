"""The README's operations runbook names what the deployment really has.

An operator follows it word for word, so every Terraform output, variable, secret, queue, function,
service account, scheduler job, subscription and API it names must exist under that name, and every
operation the issue lists must have its section.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_terraform import Config

from tower import names

REPO = Path(__file__).resolve().parents[3]
SECTIONS = ["Deploy from zero", "Watch it", "Rotate a secret", "Replay dead letters", "Backfill a brand",
            "Delete a brand and its data", "Restore from BigQuery time travel"]


@pytest.fixture(scope="module")
def runbook() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("## Operations runbook")
    end = text.index("\n## ", start + 1)
    return text[start:end]


@pytest.fixture(scope="module")
def config() -> Config:
    return Config.from_repo()


def test_every_operation_has_its_section(runbook: str) -> None:
    headings = re.findall(r"^### (.+)$", runbook, re.MULTILINE)
    assert [h for h in SECTIONS if h not in headings] == []


def test_the_outputs_and_variables_it_uses_exist(runbook: str, config: Config) -> None:
    outputs = set(config.root.outputs)
    used = set(re.findall(r"terraform output (?:-raw |-json )?(\w+)", runbook))
    assert used and sorted(used - outputs) == []
    variables = set(config.root.variables)
    for name in ("http_public_access", "create_firestore_database", "alert_emails", "ai_daily_budget_usd",
                 "billing_account", "monthly_budget", "project_id", "region"):
        assert name in variables and name in runbook, name


def test_the_apis_it_enables_cover_terraform_s(runbook: str, config: Config) -> None:
    enabled = set(re.findall(r"([a-z]+\.googleapis\.com)", runbook.split("### Deploy from zero")[1].split("2. ")[0]))
    assert sorted(set(config.root.local("apis")) - enabled) == []


def test_the_secrets_it_sets_are_the_declared_ones(runbook: str) -> None:
    loop = re.search(r"for s in ([\w\s-]+); do", runbook)
    assert loop
    listed = set(loop.group(1).split())
    # The deployment-wide customer-hash-salt is a fallback the code never reads since salts are per brand.
    assert listed == set(names.SECRETS) - {names.SECRET_CUSTOMER_HASH_SALT}


def test_queues_functions_accounts_jobs_and_subscriptions_it_names_exist(runbook: str, config: Config) -> None:
    queues = {str(q.attr("name")) for q in config.instances("google_cloud_tasks_queue")}
    assert set(re.findall(r"--queue=([\w-]+)", runbook)) <= queues
    functions = {str(f.attr("name")) for f in config.instances("google_cloudfunctions2_function")}
    jobs = {str(j.attr("name")) for j in config.instances("google_cloud_scheduler_job")}
    accounts = {str(a.attr("account_id")) for a in config.instances("google_service_account")}
    others = queues | jobs | accounts | set(names.TOPICS)  # names that look like a function's but are not one
    named = set(re.findall(r"\b(tower-(?:sync|api|shopify|apply|schedule|build|recommend|summarize)[\w-]*)", runbook))
    named |= {f"tower-sync{m}" for m in re.findall(r"`(-tiktok|-google-ads)`", runbook)}
    assert sorted(n for n in named - others if n not in functions) == []
    assert set(re.findall(r"(tower-[\w-]+)@\$PROJECT", runbook)) <= accounts
    assert set(re.findall(r"scheduler jobs run ([\w-]+)", runbook)) <= jobs
    subs = {str(s.attr("name")) for s in config.instances("google_pubsub_subscription")}
    topic = re.search(r"TOPIC=([\w-]+)", runbook)
    assert topic and f"{topic.group(1)}-dlq-hold" in subs and topic.group(1) in names.TOPICS


def test_the_backfill_task_reaches_the_function_the_code_would(runbook: str) -> None:
    url = re.search(r'--url="https://\$REGION-\$PROJECT\.cloudfunctions\.net/([\w-]+)"', runbook)
    assert url and url.group(1) == names.function_name("sync_shopify")
    body = re.search(r"--body-content='(\{.*?\})'", runbook)
    assert body and '"brand_id"' in body.group(1) and '"full": true' in body.group(1)


def test_the_cli_commands_it_runs_exist() -> None:
    from typer.main import get_command

    from tower.cli import app

    command = get_command(app)
    text = (REPO / "README.md").read_text()
    runbook = text[text.index("## Operations runbook"):]
    for words in re.findall(r"^\s*tower ((?:[a-z-]+ ?){1,2})", runbook, re.MULTILINE):
        group, *rest = words.split()
        assert group in command.commands, group  # type: ignore[attr-defined]
        if rest and hasattr(command.commands[group], "commands"):  # type: ignore[attr-defined]
            assert rest[0] in command.commands[group].commands, words  # type: ignore[attr-defined]


def test_it_says_how_to_refresh_the_provider_lock(runbook: str) -> None:
    lock = re.search(r"terraform providers lock((?: -platform=\w+)+)", runbook)
    assert lock and {"linux_amd64", "darwin_arm64"} <= set(re.findall(r"-platform=(\w+)", lock.group(1)))
    assert ".terraform.lock.hcl" in runbook


def test_its_tfvars_example_parses_and_sets_declared_variables(runbook: str, config: Config) -> None:
    import hcl2

    blocks = re.findall(r"```hcl\n(.*?)```", runbook, re.DOTALL)
    assert blocks
    for block in blocks:
        values = hcl2.loads(block)
        assert values and sorted(set(values) - set(config.root.variables)) == []
