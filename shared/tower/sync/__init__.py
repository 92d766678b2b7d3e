"""Loaders: what the platforms' records become in the warehouse, and the state that makes it resumable.

``state.py`` (the one ``sync_state`` module: cursors, checkpoints, errors), ``run.py`` (what every
sync run is given: ports and options), ``shopify.py`` (the Shopify sync) with ``shopify_bulk.py``
(loading a bulk export block by block), ``ads.py`` (the Meta, TikTok and Google Ads sync),
``webhooks.py`` (Shopify deliveries), ``privacy.py`` (redaction and suppression), ``connect.py``
(integrations and the secrets behind them), ``install.py`` and ``shopify_tokens.py`` (installing the
Shopify app, its expiring tokens), ``oauth_common.py`` (the refusal and app credentials every OAuth
flow shares). Loaders know the warehouse, not the platforms' wire
formats: that is :mod:`tower.connectors`.
"""
