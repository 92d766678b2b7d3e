"""Shopify connector: the GraphQL Admin API through the ShopifyAPI package, typed records out.

``client.py`` (session, pacing, errors), ``streams.py`` (one declared stream per resource),
``records.py`` (rows in the warehouse tables' shape), ``bulk.py`` (the bulk export: start, poll,
download, columnar parse), ``webhooks.py`` (topics and signatures), ``scratch.py`` (private scratch
files). Storing any of it is :mod:`tower.sync` (the sync, the bulk load, webhook deliveries).
"""
