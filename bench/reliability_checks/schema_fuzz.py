"""R4: schemathesis against the API's own OpenAPI document, with an agency key, in-process (WSGI).

The document is loaded from the app (``GET /api/openapi.json``). Every operation gets generated
cases in rounds (positive and negative data; path parameters pinned to a real brand, recommendation
and channel in two rounds of three, so the cases reach past the 403 of a brand the key does not
cover, and generated freely in the third), until at least ``cases`` requests were made. Each response is judged by
schemathesis's checks: ``not_a_server_error`` (→ ``r4_server_errors``), and the status code, content
type and response body against the document (→ ``r4_schema_violations``).
"""

from __future__ import annotations

import warnings
from collections import Counter
from typing import Any

from reliability_checks.demo_state import ApiState


def run(state: ApiState, *, cases: int, seed: int) -> dict[str, Any]:
    """R4's figures."""
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    from tower.api.app import create_app
    from tower.runtime import Runtime

    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    # The Shopify app configured, so its install routes answer the fuzzer's requests (4xx, or the
    # authorize redirect) rather than 503 for a missing configuration.
    runtime = Runtime(state.settings(api_auth_failures_per_minute=1_000_000, shopify_client_id="r4-client",
                                     shopify_api_secret="r4-app-secret-of-at-least-32-bytes",
                                     shopify_app_url="http://127.0.0.1:8080"))
    made = 0
    statuses: Counter[int] = Counter()
    tally = _Tally()
    try:
        app = create_app(runtime)
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
        operations = [r.ok() for r in schema.get_all_operations()]
        from tower.decisions.store import list_recommendations

        brand = state.brand_ids[0]
        recs = [str(r["id"]) for r in list_recommendations(runtime.store, brand, include_hidden=True)] or ["rec_x"]
        headers = {"Authorization": f"Bearer {state.keys['agency']}"}
        round_no = 0
        while made < cases and round_no < 40:
            # most rounds pin the path to a real brand, recommendation and channel (random ones only
            # ever meet the 403 of a brand the key does not cover); every third lets them be generated
            pinned = round_no % 3 != 1
            mode = GenerationMode.NEGATIVE if round_no % 4 == 3 else GenerationMode.POSITIVE
            per_op = max(5, (cases - made) // max(1, len(operations)) + 1)
            for op in operations:
                names = {p.name for p in op.path_parameters}
                path_values: dict[str, Any] | None = None
                if pinned and names:
                    path_values = {n: {"brand_id": brand, "channel": "meta"}.get(n, recs[round_no % len(recs)])
                                   for n in names}
                strategy = op.as_strategy(generation_mode=mode, path_parameters=path_values)
                calls = _probe(strategy, op, per_op, seed * 1000 + round_no, headers, checks, tally)
                made += len(calls)
                statuses.update(calls)
            round_no += 1
    finally:
        runtime.close()
    return {"r4_cases": made, "r4_operations": len(operations), "r4_server_errors": tally.server_errors,
            "r4_schema_violations": tally.violations, "r4_failure_kinds": dict(tally.kinds),
            "r4_statuses": {str(k): v for k, v in sorted(statuses.items())},
            "r4_details": tally.examples}


class _Tally:
    """Failures found so far."""

    def __init__(self) -> None:
        self.server_errors = 0
        self.violations = 0
        self.kinds: Counter[str] = Counter()
        self.examples: list[str] = []

    def add(self, op: Any, status: int, failure: Any) -> None:
        kind = type(failure).__name__
        self.kinds[kind] += 1
        if kind == "ServerError":
            self.server_errors += 1
        else:
            self.violations += 1
        if len(self.examples) < 10:
            self.examples.append(f"{op.method.upper()} {op.path}: {kind} ({status}) {str(failure.title)[:120]}")


def _probe(strategy: Any, op: Any, examples: int, seed: int, headers: dict[str, str], checks: list[Any],
           tally: _Tally) -> list[int]:
    """Run up to ``examples`` generated cases of one operation; return one entry per request made."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis.core.failures import Failure, FailureGroup

    calls: list[int] = []

    @hypothesis_seed(seed)
    @settings(max_examples=examples, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def probe(case: Any) -> None:
        response = case.call(headers=headers)
        calls.append(response.status_code)
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (FailureGroup, Failure) as e:
            for failure in getattr(e, "exceptions", [e]):
                tally.add(op, response.status_code, failure)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probe()
    return calls
