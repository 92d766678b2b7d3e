"""The parts of ``bench/reliability.py`` (issue 12's R1–R7), one module per requirement.

``world`` builds the small synthetic world and the sandbox platforms every part runs on;
``fingerprint`` reduces a warehouse or a document store to what "the same state" means;
``faults`` (R1, with ``proxy`` and ``sync_worker``), ``redelivery`` (R2), ``webhooks`` (R3),
``schema_fuzz`` (R4), ``authz`` (R5), ``load`` (R6) and ``exposure`` (R7) each return a dict of
figures that ``bench/reliability.py`` merges into its one JSON line.
"""
