"""Cloud Function entry points: thin modules that decode a request, CloudEvent or task and call the
library (``tower.pipeline`` and friends). No business logic lives here."""
