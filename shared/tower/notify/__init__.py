"""Notifications for agencies: alerts as they are raised and the weekly digest, by e-mail and Slack.

* :mod:`~tower.notify.recipients`: who is told what (recipients, their quiet hours, daily budget,
  mutes and snoozes) and each agency's white-label branding, in the document store;
* :mod:`~tower.notify.control`: whether one alert goes to one recipient now, is held for the next
  digest, or is dropped (severity, deduplication, mutes, quiet hours, the daily budget);
* :mod:`~tower.notify.deliveries`: the delivery log (every send, hold, retry and dead letter);
* :mod:`~tower.notify.links`: signed unsubscribe links;
* :mod:`~tower.notify.render`: the e-mails (jinja2, HTML and plain text) and the Slack Block Kit messages;
* :mod:`~tower.notify.mail` and :mod:`~tower.notify.slack`: sending them (SMTP; slack-sdk), and Slack's
  request signatures;
* :mod:`~tower.notify.alerts`: the ``notify`` function's handler (``tower-alerts-raised``).

The weekly digest itself is composed from the dashboard's own figures in :mod:`tower.digests`, above
the API. Secrets (SMTP password, Slack bot token and signing secret, webhook URLs, the link key) are
read from the secret store only, never from settings or documents.
"""
