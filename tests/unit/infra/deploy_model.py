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
    # An ad platform's OAuth grant (tower.sync.grants): an integration secret like the tokens.
    "grant_secret_id": names.integration_secret_id("b1", "meta", "oauth"),
    # An installed store's refresh token and expiries (tower.sync.shopify_tokens), beside its token.
    "refresh_secret_id": names.integration_secret_id("b1", "shopify", "refresh"),
}
# integrations.secret_ref is written by connect with names.integration_secret_id (checked by
# secret_ref_writers below), so a value read from that column is an integration secret.
_SECRET_REF_COLUMN = "secret_ref"
# A pending ad-platform grant's document (tower.sync.ad_oauth.keep_pending) names its secret in
# ``secret_id``, made there with names.integration_secret_id: a value read from that field is one too.
_PENDING_SECRET_FIELD = "secret_id"


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
        if called == "str" and len(expr.args) == 1:  # str(row["secret_ref"]): the value it converts
            return _secret_ids(expr.args[0], scope, tree, depth + 1)
        if (called == "get" and expr.args and isinstance(expr.args[0], ast.Constant)
                and expr.args[0].value == _PENDING_SECRET_FIELD):
            return {_SECRET_ID_MAKERS["integration_secret_id"]}
        # A helper of the same module that returns an id: what its return statements can give.
        helper = next((f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == called), None)
        if helper is not None:
            returns = [r.value for r in ast.walk(helper) if isinstance(r, ast.Return) and r.value is not None]
            if returns:
                return set().union(*(_secret_ids(r, helper, tree, depth + 1) for r in returns))
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or):  # doc.get("secret_id") or "": the ids
        return set().union(*(_secret_ids(v, scope, tree, depth + 1) for v in expr.values
                             if not (isinstance(v, ast.Constant) and not v.value)))
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant) and (
        expr.slice.value in (_SECRET_REF_COLUMN, _PENDING_SECRET_FIELD)
    ):
        return {_SECRET_ID_MAKERS["integration_secret_id"]}
    if isinstance(expr, ast.Name) and expr.id == _SECRET_REF_COLUMN and scope is not None and expr.id in {
            a.arg for a in getattr(getattr(scope, "args", None), "args", [])}:
        # a parameter named after the column carries its value (the callers read it from integrations)
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


# --- what each function's code can reach ----------------------------------------------------------------

# Methods of the Warehouse and DocumentStore ports (tower.ports) that reach BigQuery / Firestore, and the
# names the code holds those ports under (``runtime.warehouse.rows``, ``wh.rows``, ``decisions.store.get``).
_PORT_METHODS = {
    "warehouse": {"init_schema", "merge", "insert", "replace_window", "query", "rows", "execute", "read",
                  "read_confined", "table_exists"},
    "store": {"get", "set", "merge", "delete", "query", "create", "transaction", "batch"},
}
_PORT_RECEIVERS = {"warehouse": {"warehouse", "wh"}, "store": {"store"}}


def _module_path(dotted: str) -> Path | None:
    base = LIBRARY.parent.joinpath(*dotted.split("."))
    if base.is_dir() and (base / "__init__.py").is_file():
        return base / "__init__.py"
    return base.with_suffix(".py") if base.with_suffix(".py").is_file() else None


def _imported_modules(node: ast.AST, package: str) -> set[str]:
    """``tower.*`` modules an import statement under ``node`` loads (a ``from m import sub`` names m.sub too)."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Import):
            out |= {a.name for a in n.names if a.name.startswith("tower")}
        elif isinstance(n, ast.ImportFrom):
            base = n.module or ""
            if n.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - n.level + 1] + ([base] if base else []))
            if base.startswith("tower"):
                out.add(base)
                out |= {f"{base}.{a.name}" for a in n.names if _module_path(f"{base}.{a.name}") is not None}
    return {m for m in out if _module_path(m) is not None}


def _with_parents(modules: set[str]) -> set[str]:
    """Importing ``a.b.c`` runs ``a`` and ``a.b`` first."""
    out = set(modules)
    for m in modules:
        parts = m.split(".")
        out |= {".".join(parts[:i]) for i in range(1, len(parts))}
    return out


def _module_name(path: Path) -> str:
    rel = path.relative_to(LIBRARY.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@dataclass(frozen=True)
class Scope:
    """What code an entry point's function can run: whole files, and line ranges of its handler's module."""

    files: frozenset[Path]
    handler_file: Path
    handler_lines: tuple[tuple[int, int], ...]

    def holds(self, path: Path, line: int) -> bool:
        if path == self.handler_file:
            return any(a <= line <= b for a, b in self.handler_lines)
        return path in self.files


@cache
def entry_point_scope(entry_point: str) -> Scope:
    """The library code the entry point's function can run.

    In the handler's module: the handler and the module-level functions (and classes) it names, followed
    one by one. From those, every ``tower`` module they import or name; from there, module by module,
    everything each of those imports, at its top or inside its functions. Coarser than a call graph (a
    module counts whole), so it can overstate what a function needs, never miss it.
    """
    from tower import wiring

    handler = wiring.ENTRY_POINTS[entry_point].handler
    start = _module_path(handler.__module__)
    assert start is not None, handler.__module__
    tree = ast.parse(start.read_text(), str(start))
    package = handler.__module__.rsplit(".", 1)[0]
    top_imports: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = (alias.asname or alias.name).split(".")[0]
                top_imports.setdefault(bound, set()).update(_imported_modules(node, package))
    defs = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    modules: set[str] = {handler.__module__}
    seen_defs: set[str] = set()
    todo_defs = [handler.__name__]
    while todo_defs:
        name = todo_defs.pop()
        if name in seen_defs or name not in defs:
            continue
        seen_defs.add(name)
        body = defs[name]
        modules |= _imported_modules(body, package)
        for n in ast.walk(body):
            if isinstance(n, ast.Name):
                if n.id in defs:
                    todo_defs.append(n.id)
                if n.id in top_imports:
                    modules |= {m for m in top_imports[n.id] if m.endswith("." + n.id) or m == f"tower.{n.id}"} or (
                        top_imports[n.id])
    # The handler's module counts only through the functions followed above; every other module whole.
    todo = list(_with_parents(modules) - {handler.__module__})
    reached = set(todo)
    while todo:
        path = _module_path(todo.pop())
        if path is None:
            continue
        mod = _module_name(path)
        more = _with_parents(_imported_modules(ast.parse(path.read_text(), str(path)), mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0])) - reached
        reached |= more
        todo.extend(more)
    runtime_files = set(_runtime_files())
    files = {p for m in reached if (p := _module_path(m)) is not None and p in runtime_files}
    lines = tuple(sorted((defs[d].lineno, defs[d].end_lineno or defs[d].lineno) for d in seen_defs))
    return Scope(frozenset(files - {start}), start, lines)


@cache
def _port_uses(port: str) -> tuple[tuple[Path, int], ...]:
    """(file, line) of every runtime call of a ``port`` method that reaches its service."""
    out = []
    for path in _runtime_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in _PORT_METHODS[port] and _receiver(node) in _PORT_RECEIVERS[port]):
                out.append((path, node.lineno))
    return tuple(out)


def _site(site: CallSite) -> tuple[Path, int]:
    path, line = site.where.rsplit(":", 1)
    return REPO / path, int(line)


def calls_of(entry_point: str) -> list[CallSite]:
    """The enqueue, publish and Secrets calls the entry point's function can make."""
    scope = entry_point_scope(entry_point)
    return [c for c in code_calls().calls if scope.holds(*_site(c))]


def uses_port(entry_point: str, port: str) -> bool:
    """Whether the entry point's function can call the warehouse / the document store."""
    scope = entry_point_scope(entry_point)
    return any(scope.holds(path, line) for path, line in _port_uses(port))


# Secrets calls that write a per-brand secret (create, version, rotate, delete), beyond reading it.
_SECRET_WRITES = {"put", "rotate", "delete"}


def needed_access(entry_point: str) -> set[str]:
    """The access list (main.tf's ``functions[*].access`` vocabulary) the entry point's code calls for."""
    out = {port for port in _PORT_METHODS if uses_port(entry_point, port)}
    brand = set()
    for c in calls_of(entry_point):
        if c.kind == "enqueue":
            out.add(f"queue:{c.args[0]}")
        elif c.kind == "publish":
            out.add(f"topic:{c.args[0]}")
        elif c.args[0] in names.SECRETS:
            out.add(f"secret:{c.args[0]}")
        else:
            brand.add(c.method)
    if brand:
        out.add("brand-secrets:manage" if brand & _SECRET_WRITES else "brand-secrets:read")
    return out


# --- Terraform's side ------------------------------------------------------------------------------------


_MODULE_OUTPUT = re.compile(r'\$\{module\.(\w+)\.(\w+)(?:\["([^"]+)"\])?\}')


def resolve_outputs(config: Config, text: str) -> str:
    """Replace each ``${module.M.OUTPUT}`` (or ``${module.M.OUTPUT["key"]}`` of a map output) by the
    output's own rendering inside module M (repeatedly)."""
    children = config.root.children()

    def one(m: re.Match[str]) -> str:
        child = children.get(m.group(1))
        if child is None or m.group(2) not in child.outputs:
            return m.group(0)
        value = child.eval(child.outputs[m.group(2)]["value"])
        if m.group(3) is not None:
            if not isinstance(value, dict) or m.group(3) not in value:
                return m.group(0)
            value = value[m.group(3)]
        return render(value)

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
        return bool(self.granting(member, permission, scope, resource))

    def granting(self, member: str, permission: str, scope: str, resource: str = "") -> list[Binding]:
        """The bindings that give member this permission (as :meth:`allows`); empty when none does."""
        out = []
        for b in self.grants:
            if b.member != member or permission not in self.roles.get(b.role, frozenset()):
                continue
            if b.scope not in ("project", scope):
                continue
            if b.condition and not condition_holds(b.condition, resource or scope):
                continue
            out.append(b)
        return out

    def of_member(self, member: str) -> list[Binding]:
        """Every binding made to member."""
        return [b for b in self.grants if b.member == member]


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
