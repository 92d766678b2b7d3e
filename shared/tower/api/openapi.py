"""The OpenAPI 3.1 document, built from the app's routes and the description each view declares.

A view states what it is with :func:`operation` (summary, body model, responses, query
parameters, whether it needs a key); :func:`build_document` walks ``app.url_map`` and writes one
operation per rule and method from those declarations. A route whose view declares nothing is left
out of the document, and ``tests/unit/api/test_openapi.py`` fails on it: an undocumented route
cannot ship.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue
from pydantic import BaseModel

from tower.api.schemas import SCHEMAS

F = TypeVar("F", bound=Callable[..., Any])
ATTR = "_openapi_operation"
API_VERSION = "1.0.0"

_ERROR_TEXT = {
    400: "Bad input: the body is not JSON, or a field is missing or wrong (the message names it).",
    401: "Missing, malformed or unknown API key (on the Shopify install routes: a bad HMAC, state or session token).",
    402: "A brand installed from Shopify has no active plan: subscribe (the onboarding wizard's subscribe step).",
    403: "The API key does not cover this brand.",
    404: "Unknown brand, recommendation, channel or route.",
    405: "Method not allowed on this route.",
    409: "The action does not apply to the recommendation in its current state.",
    413: "The request body is larger than the API takes (TOWER_API_MAX_BODY_BYTES); it was not read.",
    429: "Too many failed authentications from this address; try again after Retry-After seconds.",
    502: "Shopify's token endpoint failed or answered without a token.",
    503: "An ad platform kept failing, or a range's warehouse read took too long; try again.",
}


@dataclass(frozen=True)
class Operation:
    """What the document says about one view."""

    summary: str
    response: str  # a schema name in SCHEMAS
    body: type[BaseModel] | None = None
    body_required: bool = True
    errors: tuple[int, ...] = ()
    query: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> {"schema", "description"}
    public: bool = False
    tag: str = "brands"
    description: str = ""
    redirect: bool = False  # answers 302 with a Location (a browser navigation), not 200 JSON
    created: bool = False  # answers 201: it made something (an API key, an invitation)
    html: bool = False  # answers 200 with an HTML page another library renders (shopifyapp's App Home pages)


def operation(summary: str, *, response: str, body: type[BaseModel] | None = None, body_required: bool = True,
              errors: tuple[int, ...] = (), query: dict[str, dict[str, Any]] | None = None, public: bool = False,
              tag: str = "brands", redirect: bool = False, created: bool = False,
              html: bool = False) -> Callable[[F], F]:
    """Declare a view's operation for the OpenAPI document (and, with ``public``, that it needs no key).

    Eleven parameters: one keyword per field of the operation it declares, as a route decorator takes them.
    """

    def deco(fn: F) -> F:
        doc = (fn.__doc__ or "").strip()
        setattr(fn, ATTR, Operation(summary, response, body, body_required, errors, dict(query or {}), public,
                                    tag, doc, redirect, created, html))
        return fn

    return deco


def operation_of(view: Callable[..., Any] | None) -> Operation | None:
    """The view's declared operation (None when it declares none)."""
    return getattr(view, ATTR, None) if view is not None else None


def openapi_path(rule: str) -> tuple[str, list[str]]:
    """``/api/brands/<brand_id>`` → (``/api/brands/{brand_id}``, ``["brand_id"]``)."""
    names: list[str] = []

    def sub(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return "{" + m.group(1) + "}"

    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", sub, rule), names


def _responses(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"200": {"description": "OK", "content": {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{op.response}"}}}}}
    if op.created:
        out = {"201": {**out["200"], "description": "Created"}}
    if op.html:
        out = {"200": {"description": op.response, "content": {"text/html": {"schema": {"type": "string"}}}}}
    if op.redirect:
        out = {"302": {"description": op.response, "headers": {"Location": {
            "description": "Where the browser goes next.", "schema": {"type": "string"}}}}}
    codes = set(op.errors) | ({401, 403, 429} if not op.public else set()) | {405}
    if op.body is not None:
        codes.add(413)
    for code in sorted(codes):
        out[str(code)] = {"description": _ERROR_TEXT.get(code, "Error"), "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    return out


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared route of the app."""
    paths: dict[str, dict[str, Any]] = {}
    body_models: dict[str, type[BaseModel]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = operation_of(app.view_functions.get(rule.endpoint))
        if op is None:
            continue
        path, names = openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            item: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"),
                "summary": op.summary,
                "tags": [op.tag],
                "parameters": [
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names
                ] + [
                    {"name": n, "in": "query", "required": False, "schema": q["schema"],
                     "description": q.get("description", ""), **({"example": q["example"]} if "example" in q else {})}
                    for n, q in op.query.items()
                ],
                "responses": _responses(op),
            }
            if op.description:
                item["description"] = op.description
            if op.public:
                item["security"] = []
            if op.body is not None:
                body_models[op.body.__name__] = op.body
                item["requestBody"] = {"required": op.body_required, "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}}}}
            paths.setdefault(path, {})[method.lower()] = item
    schemas = dict(SCHEMAS)
    for name, model in sorted(body_models.items()):
        schemas[name] = model.model_json_schema(ref_template="#/components/schemas/{model}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Control Tower API",
            "version": API_VERSION,
            "description": "Ad spend tied to inventory and margin, for Shopify brands and their agencies. "
                           "Every error is {\"error\": {\"code\", \"message\"}}.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "An API key from `tower api-key create`, or, "
                                               "in the embedded app, a Shopify session token from App Bridge "
                                               "(`shopify.idToken()`, fresh for each request)."}},
            "schemas": schemas,
        },
    }


bp = Blueprint("openapi", __name__)


@bp.get("/api/openapi.json")
@operation("This OpenAPI 3.1 document.", response="OpenApiDocument", public=True, tag="meta")
def openapi_json() -> ResponseReturnValue:
    """The API's own description: every route, its parameters, bodies and error responses."""
    doc = current_app.extensions.get("tower_openapi")
    if doc is None:
        # built once per process: the routes do not change after create_app
        doc = current_app.extensions["tower_openapi"] = build_document(current_app)
    return jsonify(doc)

