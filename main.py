"""Cloud Functions source root: one function per entry point of ``tower.wiring.ENTRY_POINTS``.

Each deployed function names one of these as its entry point; each is made in ``functions/`` by its
trigger kind. Importing this module imports functions-framework, the thin function modules and the
pipeline's handlers only: what a stage needs (vendor SDKs, the loaders, the models) loads inside the
calls that use it, so a cold start pays for what that function needs.
"""

import os
import sys

# The library lives under shared/ in the repository; the deployment zip puts it at the root.
_here = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(_here, "shared", "tower")):
    sys.path.insert(0, os.path.join(_here, "shared"))

from tower.logs import configure_logging

# Logs go to stderr as masked JSON lines (Cloud Logging reads one object a line); set up before the
# functions import, so the frameworks find a handler on the root logger and add none of their own.
configure_logging()

from functions import events, tasks, web
from tower.wiring import ENTRY_POINTS

_MODULE_OF_KIND = {"http": web, "queue": tasks, "schedule": tasks, "topic": events}

# functions-framework looks the target up as an attribute of this module.
globals().update({name: getattr(_MODULE_OF_KIND[e.kind], name) for name, e in ENTRY_POINTS.items()})

__all__ = list(ENTRY_POINTS)
