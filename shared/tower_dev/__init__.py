"""Development-only code of Control Tower, never deployed: the sandbox platforms, the synthetic
merchant world, the plain-Python reference model, sample data and the demo.

It imports :mod:`tower`; nothing in :mod:`tower` imports it (an import-linter contract and
``tests/unit/infra/test_package.py`` hold both). Its commands reach ``tower`` through the
``tower.plugins`` entry point (:mod:`tower_dev.cli`).
"""
