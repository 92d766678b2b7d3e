"""Terraform declares every cloud resource the code names, wired the way the code calls it.

The configuration (main.tf and the modules under infra/) is parsed with python-hcl2 and evaluated just
far enough to know what ``terraform apply`` would create: ``for_each`` over locals and module
variables, ``each.key`` / ``each.value``, references between resources, ``file`` / ``jsondecode`` /
``toset`` / ``split``, conditionals on null and ``dynamic`` blocks. Values that only exist after apply
(service account e-mails, function URLs) stay symbolic (``${module.iam.tasks_invoker_email}``), which
is enough to check that, e.g., the account Cloud Tasks signs with is the one allowed to invoke the
task handlers.

Each ``*_problems`` function returns what is wrong (empty when all is well); the negative tests remove
every name in turn from a parsed copy of the real configuration and check that it is reported.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from tower import names, sql, wiring

REPO = Path(__file__).resolve().parents[3]
_HCL_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
_META_ARGS = {"source", "version", "depends_on", "providers", "count", "for_each"}

# The settings every function needs to reach GCP instead of the embedded default (config.py).
REQUIRED_ENV = {
    "TOWER_WAREHOUSE": "bigquery://",
    "TOWER_STORE": "firestore://",
    "TOWER_BUS": "pubsub://",
    "TOWER_TASKS": "cloudtasks://",
    "TOWER_SECRETS": "secretmanager://",
    "TOWER_TASKS_TARGET_URL": "https://",
    "TOWER_TASKS_SERVICE_ACCOUNT": "",
}


class TerraformError(Exception):
    """The configuration refers to something it does not declare (terraform would refuse it)."""


# --- values that only exist after apply ------------------------------------------------------------


@dataclass(frozen=True)
class Sym:
    """An unknown value, kept as its Terraform expression text."""

    text: str


@dataclass(frozen=True)
class Ref:
    """A computed attribute (e.g. ``.id``) of one resource instance."""

    instance: Instance
    attr: str


def render(value: Any) -> str:
    """A value as it appears inside a Terraform string template."""
    if isinstance(value, Sym):
        return "${" + value.text + "}"
    if isinstance(value, Ref):
        i = value.instance
        return "${" + f"{i.rtype}.{i.rname}[{json.dumps(i.key)}].{value.attr}" + "}"
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=render)
    return str(value)


# --- expressions -------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<num>\d+(?:\.\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_-]*)
        |(?P<op>==|!=|=>|>=|<=|&&|\|\||[.\[\](){},?:=!<>]))""",
    re.VERBOSE,
)
_OPENERS, _CLOSERS = "([{", ")]}"


class _Unsupported(Exception):
    """The expression uses syntax this evaluator does not model (for-expressions, arithmetic...)."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m:
            raise _Unsupported(text)
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _split_template(text: str) -> list[tuple[bool, str]]:
    """A string template as (is_expression, text) parts; handles nested braces and quoted strings."""
    parts, pos, literal = [], 0, []
    while pos < len(text):
        if text.startswith("$${", pos):
            literal.append("${")
            pos += 3
        elif text.startswith("${", pos):
            if literal:
                parts.append((False, "".join(literal)))
                literal = []
            depth, i, in_str = 1, pos + 2, False
            while i < len(text) and depth:
                c = text[i]
                if in_str:
                    if c == "\\":
                        i += 1
                    elif c == '"':
                        in_str = False
                elif c == '"':
                    in_str = True
                elif c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                i += 1
            parts.append((True, text[pos + 2 : i - 1]))
            pos = i
        else:
            literal.append(text[pos])
            pos += 1
    if literal:
        parts.append((False, "".join(literal)))
    return parts


class _Parser:
    """Recursive descent over the expression subset the configuration uses.

    Besides references, calls, conditionals and comparisons: ``!``, ``&&``, ``||``, object literals and
    ``for`` expressions (``[for k, v in coll : value if cond]``, ``{for k, v in coll : key => value}``),
    whose body is evaluated once per element with its names bound as iterators.
    """

    def __init__(self, ctx: Context, text: str, toks: list[tuple[str, str]] | None = None) -> None:
        self.ctx, self.text, self.i = ctx, text, 0
        self.toks = _tokens(text) if toks is None else toks

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks) or (expected is not None and self.toks[self.i][1] != expected):
            raise _Unsupported(self.text)
        self.i += 1
        return self.toks[self.i - 1]

    def parse(self) -> Any:
        value = self.conditional()
        if self.i != len(self.toks):
            raise _Unsupported(self.text)
        return value

    def conditional(self) -> Any:
        cond = self.logical_or()
        if self.peek() != "?":
            return cond
        self.take("?")
        yes = self.conditional()
        self.take(":")
        no = self.conditional()
        if isinstance(cond, (Sym, Ref)):
            return Sym(self.text)
        return yes if cond else no

    def logical_or(self) -> Any:
        left = self.logical_and()
        while self.peek() == "||":
            self.take()
            right = self.logical_and()
            left = Sym(self.text) if _unknown(left, right) else bool(left or right)
        return left

    def logical_and(self) -> Any:
        left = self.equality()
        while self.peek() == "&&":
            self.take()
            right = self.equality()
            left = Sym(self.text) if _unknown(left, right) else bool(left and right)
        return left

    def equality(self) -> Any:
        left = self.unary()
        if self.peek() in _COMPARISONS:
            op = self.take()[1]
            right = self.unary()
            if _unknown(left, right):
                return Sym(self.text)
            return _COMPARISONS[op](left, right)
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = self.unary()
            return Sym(self.text) if _unknown(value) else not value
        return self.postfix()

    def postfix(self) -> Any:
        value = self.primary()
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                value = self.ctx.attr(value, self.take()[1])
            else:
                key = self.conditional()
                self.take("]")
                value = self.ctx.index(value, key)
        return value

    def primary(self) -> Any:
        kind, tok = self.take()
        if kind == "str":
            return self.ctx.template(json.loads(tok))
        if kind == "num":
            return float(tok) if "." in tok else int(tok)
        if tok == "(":
            value = self.conditional()
            self.take(")")
            return value
        if tok == "[" and self.peek() == "for":
            return self.for_expression("]")
        if tok == "{":
            return self.for_expression("}") if self.peek() == "for" else self.object_literal()
        if tok == "[":
            items = []
            while self.peek() != "]":
                items.append(self.conditional())
                if self.peek() == ",":
                    self.take(",")
            self.take("]")
            return items
        if kind != "id":
            raise _Unsupported(self.text)
        if tok in ("null", "true", "false"):
            return {"null": None, "true": True, "false": False}[tok]
        if self.peek() == "(":
            self.take("(")
            args = []
            while self.peek() != ")":
                args.append(self.conditional())
                if self.peek() == ",":
                    self.take(",")
            self.take(")")
            return self.ctx.call(tok, args, self.text)
        return self.ctx.root(tok)

    def object_literal(self) -> dict[str, Any]:
        out = {}
        while self.peek() != "}":
            kind, key = self.take()
            name = json.loads(key) if kind == "str" else key
            if self.take()[1] not in ("=", ":"):
                raise _Unsupported(self.text)
            out[name] = self.conditional()
            if self.peek() == ",":
                self.take(",")
        self.take("}")
        return out

    def _body(self, closer: str) -> list[tuple[str, str]]:
        """The tokens up to the ``closer`` of the current bracket (consumed), nesting respected."""
        depth, start = 0, self.i
        while self.i < len(self.toks):
            tok = self.toks[self.i][1] if self.toks[self.i][0] == "op" else ""
            if depth == 0 and tok == closer:
                self.i += 1
                return self.toks[start : self.i - 1]
            depth += (tok in _OPENERS) - (tok in _CLOSERS)
            self.i += 1
        raise _Unsupported(self.text)

    @staticmethod
    def _split(toks: list[tuple[str, str]], word: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]] | None]:
        """``toks`` before and after the first ``word`` outside brackets (None when there is none)."""
        depth = 0
        for i, (kind, tok) in enumerate(toks):
            if depth == 0 and tok == word and kind in ("op", "id"):
                return toks[:i], toks[i + 1 :]
            if kind == "op":
                depth += (tok in _OPENERS) - (tok in _CLOSERS)
        return toks, None

    def for_expression(self, closer: str) -> Any:
        self.take("for")
        bound = [self.take()[1]]
        if self.peek() == ",":
            self.take(",")
            bound.append(self.take()[1])
        self.take("in")
        collection = self.conditional()
        self.take(":")
        body, cond = self._split(self._body(closer), "if")
        key_toks, value_toks = self._split(body, "=>") if closer == "}" else (None, body)
        if closer == "}" and value_toks is None:
            raise _Unsupported(self.text)
        if isinstance(collection, _ResourceRef) and collection.rname is not None:
            # a resource with for_each, as a map of its instances
            collection = {i.key: i for i in collection.module.instances(collection.rtype, collection.rname)}
        if _unknown(collection) or not isinstance(collection, (list, dict)):
            return Sym(self.text)
        pairs = collection.items() if isinstance(collection, dict) else enumerate(collection)
        items: list[Any] = []
        result: dict[Any, Any] = {}
        for k, v in pairs:
            names_ = dict(zip(bound, (k, v) if len(bound) == 2 else (v,), strict=True))
            ctx = Context(self.ctx.module, self.ctx.each, {**self.ctx.iterators, **names_})

            def ev(toks: list[tuple[str, str]], ctx: Context = ctx) -> Any:
                return _Parser(ctx, self.text, toks).parse()

            if cond is not None:
                keep = ev(cond)
                if _unknown(keep):
                    return Sym(self.text)
                if not keep:
                    continue
            assert value_toks is not None
            if key_toks is None:
                items.append(ev(value_toks))
            else:
                key = ev(key_toks)
                if _unknown(key):
                    return Sym(self.text)
                result[key] = ev(value_toks)
        return items if closer == "]" else result


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
    "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
}


def _unknown(*values: Any) -> bool:
    return any(isinstance(v, (Sym, Ref)) for v in values)


# --- configuration ------------------------------------------------------------------------------------


@cache
def _parse_cached(text: str) -> dict[str, Any]:
    return hcl2.loads(text, serialization_options=_HCL_OPTIONS)


def parse_hcl(text: str) -> dict[str, Any]:
    """One .tf file as python-hcl2 gives it (a private copy: tests mutate it)."""
    return copy.deepcopy(_parse_cached(text))


class Config:
    """The root module and every local module it calls, from a {relative path: text} mapping."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.root = Module(self, ".", None, None)

    @classmethod
    def from_repo(cls, root: Path = REPO) -> Config:
        paths = [*root.glob("*.tf"), *(root / "infra").rglob("*.tf"), *(root / "infra").rglob("*.json")]
        return cls({p.relative_to(root).as_posix(): p.read_text() for p in paths})

    def read(self, path: str) -> str:
        key = posixpath.normpath(path)
        if key not in self.files:
            raise TerraformError(f"file({path!r}): no such file in the configuration")
        return self.files[key]

    def modules(self) -> Iterator[Module]:
        todo = [self.root]
        while todo:
            m = todo.pop(0)
            yield m
            todo.extend(m.children().values())

    def instances(self, rtype: str) -> list[Instance]:
        return [i for m in self.modules() for rname in m.resources(rtype) for i in m.instances(rtype, rname)]


class Module:
    """One module directory; ``call`` is the ``module`` block (in ``parent``) that instantiates it."""

    def __init__(self, config: Config, path: str, parent: Module | None, call: dict[str, Any] | None):
        self.config, self.path, self.parent, self.call = config, path, parent, call
        self.blocks: dict[str, list[Any]] = {}
        prefix = "" if path == "." else path + "/"
        files = [f for f in config.files if f.endswith(".tf") and posixpath.dirname(f) == prefix.rstrip("/")]
        if not files:
            raise TerraformError(f"module {path!r} has no .tf files")
        for f in sorted(files):
            for key, items in parse_hcl(config.files[f]).items():
                self.blocks.setdefault(key, []).extend(items)
        self._children: dict[str, Module] | None = None

    def _merged(self, key: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in self.blocks.get(key, []):
            out.update(item)
        return out

    @property
    def locals(self) -> dict[str, Any]:
        return self._merged("locals")

    @property
    def variables(self) -> dict[str, Any]:
        return self._merged("variable")

    @property
    def outputs(self) -> dict[str, Any]:
        return self._merged("output")

    def resource_types(self) -> set[str]:
        return {t for item in self.blocks.get("resource", []) for t in item}

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for item in self.blocks.get("resource", []):
            out.update(item.get(rtype, {}))
        return out

    def children(self) -> dict[str, Module]:
        if self._children is None:
            self._children = {}
            for name, call in self._merged("module").items():
                source = call.get("source", "")
                if source.startswith(("./", "../")):
                    path = posixpath.normpath(posixpath.join(self.path, source))
                    self._children[name] = Module(self.config, path, self, call)
        return self._children

    def eval(
        self, value: Any, each: tuple[Any, Any] | None = None, iterators: dict[str, Any] | None = None
    ) -> Any:
        return Context(self, each, iterators or {}).value(value)

    def var(self, name: str) -> Any:
        declared = self.variables
        if self.parent is None or self.call is None:
            # The root's variables take their defaults, as `terraform plan` without -var would; one
            # without a default (project_id) stays symbolic.
            if "default" in declared.get(name, {}):
                return self.eval(declared[name]["default"])
            return Sym(f"var.{name}")
        if name not in declared:
            raise TerraformError(f"{self.path}: var.{name} is not declared")
        if name in self.call:
            return self.parent.eval(self.call[name])
        if "default" in declared[name]:
            return self.eval(declared[name]["default"])
        raise TerraformError(f"{self.path}: required variable {name!r} is not passed by the module call")

    def local(self, name: str) -> Any:
        values = self.locals
        if name not in values:
            raise TerraformError(f"{self.path}: local.{name} is not declared")
        return self.eval(values[name])

    def instances(self, rtype: str, rname: str) -> list[Instance]:
        body = self.resources(rtype).get(rname)
        if body is None:
            raise TerraformError(f"{self.path}: {rtype}.{rname} is not declared")
        if "for_each" not in body:
            return [Instance(self, rtype, rname, None, None, body)]
        coll = self.eval(body["for_each"])
        if isinstance(coll, dict):
            return [Instance(self, rtype, rname, k, v, body) for k, v in coll.items()]
        if isinstance(coll, list):
            return [Instance(self, rtype, rname, v, v, body) for v in coll]
        raise TerraformError(f"{self.path}: for_each of {rtype}.{rname} cannot be evaluated ({render(coll)})")


class Body:
    """A resource or block body, evaluated lazily with its ``each`` and ``dynamic`` iterators."""

    def __init__(
        self,
        module: Module,
        each: tuple[Any, Any] | None,
        raw: dict[str, Any],
        iterators: dict[str, Any] | None = None,
    ) -> None:
        self.module, self.each, self.raw, self.iterators = module, each, raw, iterators or {}

    def attr(self, name: str, default: Any = None) -> Any:
        if name not in self.raw:
            return default
        return self.module.eval(self.raw[name], self.each, self.iterators)

    def blocks(self, name: str) -> list[Body]:
        """Static blocks and expanded ``dynamic`` blocks of that name."""
        out = [
            Body(self.module, self.each, b, self.iterators)
            for b in self.raw.get(name, [])
            if isinstance(b, dict)
        ]
        for dyn in self.raw.get("dynamic", []):
            if name not in dyn:
                continue
            spec = dyn[name]
            items = self.module.eval(spec["for_each"], self.each, self.iterators)
            if not isinstance(items, (list, dict)):
                raise TerraformError(f"dynamic {name!r}: for_each cannot be evaluated ({render(items)})")
            pairs = items.items() if isinstance(items, dict) else enumerate(items)
            for k, v in pairs:
                its = {**self.iterators, name: {"key": k, "value": v}}
                out.extend(Body(self.module, self.each, c, its) for c in spec.get("content", []))
        return out

    def first(self, name: str) -> Body:
        found = self.blocks(name)
        if not found:
            raise TerraformError(f"no {name!r} block")
        return found[0]


class Instance(Body):
    """One instance of a resource (one ``for_each`` key)."""

    def __init__(self, module: Module, rtype: str, rname: str, key: Any, value: Any, raw: dict[str, Any]):
        super().__init__(module, None if key is None else (key, value), raw)
        self.rtype, self.rname, self.key = rtype, rname, key

    def __hash__(self) -> int:
        return hash((self.module.path, self.rtype, self.rname, json.dumps(self.key, default=str)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Instance) and hash(self) == hash(other)

    def __repr__(self) -> str:
        return f"{self.module.path}:{self.rtype}.{self.rname}[{self.key!r}]"


@dataclass
class _ResourceRef:
    module: Module
    rtype: str
    rname: str | None = None


class Context:
    """Evaluation scope: a module, the current ``each`` and any ``dynamic`` iterators."""

    def __init__(self, module: Module, each: tuple[Any, Any] | None, iterators: dict[str, Any]):
        self.module, self.each, self.iterators = module, each, iterators

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.template(value)
        return value

    def template(self, text: str) -> Any:
        parts = _split_template(text)
        if len(parts) == 1 and parts[0][0]:
            return self.expr(parts[0][1])
        return "".join(render(self.expr(p)) if is_expr else p for is_expr, p in parts)

    def expr(self, text: str) -> Any:
        try:
            return _Parser(self, text).parse()
        except _Unsupported:
            return Sym(text.strip())

    def root(self, name: str) -> Any:
        if name in self.iterators:
            return self.iterators[name]
        if name == "each":
            if self.each is None:
                raise TerraformError(f"{self.module.path}: each used outside for_each")
            return {"key": self.each[0], "value": self.each[1]}
        if name == "path":
            return {"module": self.module.path, "root": "."}
        if name in ("var", "local"):
            return (name,)
        if name in self.module.resource_types():
            return _ResourceRef(self.module, name)
        return Sym(name)

    def attr(self, value: Any, name: str) -> Any:
        if value == ("var",):
            return self.module.var(name)
        if value == ("local",):
            return self.module.local(name)
        if isinstance(value, _ResourceRef):
            if value.rname is None:
                if name not in self.module.resources(value.rtype):
                    raise TerraformError(f"{self.module.path}: {value.rtype}.{name} is not declared")
                return _ResourceRef(value.module, value.rtype, name)
            only = self.module.instances(value.rtype, value.rname)
            if len(only) != 1 or only[0].key is not None:
                raise TerraformError(f"{value.rtype}.{value.rname} has for_each: index it")
            return self._instance_attr(only[0], name)
        if isinstance(value, Instance):
            return self._instance_attr(value, name)
        if isinstance(value, (Sym, Ref)):
            return Sym(f"{render(value)[2:-1]}.{name}")
        if isinstance(value, dict):
            if name not in value:
                raise TerraformError(f"{self.module.path}: no attribute {name!r} in {sorted(value)}")
            return value[name]
        raise TerraformError(f"{self.module.path}: cannot read .{name} of {render(value)}")

    @staticmethod
    def _instance_attr(inst: Instance, name: str) -> Any:
        # Arguments set in the configuration are known; everything else (id, uri...) is computed.
        return inst.attr(name) if name in inst.raw else Ref(inst, name)

    def index(self, value: Any, key: Any) -> Any:
        if isinstance(value, _ResourceRef) and value.rname is not None:
            for inst in self.module.instances(value.rtype, value.rname):
                if inst.key == key:
                    return inst
            raise TerraformError(f"{self.module.path}: {value.rtype}.{value.rname}[{key!r}] is not declared")
        if isinstance(value, (Sym, Ref)) or isinstance(key, (Sym, Ref)):
            return Sym(f"{render(value)[2:-1]}[{json.dumps(key) if isinstance(key, str) else render(key)}]")
        if isinstance(value, dict):
            if key not in value:
                raise TerraformError(f"{self.module.path}: key {key!r} not in {sorted(value)}")
            return value[key]
        if isinstance(value, list) and isinstance(key, int):
            return value[key]
        raise TerraformError(f"{self.module.path}: cannot index {render(value)} with {key!r}")

    def call(self, fn: str, args: list[Any], text: str) -> Any:
        if any(isinstance(a, (Sym, Ref)) for a in args):
            return Sym(text)
        pure: dict[str, Callable[..., Any]] = {
            "toset": lambda xs: list(dict.fromkeys(xs)),
            "tolist": list,
            "tomap": dict,
            "keys": sorted,
            "values": lambda m: [m[k] for k in sorted(m)],
            "length": len,
            "lower": str.lower,
            "upper": str.upper,
            "split": lambda sep, s: s.split(sep),
            "replace": lambda s, a, b: s.replace(a, b),
            "jsondecode": json.loads,
            "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
            "file": self.module.config.read,
            "merge": lambda *ms: {k: v for m in ms for k, v in m.items()},
            "flatten": _flatten,
            "concat": lambda *ls: [x for xs in ls for x in xs],
            "distinct": lambda xs: list(dict.fromkeys(xs)),
            "contains": lambda xs, x: x in xs,
            "startswith": str.startswith,
            "trimprefix": str.removeprefix,
            "join": lambda sep, xs: sep.join(xs),
            "substr": lambda s, start, n: s[start : start + n if n >= 0 else None],
        }
        if fn not in pure:
            return Sym(text)
        return pure[fn](*args)


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


# --- what is declared -----------------------------------------------------------------------------------


def _declared(config: Config, rtype: str, attr: str = "name") -> dict[str, Instance]:
    return {str(i.attr(attr)): i for i in config.instances(rtype)}


def _target(value: Any, attr: str = "name") -> str | None:
    """The configured ``attr`` of the resource instance a reference (``x[k].id``) points at."""
    if isinstance(value, Ref):
        return str(value.instance.attr(attr))
    if isinstance(value, Instance):
        return str(value.attr(attr))
    return None


def _function_uri(config: Config, entry_point: str) -> str:
    """How a URL of the entry point's function reads once evaluated: ``module.M.uris["ep"]``."""
    for name, child in config.root.children().items():
        if child.resources("google_cloudfunctions2_function"):
            return f'module.{name}.uris["{entry_point}"]'
    return f"<no module declares the function of {entry_point}>"


def _code_targets(kind: str) -> set[str]:
    """The topics (``publish``), queues (``enqueue``) or secret ids (``secrets``) the runtime's code calls."""
    from deploy_model import code_calls  # it builds on this module

    return {c.args[0] for c in code_calls().calls if c.kind == kind}


def _checked(fn: Callable[[Config], list[str]]) -> Callable[[Config], list[str]]:
    """Report a dangling reference as a problem instead of crashing the check."""

    def run(config: Config) -> list[str]:
        try:
            return fn(config)
        except TerraformError as e:
            return [f"{fn.__name__}: {e}"]

    run.__name__ = fn.__name__
    return run


@_checked
def topic_problems(config: Config) -> list[str]:
    declared = _declared(config, "google_pubsub_topic")
    problems = []
    for topic in names.TOPICS:
        if topic not in declared:
            problems.append(f"topic {topic} is not declared")
        if f"{topic}-dlq" not in declared:
            problems.append(f"dead-letter topic {topic}-dlq is not declared")
    expected = set(names.TOPICS) | {f"{t}-dlq" for t in names.TOPICS}
    problems += [f"topic {t} is declared but not in names.TOPICS" for t in sorted(set(declared) - expected)]
    publishers = {
        _target(i.attr("topic")) or render(i.attr("topic"))
        for i in config.instances("google_pubsub_topic_iam_member")
        if i.attr("role") == "roles/pubsub.publisher"
    }
    # Each function may publish to the topics its code publishes to (test_permissions checks whom).
    problems += [f"nothing may publish to topic {t}" for t in sorted(_code_targets("publish")) if t not in publishers]
    return problems


@_checked
def subscription_problems(config: Config) -> list[str]:
    subs = _declared(config, "google_pubsub_subscription")
    functions = {
        i.first("build_config").attr("entry_point"): i
        for i in config.instances("google_cloudfunctions2_function")
    }
    problems = []
    for sub, (topic, handler) in wiring.subscriptions().items():
        inst = subs.get(sub)
        if inst is None:
            problems.append(f"subscription {sub} ({topic} -> {handler}) is not declared")
            continue
        if _target(inst.attr("topic")) != topic:
            problems.append(f"subscription {sub} reads {render(inst.attr('topic'))}, not topic {topic}")
        dead = inst.blocks("dead_letter_policy")
        if not dead or _target(dead[0].attr("dead_letter_topic")) != f"{topic}-dlq":
            problems.append(f"subscription {sub} does not dead-letter to {topic}-dlq")
        elif not 5 <= int(dead[0].attr("max_delivery_attempts", 5)) <= 100:
            problems.append(f"subscription {sub}: max_delivery_attempts must be within 5..100")
        push = inst.blocks("push_config")
        endpoint = render(push[0].attr("push_endpoint")) if push else ""
        if _function_uri(config, handler) not in endpoint:
            problems.append(
                f"subscription {sub} does not push to {handler}'s function ({endpoint or 'no push'})"
            )
        elif not push[0].blocks("oidc_token"):
            problems.append(f"subscription {sub} pushes without an OIDC token")
        ack = int(inst.attr("ack_deadline_seconds", 10))
        fn = functions.get(handler)
        if fn is not None and int(fn.first("service_config").attr("timeout_seconds")) >= ack:
            problems.append(f"subscription {sub}: ack deadline {ack}s does not exceed {handler}'s timeout")
    on_topics = {s: _target(i.attr("topic")) for s, i in subs.items()}
    problems += [
        f"subscription {s} on {t} is not in the wiring (tower.wiring.subscriptions)"
        for s, t in sorted(on_topics.items())
        if t in names.TOPICS and s not in wiring.subscriptions()
    ]
    problems += [
        f"dead letters of {t} would be dropped: no subscription on {t}-dlq"
        for t in names.TOPICS
        if f"{t}-dlq" not in on_topics.values()
    ]
    return problems


@_checked
def queue_problems(config: Config) -> list[str]:
    declared = _declared(config, "google_cloud_tasks_queue")
    problems = []
    for queue in names.QUEUES:
        inst = declared.get(queue)
        if inst is None:
            problems.append(f"queue {queue} is not declared")
            continue
        rate, retry = inst.blocks("rate_limits"), inst.blocks("retry_config")
        if not rate or not rate[0].attr("max_dispatches_per_second"):
            problems.append(f"queue {queue} has no dispatch rate limit")
        if not retry or not retry[0].attr("max_attempts"):
            problems.append(f"queue {queue} has no retry policy")
    problems += [
        f"queue {q} is declared but not in names.QUEUES" for q in sorted(set(declared) - set(names.QUEUES))
    ]
    enqueue = {
        i.attr("name")
        for i in config.instances("google_cloud_tasks_queue_iam_member")
        if i.attr("role") == "roles/cloudtasks.enqueuer"
    }
    problems += [
        f"nothing may enqueue on queue {q}" for q in sorted(_code_targets("enqueue")) if q in declared and q not in enqueue
    ]
    return problems


@_checked
def secret_problems(config: Config) -> list[str]:
    declared = _declared(config, "google_secret_manager_secret", "secret_id")
    problems = [f"secret {s} is not declared" for s in names.SECRETS if s not in declared]
    problems += [
        f"secret {s} is declared but not in names.SECRETS" for s in sorted(set(declared) - set(names.SECRETS))
    ]
    problems += [
        f"{m.path} declares secret versions: values must never pass through Terraform"
        for m in config.modules()
        if m.resources("google_secret_manager_secret_version")
    ]
    readers = {
        i.attr("secret_id")
        for i in config.instances("google_secret_manager_secret_iam_member")
        if i.attr("role") == "roles/secretmanager.secretAccessor"
    }
    problems += [f"nothing may read secret {s}" for s in sorted(_code_targets("secrets") & set(names.SECRETS))
                 if s in declared and s not in readers]
    prefix = f"/secrets/{names.INTEGRATION_SECRET_PREFIX}"
    conditions = [
        render(c.attr("expression"))
        for i in config.instances("google_project_iam_member")
        for c in i.blocks("condition")
    ]
    if not any("startsWith" in c and prefix in c for c in conditions):
        problems.append(
            f"no IAM condition limits the integration secrets to the {names.INTEGRATION_SECRET_PREFIX} prefix"
        )
    return problems


def _gen_schema() -> Any:
    spec = importlib.util.spec_from_file_location("gen_schema", REPO / "infra" / "gen_schema.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_schema", module)
    spec.loader.exec_module(module)
    return module


@_checked
def table_problems(config: Config) -> list[str]:
    gen = _gen_schema()
    specs = {p.stem: gen.table_spec(p.stem, p.read_text()) for p in sql.schema_files()}
    declared = _declared(config, "google_bigquery_table", "table_id")
    problems = [f"table {t} is not declared" for t in specs if t not in declared]
    problems += [f"table {t} is declared but has no DDL file" for t in sorted(set(declared) - set(specs))]
    for name in sorted(set(specs) & set(declared)):
        spec, inst = specs[name], declared[name]
        if json.loads(inst.attr("schema")) != spec.fields:
            problems.append(f"table {name}: the schema Terraform deploys differs from its DDL")
        parts = [(b.attr("field"), b.attr("type")) for b in inst.blocks("time_partitioning")]
        want = [(spec.partition_field, spec.partition_type)] if spec.partition_field else []
        if parts != want:
            problems.append(f"table {name}: partitioning {parts} differs from the DDL's {want}")
        if list(inst.attr("clustering") or []) != spec.clustering:
            problems.append(f"table {name}: clustering differs from the DDL's {spec.clustering}")
    return problems


@_checked
def function_problems(config: Config) -> list[str]:
    functions = {
        i.first("build_config").attr("entry_point"): i
        for i in config.instances("google_cloudfunctions2_function")
    }
    problems = [f"entry point {ep} has no function" for ep in wiring.ENTRY_POINTS if ep not in functions]
    problems += [
        f"function for {ep} is not in wiring.ENTRY_POINTS"
        for ep in sorted(set(functions) - set(wiring.ENTRY_POINTS))
    ]
    invokers: dict[str, list[str]] = {}
    for binding in config.instances("google_cloud_run_v2_service_iam_member"):
        if binding.attr("role") == "roles/run.invoker":
            invokers.setdefault(str(binding.attr("name")), []).append(render(binding.attr("member")))
    subs = config.instances("google_pubsub_subscription")
    jobs = config.instances("google_cloud_scheduler_job")
    queues = _declared(config, "google_cloud_tasks_queue")
    for ep in sorted(set(functions) & set(wiring.ENTRY_POINTS)):
        fn, entry = functions[ep], wiring.ENTRY_POINTS[ep]
        build, service = fn.first("build_config"), fn.first("service_config")
        if fn.attr("name") != entry.function_name:
            problems.append(f"{ep}: deployed as {fn.attr('name')}, not {entry.function_name}")
        if build.attr("runtime") != "python311":
            problems.append(f"{ep}: runtime {build.attr('runtime')} is not python311")
        if service.attr("min_instance_count") != 0:
            problems.append(f"{ep}: does not scale to zero")
        env = service.attr("environment_variables") or {}
        for key, scheme in REQUIRED_ENV.items():
            if key not in env or not render(env[key]).startswith(scheme):
                problems.append(f"{ep}: {key} is not set to a {scheme or 'service account'} value")
        kind, target = entry.kind, entry.target
        members = invokers.get(entry.function_name, [])
        callers: list[str] = []
        if kind == "http":
            callers = ["allUsers"]
        elif kind == "topic":
            pushes = [
                s
                for s in subs
                if _target(s.attr("topic")) == target
                and s.blocks("push_config")
                and _function_uri(config, ep) in render(s.first("push_config").attr("push_endpoint"))
            ]
            if not pushes:
                problems.append(f"{ep}: no subscription on {target} pushes to it")
            callers = [
                f"serviceAccount:{render(s.first('push_config').first('oidc_token').attr('service_account_email'))}"
                for s in pushes
            ]
        elif kind == "queue":
            if target not in queues:
                problems.append(f"{ep}: its queue {target} is not declared")
            # names.function_url() appends the function name to TOWER_TASKS_TARGET_URL: that base must
            # be the cloudfunctions.net origin of the project and region the function is deployed in.
            base = f"https://{render(fn.attr('location'))}-{render(fn.attr('project'))}.cloudfunctions.net"
            if render(env.get("TOWER_TASKS_TARGET_URL")) != base:
                problems.append(f"{ep}: TOWER_TASKS_TARGET_URL is not {base}, where the function answers")
            callers = [f"serviceAccount:{render(env.get('TOWER_TASKS_SERVICE_ACCOUNT'))}"]
        elif kind == "schedule":
            mine = [
                j
                for j in jobs
                if render(j.first("http_target").attr("uri")) == "${" + _function_uri(config, ep) + "}"
            ]
            if not mine:
                problems.append(f"{ep}: no Cloud Scheduler job calls it")
            # The job's schedule is var.sync_schedule, read at its default: the wiring's cron.
            problems += [
                f"{ep}: job {j.attr('name')} runs on {render(j.attr('schedule'))!r}, not the wiring's {target!r}"
                for j in mine
                if j.attr("schedule") != target
            ]
            callers = [
                f"serviceAccount:{render(j.first('http_target').first('oidc_token').attr('service_account_email'))}"
                for j in mine
            ]
        if sorted(set(members)) != sorted(set(callers)):
            problems.append(
                f"{ep}: invokers {sorted(set(members))} differ from its callers {sorted(set(callers))}"
            )
    return problems


@_checked
def reference_problems(config: Config) -> list[str]:
    """What ``terraform validate`` would catch without providers: module arguments and references."""
    problems = []
    for module in config.modules():
        for name, child in module.children().items():
            args = set(child.call or {}) - _META_ARGS
            declared = set(child.variables)
            problems += [f"module {name}: unknown argument {a}" for a in sorted(args - declared)]
            problems += [
                f"module {name}: required variable {v} not passed"
                for v in sorted(declared - args)
                if "default" not in child.variables[v]
            ]
            used = set(re.findall(rf"\bmodule\.{re.escape(name)}\.(\w+)", json.dumps(module.blocks)))
            problems += [
                f"module.{name}.{o} is not an output of {child.path}"
                for o in sorted(used - set(child.outputs))
            ]
        text = json.dumps(module.blocks)
        problems += [
            f"{module.path}: var.{v} is not declared"
            for v in sorted(set(re.findall(r"\bvar\.(\w+)", text)))
            if v not in module.variables
        ]
        problems += [
            f"{module.path}: local.{v} is not declared"
            for v in sorted(set(re.findall(r"\blocal\.(\w+)", text)))
            if v not in module.locals
        ]
        for rtype, rname in sorted(set(re.findall(r"\b(google_\w+)\.(\w+)", text))):
            known = rname in module.resources(rtype) or rname in module._merged("data").get(rtype, {})
            if not known and f"data.{rtype}.{rname}" not in text:
                problems.append(f"{module.path}: {rtype}.{rname} is not declared")
    return problems


CHECKS = [
    topic_problems,
    subscription_problems,
    queue_problems,
    secret_problems,
    table_problems,
    function_problems,
    reference_problems,
]


# --- tests -----------------------------------------------------------------------------------------------


@pytest.fixture
def config() -> Config:
    return Config.from_repo()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_terraform_declares_what_the_code_names(config: Config, check: Callable[[Config], list[str]]) -> None:
    assert check(config) == []


def test_root_module_reads_every_module_under_infra(config: Config) -> None:
    modules = {m.path for m in config.modules()}
    on_disk = {p.parent.relative_to(REPO).as_posix() for p in (REPO / "infra" / "modules").glob("*/main.tf")}
    assert on_disk <= modules


def test_committed_bigquery_schemas_match_the_ddl() -> None:
    gen = _gen_schema()
    assert gen.drift(sql.schema_files()) == [], "run: .venv/bin/python infra/gen_schema.py"


def test_every_ddl_table_has_a_committed_schema_file() -> None:
    schema_dir = REPO / "infra" / "modules" / "bigquery" / "schema"
    assert sorted(p.stem for p in schema_dir.glob("*.json")) == sorted(sql.table_names())


def test_the_wiring_triggers_on_declared_topics_and_queues() -> None:
    assert {topic for topic, _ in wiring.subscriptions().values()} <= set(names.TOPICS)
    assert {e.target for e in wiring.of_kind("queue")} == set(names.QUEUES)


def test_secret_prefix_in_terraform_is_the_codes(config: Config) -> None:
    assert config.root.local("integration_secret_prefix") == names.INTEGRATION_SECRET_PREFIX


def test_terraform_files_are_formatted() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip(
            "terraform is not installed here; cloudbuild.yaml runs `terraform fmt -check` and validate"
        )
    targets = [p.name for p in REPO.glob("*.tf")] + ["infra"]
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", *targets],
        cwd=REPO,
        check=False,
        capture_output=True,
        text=True,
        env={"TF_CLI_CONFIG_FILE": "/dev/null", "PATH": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


# Negative tests: removing any one name from the real configuration must be reported by name.


def _without(config: Config, local: str, name: str) -> Config:
    holder = next(item for item in config.root.blocks["locals"] if local in item)
    value = holder[local]
    if isinstance(value, dict):
        del value[name]
    else:
        value.remove(name)
    return config


_REMOVALS = (
    [("topics", t, topic_problems) for t in names.TOPICS]
    + [("subscriptions", s, subscription_problems) for s in wiring.subscriptions()]
    + [("queues", q, queue_problems) for q in names.QUEUES]
    + [("secrets", s, secret_problems) for s in names.SECRETS]
    + [("functions", ep, function_problems) for ep in wiring.ENTRY_POINTS]
)


@pytest.mark.parametrize(("local", "name", "check"), _REMOVALS, ids=[f"{loc}-{n}" for loc, n, _ in _REMOVALS])
def test_a_missing_name_is_reported(
    config: Config, local: str, name: str, check: Callable[[Config], list[str]]
) -> None:
    problems = check(_without(config, local, name))
    assert any(name in p for p in problems), problems


@pytest.mark.parametrize("table", sql.table_names())
def test_a_missing_table_is_reported(table: str) -> None:
    config = Config.from_repo()
    path = "infra/modules/bigquery/tables.json"
    tables = json.loads(config.files[path])
    tables.pop(table, None)
    config.files[path] = json.dumps(tables)
    assert any(table in p for p in table_problems(config))


def test_a_drifted_column_is_reported() -> None:
    config = Config.from_repo()
    path = "infra/modules/bigquery/schema/orders.json"
    fields = json.loads(config.files[path])
    fields[0]["mode"] = "NULLABLE"
    config.files[path] = json.dumps(fields)
    assert "table orders: the schema Terraform deploys differs from its DDL" in table_problems(config)


_SYNTHETIC_TOPICS = """
locals {
  topics = ["tower-sync-completed", "tower-models-built", "tower-alerts-raised", "tower-shopify-events"]
}
resource "google_pubsub_topic" "topic" {
  for_each = toset(local.topics)
  name     = each.value
}
resource "google_pubsub_topic" "dlq" {
  for_each = toset(local.topics)
  name     = "${each.value}-dead"
}
resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = toset(local.topics)
  topic    = google_pubsub_topic.topic[each.key].name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:runtime@example.iam.gserviceaccount.com"
}
"""


def test_a_synthetic_configuration_with_misnamed_dead_letter_topics_fails() -> None:
    problems = topic_problems(Config({"main.tf": _SYNTHETIC_TOPICS}))
    assert sorted(problems) == sorted(
        [f"dead-letter topic {t}-dlq is not declared" for t in names.TOPICS]
        + [f"topic {t}-dead is declared but not in names.TOPICS" for t in names.TOPICS]
    )


def test_a_for_each_the_evaluator_cannot_follow_fails_rather_than_passes() -> None:
    text = _SYNTHETIC_TOPICS.replace(
        'for_each = toset(local.topics)\n  name     = "${each.value}-dead"',
        'for_each = toset(formatlist("%s", local.topics))\n  name     = "${each.value}-dlq"',
    )
    problems = topic_problems(Config({"main.tf": text}))
    assert len(problems) == 1 and "for_each of google_pubsub_topic.dlq cannot be evaluated" in problems[0]


def test_a_synthetic_subscription_on_the_wrong_topic_fails() -> None:
    text = """
locals { topics = ["tower-sync-completed", "tower-models-built"] }
resource "google_pubsub_topic" "topic" {
  for_each = toset(local.topics)
  name     = each.value
}
resource "google_pubsub_subscription" "build" {
  name  = "build-models"
  topic = google_pubsub_topic.topic["tower-models-built"].id
}
"""
    problems = subscription_problems(Config({"main.tf": text}))
    assert (
        "subscription build-models reads " in problems[0] and "not topic tower-sync-completed" in problems[0]
    )


def test_a_dangling_reference_is_reported() -> None:
    text = """
resource "google_pubsub_subscription" "s" {
  name  = "build-models"
  topic = google_pubsub_topic.nowhere["x"].id
}
"""
    assert any("google_pubsub_topic.nowhere" in p for p in reference_problems(Config({"main.tf": text})))


def test_evaluator_follows_module_variables_and_each(config: Config) -> None:
    # The same path terraform takes: root local -> module argument -> for_each -> name template.
    dlq = {i.attr("name") for i in config.instances("google_pubsub_topic") if i.rname == "dlq"}
    assert dlq == {f"{t}-dlq" for t in names.TOPICS}
    member = next(
        i
        for i in config.instances("google_cloud_run_v2_service_iam_member")
        if i.key == "apply_budget_change"
    )
    assert render(member.attr("member")) == "serviceAccount:${module.iam.tasks_invoker_email}"


def test_the_evaluator_follows_for_expressions_and_boolean_operators() -> None:
    config = Config({"main.tf": """
locals {
  functions = { a = { trigger = "http", access = ["topic:t1", "warehouse"] }, b = { trigger = "queue:q", access = ["topic:t2"] } }
  internal  = { for ep, f in local.functions : ep => f.trigger if f.trigger != "http" }
  pairs     = flatten([for ep, f in local.functions : [for a in f.access : { fn = ep, topic = trimprefix(a, "topic:") } if startswith(a, "topic:")]])
  flag      = contains(local.functions.a.access, "warehouse") && !contains(local.functions.b.access, "warehouse")
  none      = [for x in [] : x.never]
  unknown   = { for k, v in var.later : k => v }
}
variable "later" { type = map(string) }
"""})
    assert config.root.local("internal") == {"b": "queue:q"}
    assert config.root.local("pairs") == [{"fn": "a", "topic": "t1"}, {"fn": "b", "topic": "t2"}]
    assert config.root.local("flag") is True
    assert config.root.local("none") == []
    assert isinstance(config.root.local("unknown"), Sym)
