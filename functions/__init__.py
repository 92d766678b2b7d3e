"""Cloud Function entry points, one module per trigger kind: ``http``, ``tasks`` (Cloud Tasks and Cloud
Scheduler) and ``events`` (Pub/Sub). Each function decodes its request, task or CloudEvent and calls
the handler :mod:`tower.wiring` names for it. No business logic lives here."""
