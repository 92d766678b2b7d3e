"""Each call the runtime makes is allowed by the roles and conditions Terraform grants the account it runs as.

The permission table:

* **Secrets**, by name pattern: every ``secrets.<method>(id)`` of the runtime's code (deploy_model reads
  them; per-brand ids are sampled as ``integration-b1-shopify`` / ``customer-hash-salt-b1``) is made
  through the real Secret Manager adapter and client against the in-memory Secret Manager of
  tests/contract/grpc_fakes.py, which checks each RPC's documented permission on its documented
  resource (CreateSecret on the project; versions on ``.../secrets/ID/versions/N``) against
  :meth:`deploy_model.Iam.allows`, i.e. against Terraform's bindings, custom roles and IAM conditions.
* **BigQuery, Firestore, Cloud Tasks, Pub/Sub**: :data:`RUNTIME_NEEDS`, what each adapter asks of its
  service (the queues and topics are those the code enqueues on and publishes to), checked the same way.

The negative tests take the grants back one at a time (the salt prefix out of the condition, secret
creation back under the name condition, an accessor binding) and expect the calls that break to be named.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploy_model import (
    PROJECT_NUMBER,
    CallSite,
    Iam,
    code_calls,
    function_env,
    functions_by_entry_point,
    runtime_member,
    secret_ref_writers,
)
from test_terraform import REPO, Config

from tower import names
from tower.ports import NotFound, PortError

sys.path.insert(0, str(REPO / "tests" / "contract"))
from grpc_fakes import FakeSecretManager

PROJECT = "tower-test"

# What each adapter asks of its service, per call, and on which resource ({dataset}, {queue}, {topic},
# {tasks_account} are filled from the functions' environment and the code's calls).
RUNTIME_NEEDS: dict[str, list[tuple[str, str]]] = {
    # bigquery_warehouse: queries and MERGE run as jobs billed to the project; loads go to a staging
    # table created, read by the MERGE, then dropped; table_exists / columns read table metadata.
    "warehouse": [
        ("bigquery.jobs.create", "project"),
        ("bigquery.tables.get", "dataset:{dataset}"),
        ("bigquery.tables.getData", "dataset:{dataset}"),
        ("bigquery.tables.updateData", "dataset:{dataset}"),
        ("bigquery.tables.create", "dataset:{dataset}"),
        ("bigquery.tables.delete", "dataset:{dataset}"),
    ],
    # firestore_store: documents read, listed (queries), created, updated in transactions, deleted.
    "store": [
        ("datastore.entities.get", "project"),
        ("datastore.entities.list", "project"),
        ("datastore.entities.create", "project"),
        ("datastore.entities.update", "project"),
        ("datastore.entities.delete", "project"),
    ],
    # cloud_tasks: CreateTask on the queue, with an OIDC token minted as the tasks account (actAs).
    "tasks": [
        ("cloudtasks.tasks.create", "queue:{queue}"),
        ("iam.serviceAccounts.actAs", "serviceaccount:{tasks_account}"),
    ],
    # pubsub_bus: Publish.
    "bus": [("pubsub.topics.publish", "topic:{topic}")],
}


@pytest.fixture(scope="module")
def config() -> Config:
    return Config.from_repo()


def _members(config: Config) -> list[str]:
    return sorted({runtime_member(config, fn) for fn in functions_by_entry_point(config).values()})


def _iam_of_fake(iam: Iam, member: str) -> Callable[[str, str], bool]:
    """The fake's ``allows``: a fake resource name (project id) seen as IAM sees it (project number)."""
    prefix = f"projects/{PROJECT}"

    def allows(permission: str, resource: str) -> bool:
        full = PROJECT_NUMBER.join(resource.split(PROJECT, 1)) if resource.startswith(prefix) else resource
        rest = resource[len(prefix):]
        scope = f"secret:{rest.split('/')[2]}" if rest.startswith("/secrets/") else "project"
        return iam.allows(member, permission, scope, full)

    return allows


def _secret_calls() -> dict[tuple[str, str], list[CallSite]]:
    out: dict[tuple[str, str], list[CallSite]] = {}
    for c in code_calls().calls:
        if c.kind == "secrets":
            out.setdefault((c.method, c.args[0]), []).append(c)
    return out


@pytest.fixture
def fake_sm() -> Iterator[FakeSecretManager]:
    fake = FakeSecretManager(PROJECT).start()
    yield fake
    fake.stop()


def secret_call_problems(config: Config, fake: FakeSecretManager) -> list[str]:
    """Every Secrets call of the code, made as each function's account; what Secret Manager refuses."""
    from tower.adapters.secret_manager import SecretManagerSecrets

    iam = Iam.of(config)
    problems = []
    for member in _members(config):
        for (method, secret_id), sites in sorted(_secret_calls().items()):
            # The states a call meets in production: a declared secret exists (Terraform made it), with
            # or without a value yet; a per-brand one may not exist yet (put / exists) or exist.
            states = ["with_value"]
            if method in ("put", "exists"):
                states.append("absent" if secret_id not in names.SECRETS else "no_value")
            for state in states:
                fake.allows = None
                fake.secrets.clear()
                admin = SecretManagerSecrets(PROJECT, client=fake.client())
                if state == "with_value":
                    admin.put(secret_id, "value-1")
                elif state == "no_value":
                    fake.secrets[f"projects/{PROJECT}/secrets/{secret_id}"] = []
                admin.close()
                fake.allows = _iam_of_fake(iam, member)
                s = SecretManagerSecrets(PROJECT, client=fake.client())
                args: tuple[Any, ...] = (secret_id, "value-2") if method in ("put", "rotate") else (secret_id,)
                try:
                    getattr(s, method)(*args)
                except NotFound:
                    pass  # a value that is not there is the caller's business, not a grant missing
                except PortError as e:
                    problems.append(f"{sites[0].where}: secrets.{method}({secret_id!r}) [{state}] as {member}: {e}")
                finally:
                    s.close()
    return problems


def _needs(config: Config, fn: Any) -> list[tuple[str, str, str]]:
    """(what, permission, scope) rows of RUNTIME_NEEDS for a function, filled from env and code."""
    env = function_env(config, fn)
    dataset = env["TOWER_WAREHOUSE"].rsplit("/", 1)[-1]
    tasks_account = env["TOWER_TASKS_SERVICE_ACCOUNT"].replace(".email}", ".name}")
    calls = code_calls().calls
    queues = sorted({c.args[0] for c in calls if c.kind == "enqueue"})
    topics = sorted({c.args[0] for c in calls if c.kind == "publish"})
    rows = []
    for what, needs in RUNTIME_NEEDS.items():
        for permission, scope in needs:
            fills: list[dict[str, str]] = [{}]
            if "{queue}" in scope:
                fills = [{"queue": q} for q in queues]
            elif "{topic}" in scope:
                fills = [{"topic": t} for t in topics]
            for fill in fills:
                rows.append((what, permission, scope.format(dataset=dataset, tasks_account=tasks_account, **fill)))
    return rows


def service_call_problems(config: Config) -> list[str]:
    iam = Iam.of(config)
    problems = []
    for ep, fn in sorted(functions_by_entry_point(config).items()):
        member = runtime_member(config, fn)
        for what, permission, scope in _needs(config, fn):
            if not iam.allows(member, permission, scope):
                problems.append(f"{ep} ({member}): {what} needs {permission} on {scope}")
    return problems


# --- the tests ----------------------------------------------------------------------------------------------


def test_every_runtime_secret_call_is_understood() -> None:
    assert code_calls().unresolved == []
    assert secret_ref_writers() == []
    methods = {m for m, _ in _secret_calls()}
    assert {"get", "put", "exists", "rotate", "delete"} <= methods


def test_every_role_terraform_grants_is_known(config: Config) -> None:
    assert Iam.of(config).unknown_roles() == []


def test_every_secret_call_is_allowed_by_terraform(config: Config, fake_sm: FakeSecretManager) -> None:
    assert secret_call_problems(config, fake_sm) == []


def test_every_bigquery_firestore_tasks_and_pubsub_call_is_allowed(config: Config) -> None:
    assert service_call_problems(config) == []


def test_the_runtime_reads_but_cannot_get_the_metadata_of_a_declared_secret(
    config: Config, fake_sm: FakeSecretManager,
) -> None:
    # Why exists() reads the latest version: GetSecret needs secretmanager.secrets.get, never granted.
    from google.api_core import exceptions as gexc

    from tower.adapters.secret_manager import SecretManagerSecrets

    SecretManagerSecrets(PROJECT, client=fake_sm.client()).put(names.SECRET_ANTHROPIC_API_KEY, "k")
    fake_sm.allows = _iam_of_fake(Iam.of(config), _members(config)[0])
    with pytest.raises(gexc.PermissionDenied):
        fake_sm.client().get_secret(request={"name": f"projects/{PROJECT}/secrets/{names.SECRET_ANTHROPIC_API_KEY}"})
    assert SecretManagerSecrets(PROJECT, client=fake_sm.client()).exists(names.SECRET_ANTHROPIC_API_KEY) is True


def test_terraform_condition_lists_exactly_the_codes_runtime_prefixes(config: Config) -> None:
    assert config.root.local("integration_secret_prefix") == names.INTEGRATION_SECRET_PREFIX
    assert config.root.local("customer_salt_secret_prefix") == names.CUSTOMER_SALT_SECRET_PREFIX
    conditions = {b.condition for b in Iam.of(config).grants if b.condition}
    for prefix in names.RUNTIME_SECRET_PREFIXES:
        assert any(f'/secrets/{prefix}")' in c for c in conditions), prefix


# Negative: each grant taken back breaks exactly the calls that need it.


def _edited(path: str, *replacements: tuple[str, str]) -> Config:
    files = Config.from_repo().files
    for old, new in replacements:
        assert old in files[path], f"{path} no longer holds {old!r}"
        files[path] = files[path].replace(old, new)
    return Config(files)


def test_salts_outside_the_condition_are_reported(fake_sm: FakeSecretManager) -> None:
    config = _edited("infra/modules/iam/main.tf", (
        ' || resource.name.startsWith(\\"projects/${var.project_number}/secrets/${var.customer_salt_secret_prefix}\\")',
        "",
    ))
    problems = secret_call_problems(config, fake_sm)
    assert problems and all("customer-hash-salt-b1" in p for p in problems)
    assert any("secrets.get('customer-hash-salt-b1')" in p for p in problems)
    assert any("secrets.put('customer-hash-salt-b1')" in p for p in problems)


def test_secret_creation_under_the_name_condition_is_reported(fake_sm: FakeSecretManager) -> None:
    # The old grant: secrets.create in the conditional role, no project-level creator. CreateSecret is
    # checked on the project, which no "secrets/<prefix>" condition matches.
    config = _edited(
        "infra/modules/iam/main.tf",
        ('"secretmanager.secrets.delete",', '"secretmanager.secrets.create",\n    "secretmanager.secrets.delete",'),
        ('permissions = ["secretmanager.secrets.create"]', 'permissions = ["secretmanager.secrets.get"]'),
    )
    problems = secret_call_problems(config, fake_sm)
    assert problems and all("[absent]" in p and "secrets.put" in p for p in problems)
    assert any("integration-b1-shopify" in p for p in problems) and any("customer-hash-salt-b1" in p for p in problems)


def test_a_declared_secret_without_an_accessor_is_reported(fake_sm: FakeSecretManager) -> None:
    config = _edited("main.tf", ('    "anthropic-api-key",\n', ""))
    problems = secret_call_problems(config, fake_sm)
    assert problems and all("anthropic-api-key" in p for p in problems)


def test_a_queue_without_the_enqueuer_grant_is_reported() -> None:
    config = _edited("infra/modules/tasks/main.tf",
                     ('role     = "roles/cloudtasks.enqueuer"', 'role     = "roles/cloudtasks.viewer"'))
    problems = service_call_problems(config)
    assert any("cloudtasks.tasks.create on queue:tower-sync" in p for p in problems)
