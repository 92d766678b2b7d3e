"""Each function's calls are allowed by the roles and conditions Terraform grants its own account, and no more.

Every function runs as an account of its own (infra/modules/iam, ``tower-fn-<name>``), granted what
main.tf's ``functions[*].access`` lists. What a function's code can call is read from the code: from
its handler (tower.wiring), every library module it can reach (deploy_model.entry_point_scope), and in
those the warehouse and document-store calls, the queues it enqueues on, the topics it publishes to
and the secrets it reads or writes. The permission table, per function:

* **Secrets**, by name pattern: every ``secrets.<method>(id)`` the function can make (per-brand ids are
  sampled as ``integration-b1-shopify`` / ``customer-hash-salt-b1``) is made through the real Secret
  Manager adapter and client against the in-memory Secret Manager of tests/contract/grpc_fakes.py,
  which checks each RPC's documented permission on its documented resource (CreateSecret on the
  project; versions on ``.../secrets/ID/versions/N``) against :meth:`deploy_model.Iam.allows`, i.e.
  against Terraform's bindings of that function's account, custom roles and IAM conditions.
* **BigQuery, Firestore, Cloud Tasks, Pub/Sub**: :data:`RUNTIME_NEEDS`, what each adapter asks of its
  service (on the queues and topics the function's code names), checked the same way.

Least privilege both ways: the access list of each function equals what its code calls for, and every
binding its account holds is one that some call of that function needs. The negative tests take the
grants back one at a time (the salt prefix out of the condition, secret creation back under the name
condition, an accessor binding, an enqueuer role) or add one, and expect the functions concerned named.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from deploy_model import (
    PROJECT_NUMBER,
    Binding,
    CallSite,
    Iam,
    calls_of,
    code_calls,
    function_env,
    functions_by_entry_point,
    needed_access,
    runtime_member,
    secret_ref_writers,
    uses_port,
)
from test_terraform import REPO, Config

from tower import names, wiring
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


def _iam_of_fake(iam: Iam, member: str, used: set[Binding] | None = None) -> Callable[[str, str], bool]:
    """The fake's ``allows``: a fake resource name (project id) seen as IAM sees it (project number).

    The bindings that allowed a call are added to ``used``.
    """
    prefix = f"projects/{PROJECT}"

    def allows(permission: str, resource: str) -> bool:
        full = PROJECT_NUMBER.join(resource.split(PROJECT, 1)) if resource.startswith(prefix) else resource
        rest = resource[len(prefix):]
        scope = f"secret:{rest.split('/')[2]}" if rest.startswith("/secrets/") else "project"
        granting = iam.granting(member, permission, scope, full)
        if used is not None:
            used.update(granting)
        return bool(granting)

    return allows


def _secret_calls(entry_point: str | None = None) -> dict[tuple[str, str], list[CallSite]]:
    """(method, secret id) -> its call sites: of one entry point's code, or of all the runtime's."""
    out: dict[tuple[str, str], list[CallSite]] = {}
    for c in calls_of(entry_point) if entry_point else code_calls().calls:
        if c.kind == "secrets":
            out.setdefault((c.method, c.args[0]), []).append(c)
    return out


@pytest.fixture
def fake_sm() -> Iterator[FakeSecretManager]:
    fake = FakeSecretManager(PROJECT).start()
    yield fake
    fake.stop()


def secret_call_problems(config: Config, fake: FakeSecretManager, used: set[Binding] | None = None) -> list[str]:
    """Every Secrets call each function's code can make, made as that function's account; what Secret
    Manager refuses. The bindings that allowed a call are added to ``used``."""
    from tower.adapters.secret_manager import SecretManagerSecrets

    iam = Iam.of(config)
    problems = []
    for ep, fn in sorted(functions_by_entry_point(config).items()):
        member = runtime_member(config, fn)
        for (method, secret_id), sites in sorted(_secret_calls(ep).items()):
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
                fake.allows = _iam_of_fake(iam, member, used)
                s = SecretManagerSecrets(PROJECT, client=fake.client())
                args: tuple[Any, ...] = (secret_id, "value-2") if method in ("put", "rotate") else (secret_id,)
                try:
                    getattr(s, method)(*args)
                except NotFound:
                    pass  # a value that is not there is the caller's business, not a grant missing
                except PortError as e:
                    problems.append(f"{ep}: {sites[0].where}: secrets.{method}({secret_id!r}) [{state}]: {e}")
                finally:
                    s.close()
    return problems


def _needs(config: Config, ep: str, fn: Any) -> list[tuple[str, str, str]]:
    """(what, permission, scope) rows of RUNTIME_NEEDS for what a function's code calls, filled from
    its environment and its calls."""
    env = function_env(config, fn)
    dataset = env["TOWER_WAREHOUSE"].rsplit("/", 1)[-1]
    tasks_account = env["TOWER_TASKS_SERVICE_ACCOUNT"].replace(".email}", ".name}")
    calls = calls_of(ep)
    queues = sorted({c.args[0] for c in calls if c.kind == "enqueue"})
    topics = sorted({c.args[0] for c in calls if c.kind == "publish"})
    rows = []
    for what, needs in RUNTIME_NEEDS.items():
        if what in ("warehouse", "store") and not uses_port(ep, what):
            continue
        for permission, scope in needs:
            fills: list[dict[str, str]] = [{}]
            if what == "tasks":
                if not queues:
                    continue
                if "{queue}" in scope:
                    fills = [{"queue": q} for q in queues]
            elif "{topic}" in scope:
                fills = [{"topic": t} for t in topics]
            for fill in fills:
                rows.append((what, permission, scope.format(dataset=dataset, tasks_account=tasks_account, **fill)))
    return rows


def service_call_problems(config: Config, used: set[Binding] | None = None) -> list[str]:
    """Every warehouse, store, task and publish call each function's code can make, as its account."""
    iam = Iam.of(config)
    problems = []
    for ep, fn in sorted(functions_by_entry_point(config).items()):
        member = runtime_member(config, fn)
        for what, permission, scope in _needs(config, ep, fn):
            granting = iam.granting(member, permission, scope)
            if not granting:
                problems.append(f"{ep} ({member}): {what} needs {permission} on {scope}")
            if used is not None:
                used.update(granting)
    return problems


def access_problems(config: Config) -> list[str]:
    """Each function's declared access list against what its code calls for: missing or more."""
    declared = config.root.local("functions")
    problems = []
    for ep, entry in sorted(declared.items()):
        have, need = set(entry.get("access", [])), needed_access(ep)
        problems += [f"{ep}: access lacks {a!r}, which its code calls for" for a in sorted(need - have)]
        problems += [f"{ep}: access grants {a!r}, which its code never calls for" for a in sorted(have - need)]
    return problems


def unused_grant_problems(config: Config, fake: FakeSecretManager) -> list[str]:
    """Bindings of a function's account that none of that function's calls needs."""
    used: set[Binding] = set()
    secret_call_problems(config, fake, used)
    service_call_problems(config, used)
    iam = Iam.of(config)
    members = {runtime_member(config, fn) for fn in functions_by_entry_point(config).values()}
    return sorted(f"{b.member}: {b.role} on {b.scope} ({b.where}) is never needed"
                  for m in members for b in iam.of_member(m) if b not in used)


# --- the tests ----------------------------------------------------------------------------------------------


def test_every_runtime_secret_call_is_understood() -> None:
    assert code_calls().unresolved == []
    assert secret_ref_writers() == []
    methods = {m for m, _ in _secret_calls()}
    assert {"get", "put", "exists", "rotate", "delete"} <= methods


def test_every_role_terraform_grants_is_known(config: Config) -> None:
    assert Iam.of(config).unknown_roles() == []


def test_each_function_runs_as_an_account_of_its_own(config: Config) -> None:
    members = {ep: runtime_member(config, fn) for ep, fn in functions_by_entry_point(config).items()}
    assert len(set(members.values())) == len(members) == len(wiring.ENTRY_POINTS)
    for ep, member in members.items():
        assert member == f'serviceAccount:${{google_service_account.function["{ep}"].email}}'
    # account ids: 6-30 characters, lower case, digits and hyphens (IAM's rule), none shared with the
    # deployment's other accounts
    ids = [i.attr("account_id") for i in Config.from_repo().instances("google_service_account")]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", i) for i in ids), ids


def test_each_functions_access_is_what_its_code_calls_for(config: Config) -> None:
    assert access_problems(config) == []


def test_what_the_functions_code_calls_for(config: Config) -> None:
    # A few worked by hand from the handlers: the hourly fan-out reads the integrations from the
    # warehouse and enqueues on tower-sync, nothing else; a summary reads the Anthropic key and may
    # raise alerts; only the code that connects, syncs, redacts or applies budgets touches the
    # per-brand secrets.
    assert needed_access("schedule_syncs") == {"warehouse", "queue:tower-sync"}
    assert needed_access("summarize") == {"warehouse", "store", "topic:tower-alerts-raised",
                                          "secret:anthropic-api-key"}
    assert needed_access("build_models") == {"warehouse", "store", "topic:tower-models-built"}
    assert not any(a.startswith("brand-secrets") for ep in ("schedule_syncs", "sync_fx", "build_models",
                                                            "recommend", "summarize") for a in needed_access(ep))


def test_every_secret_call_is_allowed_by_terraform(config: Config, fake_sm: FakeSecretManager) -> None:
    assert secret_call_problems(config, fake_sm) == []


def test_every_bigquery_firestore_tasks_and_pubsub_call_is_allowed(config: Config) -> None:
    assert service_call_problems(config) == []


def test_no_account_holds_a_grant_none_of_its_calls_needs(config: Config, fake_sm: FakeSecretManager) -> None:
    assert unused_grant_problems(config, fake_sm) == []


def test_the_runtime_reads_but_cannot_get_the_metadata_of_a_declared_secret(
    config: Config, fake_sm: FakeSecretManager,
) -> None:
    # Why exists() reads the latest version: GetSecret needs secretmanager.secrets.get, never granted.
    from google.api_core import exceptions as gexc

    from tower.adapters.secret_manager import SecretManagerSecrets

    SecretManagerSecrets(PROJECT, client=fake_sm.client()).put(names.SECRET_ANTHROPIC_API_KEY, "k")
    fake_sm.allows = _iam_of_fake(Iam.of(config), runtime_member(config, functions_by_entry_point(config)["summarize"]))
    with pytest.raises(gexc.PermissionDenied):
        fake_sm.client().get_secret(request={"name": f"projects/{PROJECT}/secrets/{names.SECRET_ANTHROPIC_API_KEY}"})
    assert SecretManagerSecrets(PROJECT, client=fake_sm.client()).exists(names.SECRET_ANTHROPIC_API_KEY) is True


def test_terraform_condition_lists_exactly_the_codes_runtime_prefixes(config: Config) -> None:
    assert config.root.local("integration_secret_prefix") == names.INTEGRATION_SECRET_PREFIX
    assert config.root.local("customer_salt_secret_prefix") == names.CUSTOMER_SALT_SECRET_PREFIX
    conditions = {b.condition for b in Iam.of(config).grants if b.condition}
    for prefix in names.RUNTIME_SECRET_PREFIXES:
        assert any(f'/secrets/{prefix}")' in c for c in conditions), prefix


# Negative: each grant taken back breaks exactly the calls that need it; one added is reported.


def _edited(path: str, *replacements: tuple[str, str]) -> Config:
    files = Config.from_repo().files
    for old, new in replacements:
        assert old in files[path], f"{path} no longer holds {old!r}"
        files[path] = files[path].replace(old, new)
    return Config(files)


def _access_of(ep: str) -> str:
    """main.tf's line of one function (its access list at the end), as written."""
    return next(ln for ln in Config.from_repo().files["main.tf"].splitlines() if ln.strip().startswith(f"{ep} "))


def test_salts_outside_the_condition_are_reported(fake_sm: FakeSecretManager) -> None:
    config = _edited("infra/modules/iam/main.tf", (
        ' || resource.name.startsWith(\\"projects/${var.project_number}/secrets/${var.customer_salt_secret_prefix}\\")',
        "",
    ))
    problems = secret_call_problems(config, fake_sm)
    assert problems and all("customer-hash-salt-b1" in p for p in problems)
    assert any(p.startswith("sync_shopify:") and "secrets.get('customer-hash-salt-b1')" in p for p in problems)
    assert any(p.startswith("api:") and "secrets.put('customer-hash-salt-b1')" in p for p in problems)
    assert not any(p.startswith(("summarize:", "build_models:")) for p in problems)


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


def test_a_secret_missing_from_a_functions_access_is_reported(fake_sm: FakeSecretManager) -> None:
    access = _access_of("summarize")
    config = _edited("main.tf", (access, access.replace(', "secret:anthropic-api-key"', "")))
    problems = secret_call_problems(config, fake_sm)
    assert problems and all(p.startswith("summarize:") and "anthropic-api-key" in p for p in problems)
    assert access_problems(config) == ["summarize: access lacks 'secret:anthropic-api-key', which its code calls for"]


def test_a_queue_without_the_enqueuer_grant_is_reported() -> None:
    config = _edited("infra/modules/tasks/main.tf",
                     ('role     = "roles/cloudtasks.enqueuer"', 'role     = "roles/cloudtasks.viewer"'))
    problems = service_call_problems(config)
    assert any(p.startswith("schedule_syncs") and "cloudtasks.tasks.create on queue:tower-sync" in p for p in problems)
    assert not any(p.startswith(("summarize", "build_models")) for p in problems)


def test_a_grant_beyond_what_the_code_calls_for_is_reported(fake_sm: FakeSecretManager) -> None:
    access = _access_of("recommend")
    config = _edited("main.tf", (access, access.replace('"store"', '"store", "queue:tower-sync", "secret:anthropic-api-key"')))
    assert access_problems(config) == [
        "recommend: access grants 'queue:tower-sync', which its code never calls for",
        "recommend: access grants 'secret:anthropic-api-key', which its code never calls for",
    ]
    unused = unused_grant_problems(config, fake_sm)
    assert len(unused) == 3 and all('function["recommend"]' in p for p in unused)
    assert {p.split(": ", 1)[1].split(" (")[0] for p in unused} == {
        "roles/cloudtasks.enqueuer on queue:tower-sync",
        "roles/iam.serviceAccountUser on serviceaccount:${google_service_account.tasks[null].name}",
        "roles/secretmanager.secretAccessor on secret:anthropic-api-key",
    }


def test_read_only_brand_secrets_allow_the_reads_and_refuse_the_writes(fake_sm: FakeSecretManager) -> None:
    access = _access_of("sync_shopify")
    config = _edited("main.tf", (access, access.replace("brand-secrets:manage", "brand-secrets:read")))
    problems = [p for p in secret_call_problems(config, fake_sm) if p.startswith("sync_shopify:")]
    assert {p.split("secrets.")[1].split("(")[0] for p in problems} == {"put", "rotate", "delete"}
    assert access_problems(config) == [
        "sync_shopify: access lacks 'brand-secrets:manage', which its code calls for",
        "sync_shopify: access grants 'brand-secrets:read', which its code never calls for",
    ]
