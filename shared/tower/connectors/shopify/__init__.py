"""Shopify connector: the GraphQL Admin API through the ShopifyAPI package, typed records out.

``client.py`` (session, pacing, errors), ``streams.py`` (one declared stream per resource),
``records.py`` (rows in the warehouse tables' shape), ``bulk.py`` (bulk-operation backfill),
``sync.py`` (the resumable sync a function or the CLI runs), ``webhooks.py`` (HMAC, topics, privacy).
"""
