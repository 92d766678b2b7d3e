"""Local stand-ins for every platform, speaking each one's wire format on 127.0.0.1.

Named after what they imitate, never after the SDK packages (``shopify``, ``anthropic``...), so no
sandbox module can shadow the real SDK the connectors drive against it.
"""
