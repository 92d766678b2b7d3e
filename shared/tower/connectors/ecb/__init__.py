"""The European Central Bank's euro foreign exchange reference rates: public daily XML, no key.

``client.py`` fetches the feeds (``eurofxref-daily.xml``: the latest working day;
``eurofxref-hist-90d.xml``: the last 90 days, newest first) from ``TOWER_ECB_ORIGIN``; ``records.py``
reads them into typed rates ("1 EUR = rate X" per TARGET working day, about 30 currencies). Cross
rates between two other currencies go through the euro; the models derive them
(``int_fx__rates_to_store``), so only what the ECB publishes is stored.
"""
