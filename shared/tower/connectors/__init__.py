"""Connectors: real platform SDK calls in, typed records out.

Each connector has the same shape (``client.py`` for the SDK or HTTP session, auth, paging and
rate-limit signals; ``streams.py`` for the declared streams; ``records.py`` for the typed records
out). Connectors know nothing of the warehouse; loaders know nothing of the platforms.
"""
