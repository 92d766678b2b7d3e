"""The dashboard API: a Flask app (routes in blueprints, API-key auth, one JSON error shape, OpenAPI 3.1).

* :func:`tower.api.app.create_app` builds the app on a runtime; :func:`tower.api.app.serve` hosts it locally.
* :mod:`tower.api.brands`, :mod:`tower.api.agency`, :mod:`tower.api.health`: the routes.
* :mod:`tower.api.auth`: API keys (stored hashed) and brand scope; ``tower api-key create`` issues them.
* :mod:`tower.api.errors`: :class:`~tower.api.errors.ApiError` and the JSON error body.
* :mod:`tower.api.openapi`: ``GET /api/openapi.json``, built from what each view declares.
"""
