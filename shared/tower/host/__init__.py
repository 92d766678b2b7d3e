"""The local host: the whole system in one process on the embedded default (``tower serve``).

``server.py`` serves the API (and the page) and every function target through gunicorn, as
functions-framework serves them on Cloud Run; ``pumps.py`` drains the local task queue and bus in
threads, as Cloud Tasks and Pub/Sub deliver them; ``scheduler.py`` fires the schedule Terraform
declares (the ``schedule:<cron>`` entries of :mod:`tower.wiring`). Each is started in the worker
that owns the runtime and stopped when it exits, so a restart resumes from the durable queues.
"""
