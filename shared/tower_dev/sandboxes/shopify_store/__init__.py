"""The sandbox Shopify store: the synthetic world's shops behind Shopify's real Admin GraphQL API.

``server.serve_world(world, host, port)`` starts it; queries execute against Shopify's real
2026-04 schema (graphql-core), with opaque cursors, calculated query cost and a leaky bucket that
really throttles, bulk operations with a JSONL download, signed webhooks and switchable faults.
"""
