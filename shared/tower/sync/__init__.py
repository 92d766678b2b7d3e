"""Loaders: what the platforms' records become in the warehouse, and the state that makes it resumable.

``state.py`` (the one ``sync_state`` module: cursors, checkpoints, errors), ``shopify.py`` (the
Shopify sync), ``ads.py`` (the Meta, TikTok and Google Ads sync), ``webhooks.py`` (Shopify
deliveries), ``privacy.py`` (redaction and suppression), ``connect.py`` (integrations and the
secrets behind them). Loaders know the warehouse, not the platforms' wire formats: that is
:mod:`tower.connectors`.
"""
