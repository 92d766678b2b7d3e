"""Decisions: recommendation rules, scoring, alerts, budget actions and their document-store caches.

A pure core (``rules``, ``scoring``, ``alerts`` take :mod:`~tower.decisions.inputs` and return data;
no SDK, no network, no clock) with its I/O at the edges (``sources`` reads the models, ``store``
caches in the document store, ``budget_actions`` acts through the task queue and the ad write path).
Library entry points: :func:`tower.decisions.recommend.run_recommend`,
:mod:`tower.decisions.budget_actions` (``accept``, ``dismiss``, ``undo``, ``dry_run``,
``apply_budget_change_task``).
"""
