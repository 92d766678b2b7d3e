"""What the code calls at run time and what Terraform lets it call: the model the deployment checks share.

Two halves, both offline:

* **The code's side**, read from ``shared/tower`` with :mod:`ast`: every ``tasks.enqueue(queue,
  handler, ...)``, ``bus.publish(topic, ...)`` and ``secrets.<method>(secret_id, ...)`` call, its
  arguments resolved to the names they take at run time (``names.QUEUE_SYNC``, ``SYNC_TASKS[...]`` ->
  every value of that table, ``names.customer_salt_secret_id(...)`` -> a per-brand salt id...). A call
  whose argument cannot be resolved is reported, never skipped, so a new call site is either understood
  or fails the checks.
* **Terraform's side**, from the configuration as tests/unit/infra/test_terraform.py evaluates it: the
  IAM bindings at every scope (project, with its conditions; secret, dataset, topic, queue, service
  account, Cloud Run service), the custom roles' permissions, and the permissions of the predefined
  roles the configuration grants (:data:`PREDEFINED_ROLES`).

Identities are compared after :func:`resolve_outputs` has replaced every ``${module.M.OUTPUT}`` by what
that output evaluates to inside module M, so ``module.iam.runtime_email`` in main.tf and
``google_service_account.runtime.email`` inside the iam module are the same account.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from test_terraform import REPO, Config, Instance, Module, Ref, render

from tower import names

LIBRARY = REPO / "shared" / "tower"

# Code that runs on an operator's machine under their own credentials (the CLI), or that implements a
# port (the adapters), rather than calling one from the runtime.
_NOT_RUNTIME = ("adapters/", "cli/", "cli.py")

# The project number, as Terraform renders it where IAM conditions name secrets by number.
PROJECT_NUMBER = "${data.google_project.this.number}"

# Permissions of the predefined roles the configuration grants, as far as the checks need them
# (https://cloud.google.com/iam/docs/understanding-roles). A role granted but missing here is reported.
PREDEFINED_ROLES: dict[str, frozenset[str]] = {
    "roles/bigquery.jobUser": frozenset({"bigquery.jobs.create"}),
    "roles/bigquery.dataEditor": frozenset({
        "bigquery.datasets.get", "bigquery.tables.create", "bigquery.tables.delete", "bigquery.tables.get",
        "bigquery.tables.getData", "bigquery.tables.list", "bigquery.tables.update",
        "bigquery.tables.updateData",
    }),
    "roles/datastore.user": frozenset({
        "datastore.databases.get", "datastore.entities.create", "datastore.entities.delete",
        "datastore.entities.get", "datastore.entities.list", "datastore.entities.update",
    }),
    "roles/secretmanager.secretAccessor": frozenset({"secretmanager.versions.access"}),
    "roles/pubsub.publisher": frozenset({"pubsub.topics.publish"}),
    "roles/pubsub.subscriber": frozenset({"pubsub.subscriptions.consume", "pubsub.topics.attachSubscription"}),
    "roles/cloudtasks.enqueuer": frozenset({"cloudtasks.tasks.create"}),
    "roles/iam.serviceAccountUser": frozenset({
        "iam.serviceAccounts.actAs", "iam.serviceAccounts.get", "iam.serviceAccounts.list",
    }),
    "roles/iam.serviceAccountTokenCreator": frozenset({
        "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.getOpenIdToken",
        "iam.serviceAccounts.signBlob", "iam.serviceAccounts.signJwt",
    }),
    "roles/run.invoker": frozenset({"run.routes.invoke"}),
    "roles/cloudbuild.builds.builder": frozenset({
        "artifactregistry.repositories.uploadArtifacts", "logging.logEntries.create", "storage.objects.get",
    }),
    "roles/monitoring.viewer": frozenset({"monitoring.timeSeries.list"}),
}


# --- the code's side -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallSite:
    """One call the runtime makes, its resolved arguments and where it is."""

    kind: str  # "enqueue" | "publish" | "secrets"
    method: str  # enqueue / publish, or the Secrets method (get, put, rotate, delete, exists, versions)
    args: tuple[str, ...]  # queue+handler / topic / secret id (a sample id for per-brand secrets)
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind}.{self.method}{self.args}"


@dataclass
class CodeCalls:
    """Every resolved call, and the sites whose arguments could not be resolved."""

    calls: list[CallSite] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


class _Unresolved(Exception):
    pass


# How a per-brand secret id is made, and a sample of what it makes.
_SECRET_ID_MAKERS = {
    "integration_secret_id": names.integration_secret_id("b1", "shopify"),
    "customer_salt_secret_id": names.customer_salt_secret_id("b1"),
}
# integrations.secret_ref is written by connect with names.integration_secret_id (checked by
# secret_ref_writers below), so a value read from that column is an integration secret.
_SECRET_REF_COLUMN = "secret_ref"


def _runtime_files() -> Iterator[Path]:
    for path in sorted(LIBRARY.rglob("*.py")):
        rel = path.relative_to(LIBRARY).as_posix()
        if not any(rel.startswith(p) or rel.endswith(p) for p in _NOT_RUNTIME):
            yield path


def _values(expr: ast.expr, tree: ast.Module) -> list[str]:
    """The values an enqueue / publish argument takes: a constant, a name, or any value of a table."""
    if isinstance(expr, ast.Subscript):
        table = _constant(expr.value, tree)
        if isinstance(table, dict):
            return sorted({str(v) for v in table.values()})
        raise _Unresolved(ast.unparse(expr))
    value = _constant(expr, tree)
    if isinstance(value, str):
        return [value]
    raise _Unresolved(ast.unparse(expr))


def _module_tree(dotted: str) -> ast.Module:
    """The parsed source of a ``tower.*`` module, found on disk (never imported)."""
    base = LIBRARY.parent.joinpath(*dotted.split("."))
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    if not path.is_file():
        raise _Unresolved(dotted)
    return ast.parse(path.read_text(), str(path))


def _constant(expr: ast.expr, tree: ast.Module, depth: int = 0) -> Any:
    """A literal, ``names.X``, or a module-level constant of the file, read without importing it."""
    if depth > 5:
        raise _Unresolved(ast.unparse(expr))
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "names":
        if hasattr(names, expr.attr):
            return getattr(names, expr.attr)
    elif isinstance(expr, ast.Name):
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
            if any(isinstance(t, ast.Name) and t.id == expr.id for t in targets):
                value = node.value
                assert value is not None
                return _constant(value, tree, depth + 1)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tower."):
                for alias in node.names:
                    if (alias.asname or alias.name) == expr.id:
                        source = _module_tree(node.module)
                        return _constant(ast.Name(id=alias.name, ctx=ast.Load()), source, depth + 1)
    else:
        try:
            return ast.literal_eval(expr)
        except ValueError:
            pass
    raise _Unresolved(ast.unparse(expr))


class _Scopes(ast.NodeVisitor):
    """Each node's enclosing function, to follow a local variable back to its assignment."""

    def __init__(self) -> None:
        self.parent: dict[ast.AST, ast.AST] = {}

    def visit(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            self.parent[child] = node
            self.visit(child)

    def function_of(self, node: ast.AST) -> ast.AST | None:
        while node in self.parent:
            node = self.parent[node]
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node
        return None


def _secret_ids(expr: ast.expr, scope: ast.AST | None, tree: ast.Module, depth: int = 0) -> set[str]:
    """The secret ids (a sample of each kind of per-brand id) the expression can evaluate to."""
    if depth > 6:
        raise _Unresolved(ast.unparse(expr))
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "names":
        return {str(getattr(names, expr.attr))}
    if isinstance(expr, ast.IfExp):
        return _secret_ids(expr.body, scope, tree, depth + 1) | _secret_ids(expr.orelse, scope, tree, depth + 1)
    if isinstance(expr, ast.Call):
        called = expr.func.attr if isinstance(expr.func, ast.Attribute) else getattr(expr.func, "id", "")
        if called in _SECRET_ID_MAKERS:
            return {_SECRET_ID_MAKERS[called]}
        # A helper of the same module that returns an id: what its return statements can give.
        helper = next((f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == called), None)
        if helper is not None:
            returns = [r.value for r in ast.walk(helper) if isinstance(r, ast.Return) and r.value is not None]
            if returns:
                return set().union(*(_secret_ids(r, helper, tree, depth + 1) for r in returns))
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and (
        expr.slice.value == _SECRET_REF_COLUMN
    ):
        return {_SECRET_ID_MAKERS["integration_secret_id"]}
    if isinstance(expr, ast.Name) and scope is not None:
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                return _secret_ids(node.value, scope, tree, depth + 1)
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == expr.id:
                it = node.iter
                if isinstance(it, ast.Call) and it.args:  # sorted({...}) / list(...)
                    it = it.args[0]
                if isinstance(it, (ast.SetComp, ast.ListComp, ast.GeneratorExp)):
                    return _secret_ids(it.elt, scope, tree, depth + 1)
    raise _Unresolved(ast.unparse(expr))


def _receiver(call: ast.Call) -> str:
    """``runtime.tasks`` / ``ports.secrets`` / ``secrets``: the last name the method is called on."""
    func = call.func
    assert isinstance(func, ast.Attribute)
    value = func.value
    if isinstance(value, ast.Attribute):
        return value.attr
    if isinstance(value, ast.Name):
        return value.id
    return ""


@cache
def code_calls() -> CodeCalls:
    """Every enqueue, publish and Secrets call of the runtime's code, resolved."""
    out = CodeCalls()
    secret_methods = {"get", "put", "rotate", "delete", "exists", "versions"}
    for path in _runtime_files():
        tree = ast.parse(path.read_text(), str(path))
        scopes = _Scopes()
        scopes.visit(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
                continue
            method, receiver = node.func.attr, _receiver(node)
            where = f"{path.relative_to(REPO).as_posix()}:{node.lineno}"
            kind = {"tasks": "enqueue", "bus": "publish", "secrets": "secrets"}.get(receiver)
            if kind is None or (kind == "enqueue" and method != "enqueue") or (
                kind == "publish" and method != "publish") or (kind == "secrets" and method not in secret_methods):
                continue
            try:
                if kind == "enqueue":
                    if len(node.args) < 2:
                        raise _Unresolved("enqueue needs queue and handler")
                    for queue in _values(node.args[0], tree):
                        for handler in _values(node.args[1], tree):
                            out.calls.append(CallSite(kind, method, (queue, handler), where))
                elif kind == "publish":
                    for topic in _values(node.args[0], tree):
                        out.calls.append(CallSite(kind, method, (topic,), where))
                else:
                    for secret in sorted(_secret_ids(node.args[0], scopes.function_of(node), tree)):
                        out.calls.append(CallSite(kind, method, (secret,), where))
            except _Unresolved as e:
                out.unresolved.append(f"{where}: cannot resolve {e} in {ast.unparse(node)[:120]}")
    return out


def secret_ref_writers() -> list[str]:
    """Every ``"secret_ref": value`` the runtime writes whose value is not an integration secret id."""
    problems = []
    for path in _runtime_files():
        tree = ast.parse(path.read_text(), str(path))
        scopes = _Scopes()
        scopes.visit(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values, strict=True):
                if not (isinstance(key, ast.Constant) and key.value == _SECRET_REF_COLUMN):
                    continue
                where = f"{path.relative_to(REPO).as_posix()}:{node.lineno}"
                if isinstance(value, ast.Constant) and value.value is None:
                    continue
                try:
                    got = _secret_ids(value, scopes.function_of(node), tree)
                except _Unresolved as e:
                    problems.append(f"{where}: secret_ref = {e} is not an integration secret id")
                    continue
                problems += [f"{where}: secret_ref = {g} is not an integration secret id"
                             for g in sorted(got) if not g.startswith(names.INTEGRATION_SECRET_PREFIX)]
    return problems


# --- Terraform's side ------------------------------------------------------------------------------------


_MODULE_OUTPUT = re.compile(r"\$\{module\.(\w+)\.(\w+)\}")


def resolve_outputs(config: Config, text: str) -> str:
    """Replace each ``${module.M.OUTPUT}`` by the output's own rendering inside module M (repeatedly)."""
    children = config.root.children()

    def one(m: re.Match[str]) -> str:
        child = children.get(m.group(1))
        if child is None or m.group(2) not in child.outputs:
            return m.group(0)
        return render(child.eval(child.outputs[m.group(2)]["value"]))

    for _ in range(5):
        new = _MODULE_OUTPUT.sub(one, text)
        if new == text:
            break
        text = new
    return text


@dataclass(frozen=True)
class Binding:
    """One IAM grant: a role to a member on a scope (``project`` or ``kind:name``), maybe conditional."""

    scope: str
    role: str
    member: str
    condition: str  # "" when unconditional
    where: str


# Resource type -> (scope kind, the attribute naming the resource).
_BINDING_TYPES = {
    "google_project_iam_member": ("project", ""),
    "google_secret_manager_secret_iam_member": ("secret", "secret_id"),
    "google_bigquery_dataset_iam_member": ("dataset", "dataset_id"),
    "google_pubsub_topic_iam_member": ("topic", "topic"),
    "google_pubsub_subscription_iam_member": ("subscription", "subscription"),
    "google_cloud_tasks_queue_iam_member": ("queue", "name"),
    "google_service_account_iam_member": ("serviceaccount", "service_account_id"),
    "google_cloud_run_v2_service_iam_member": ("run", "name"),
}


def _scope_name(config: Config, value: Any) -> str:
    """A bound resource's name: a service account by its resource name, anything else as configured."""
    if isinstance(value, Ref) and value.instance.rtype == "google_service_account":
        return render(Ref(value.instance, "name"))
    return resolve_outputs(config, render(value))


def bindings(config: Config) -> list[Binding]:
    """Every IAM member binding the configuration makes."""
    out = []
    for rtype, (kind, attr) in _BINDING_TYPES.items():
        for inst in config.instances(rtype):
            scope = "project" if kind == "project" else f"{kind}:{_scope_name(config, inst.attr(attr))}"
            conditions = inst.blocks("condition")
            condition = resolve_outputs(config, render(conditions[0].attr("expression"))) if conditions else ""
            out.append(Binding(scope, render(inst.attr("role")), resolve_outputs(config, render(inst.attr("member"))),
                               condition, repr(inst)))
    return out


def role_permissions(config: Config) -> dict[str, frozenset[str]]:
    """Role name (as bindings render it) -> its permissions: the custom roles' and the predefined ones'."""
    roles = dict(PREDEFINED_ROLES)
    for inst in config.instances("google_project_iam_custom_role"):
        roles[render(Ref(inst, "name"))] = frozenset(inst.attr("permissions"))
    return roles


_STARTS_WITH = re.compile(r'^resource\.name\.startsWith\("([^"]*)"\)$')
_EQUALS = re.compile(r'^resource\.name\s*==\s*"([^"]*)"$')


def condition_holds(expression: str, resource: str) -> bool:
    """Evaluate the IAM condition subset the configuration uses: ``||`` of startsWith / == on resource.name.

    Raises:
        ValueError: a clause this evaluator does not model (extend it rather than guess).
    """
    for clause in (c.strip() for c in expression.split("||")):
        if m := _STARTS_WITH.match(clause):
            if resource.startswith(m.group(1)):
                return True
        elif m := _EQUALS.match(clause):
            if resource == m.group(1):
                return True
        else:
            raise ValueError(f"IAM condition clause not modelled: {clause!r}")
    return False


@dataclass
class Iam:
    """Who may do what, by the configuration's grants."""

    config: Config
    grants: list[Binding] = field(default_factory=list)
    roles: dict[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, config: Config) -> Iam:
        return cls(config, bindings(config), role_permissions(config))

    def unknown_roles(self) -> list[str]:
        return sorted({f"{b.role} ({b.where})" for b in self.grants if b.role not in self.roles})

    def allows(self, member: str, permission: str, scope: str, resource: str = "") -> bool:
        """Whether member holds permission on ``scope`` (``project`` or ``kind:name``).

        ``resource`` is the full resource name IAM conditions see (``projects/NUMBER/secrets/ID``);
        project-level grants apply to every scope of the project, subject to their condition.
        """
        for b in self.grants:
            if b.member != member or permission not in self.roles.get(b.role, frozenset()):
                continue
            if b.scope not in ("project", scope):
                continue
            if b.condition and not condition_holds(b.condition, resource or scope):
                continue
            return True
        return False


def functions_by_entry_point(config: Config) -> dict[str, Instance]:
    """Entry point -> its google_cloudfunctions2_function instance."""
    return {str(i.first("build_config").attr("entry_point")): i for i in config.instances("google_cloudfunctions2_function")}


def runtime_member(config: Config, fn: Instance) -> str:
    """The IAM member a function runs as."""
    email = resolve_outputs(config, render(fn.first("service_config").attr("service_account_email")))
    return f"serviceAccount:{email}"


def function_env(config: Config, fn: Instance) -> dict[str, str]:
    """A function's environment, rendered, with module outputs resolved."""
    env = fn.first("service_config").attr("environment_variables") or {}
    return {k: resolve_outputs(config, render(v)) for k, v in env.items()}


def module_of_type(config: Config, rtype: str) -> Module:
    """The module that declares resources of this type."""
    for m in config.modules():
        if m.resources(rtype):
            return m
    raise LookupError(rtype)
