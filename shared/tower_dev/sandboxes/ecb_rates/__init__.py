"""A local stand-in for the ECB's euro reference-rate feeds (``/stats/eurofxref/…``)."""
