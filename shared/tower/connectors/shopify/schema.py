"""Shopify's real Admin GraphQL schema: where it lives, building it once, validating documents.

The schema is the SDL of a live introspection (``../shared/schemas/shopify/admin-<version>.graphql``,
3.5 MB). Building it with graphql-core takes about 1.5 s, so it is built once per process and
cached. The connector never needs it at run time; the sandbox executes against it and the tests
validate every document the connector can send.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from graphql import GraphQLError, GraphQLSchema

#: shared/tower/connectors/shopify/schema.py → parents[4] is the repository root.
REPO_ROOT = Path(__file__).resolve().parents[4]
SHARED_DIR = REPO_ROOT.parent / "shared"


class SchemaMissing(FileNotFoundError):
    """Shopify's Admin schema file is not where the settings say; the sandbox cannot run without it."""


def schema_path(version: str, configured: str | Path = "") -> Path:
    """The SDL file of an API version: the configured path, or ``../shared/schemas/shopify/``."""
    if configured:
        return Path(configured)
    return SHARED_DIR / "schemas" / "shopify" / f"admin-{version}.graphql"


_build_lock = threading.Lock()


@lru_cache(maxsize=4)
def _build(path: str, mtime_ns: int) -> GraphQLSchema:
    from graphql import build_ast_schema, parse

    # no_location and assume_valid_sdl: the file is a printed introspection of a live schema,
    # already valid; skipping locations and SDL validation cuts the build from ~4 s to ~1.5 s.
    document = parse(Path(path).read_text(encoding="utf-8"), no_location=True)
    schema = build_ast_schema(document, assume_valid_sdl=True)
    _accept_shopify_deprecations(schema)
    return schema


# Shopify's live schema deprecates a few fields on implementations (e.g. Customer.hasTimelineComment)
# whose interface field is not deprecated. graphql-core's schema validation rejects that, and then
# refuses to validate or execute anything; Shopify serves the schema as it is, so we accept exactly
# those findings and nothing else.
_DEPRECATION_RULE = re.compile(r"^Interface field \S+ is not deprecated, so implementation field \S+ must not be deprecated\.$")


def _accept_shopify_deprecations(schema: GraphQLSchema) -> None:
    from graphql import validate_schema

    errors = validate_schema(schema)
    other = [e for e in errors if not _DEPRECATION_RULE.match(e.message)]
    if other:
        raise ValueError("Shopify Admin schema is invalid: " + "; ".join(e.message for e in other[:5]))
    schema._validation_errors = []


def load_schema(path: str | Path) -> GraphQLSchema:
    """The executable schema built from an SDL file, built once per process (thread-safe).

    Raises:
        SchemaMissing: The file does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise SchemaMissing(
            f"Shopify Admin schema not found at {p}. The sandbox store executes queries against "
            "Shopify's real schema: put admin-<version>.graphql there or set TOWER_SHOPIFY_ADMIN_SCHEMA."
        )
    with _build_lock:
        return _build(str(p.resolve()), p.stat().st_mtime_ns)


def validate_document(schema: GraphQLSchema, document: str) -> list[GraphQLError]:
    """graphql-core's standard validation of one document against the schema (empty = valid)."""
    from graphql import GraphQLError, parse, validate

    try:
        ast = parse(document)
    except GraphQLError as e:
        return [e]
    return list(validate(schema, ast))


def deprecated_fields_used(schema: GraphQLSchema, document: str) -> list[str]:
    """``Type.field`` of every deprecated field a document selects (Shopify removes them later)."""
    from graphql import TypeInfo, TypeInfoVisitor, Visitor, get_named_type, parse, visit

    found: list[str] = []
    info = TypeInfo(schema)

    class _Deprecations(Visitor):
        def enter_field(self, node, *_args):
            field = info.get_field_def()
            parent = info.get_parent_type()
            if field is not None and field.deprecation_reason:
                found.append(f"{get_named_type(parent).name}.{node.name.value}")

    visit(parse(document), TypeInfoVisitor(info, _Deprecations()))
    return found
