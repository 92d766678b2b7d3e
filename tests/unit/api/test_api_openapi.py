"""The OpenAPI document lists every route the app serves, and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from tower.api.app import create_app
from tower.api.openapi import build_document, openapi_path
from tower.config import Settings


def routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every rule the app routes."""
    return {(openapi_path(rule.rule)[0], m.lower())
            for rule in app.url_map.iter_rules() for m in (rule.methods or set()) - {"HEAD", "OPTIONS"}}


def documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, item in doc["paths"].items() for method in item}


def test_the_document_lists_every_route(client: FlaskClient) -> None:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"] == "3.1.0"
    app = client.application
    assert routes(app) == documented(doc)
    assert ("/api/brands/{brand_id}/recommendations/{rec_id}/accept", "post") in documented(doc)
    assert ("/api/agency/overview", "get") in documented(doc)


def test_an_undocumented_route_is_left_out_so_the_check_above_fails() -> None:
    app = create_app(Settings(warehouse="duckdb:///:memory:", store="local:///unused.sqlite"))

    @app.get("/api/secret-extra")
    def extra() -> dict[str, str]:
        return {}

    assert ("/api/secret-extra", "get") in routes(app) - documented(build_document(app))


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").json
    validate(doc)  # raises on any violation of the OpenAPI 3.1 schema
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in doc["components"]["schemas"], ref


def test_operations_say_their_parameters_bodies_and_auth(client: FlaskClient) -> None:
    doc = client.get("/api/openapi.json").json
    accept = doc["paths"]["/api/brands/{brand_id}/recommendations/{rec_id}/accept"]["post"]
    assert [p["name"] for p in accept["parameters"]] == ["brand_id", "rec_id"]
    assert accept["requestBody"]["required"] is False
    assert set(accept["responses"]) >= {"200", "400", "401", "403", "404", "409"}
    dismiss = doc["paths"]["/api/brands/{brand_id}/recommendations/{rec_id}/dismiss"]["post"]
    assert dismiss["requestBody"]["required"] is True
    assert doc["components"]["schemas"]["DismissBody"]["required"] == ["reason"]
    ask = doc["components"]["schemas"]["AskBody"]["properties"]["question"]
    assert (ask["minLength"], ask["maxLength"]) == (1, 500)
    assert doc["paths"]["/health"]["get"]["security"] == []
    assert "security" not in doc["paths"]["/api/brands/{brand_id}/dashboard"]["get"]  # the global bearer applies
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
