"""A campaign's daily budget on its platform: read it, and set it then read it back.

The calls are each connector's own (:class:`~tower.connectors.ad_platforms.AdConnector`):

* Meta: ``POST /{campaign_id}`` with ``daily_budget`` in minor units (a campaign whose budgets live
  on its ad sets has none of its own); read with ``GET /{campaign_id}?fields=daily_budget``;
* TikTok: ``POST /open_api/v1.3/campaign/update/`` with ``budget`` (``BUDGET_MODE_DAY`` campaigns);
  read with ``campaign/get``;
* Google Ads: ``CampaignBudgetService.MutateCampaignBudgets`` with ``amount_micros`` (a budget
  shared with other campaigns is refused); read as ``campaign_budget.amount_micros`` by GAQL.

What they share lives here: amounts to the account currency's minor unit. Whether a change may be
made, its bounds and its audit are :mod:`tower.decisions.budget_writes`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from tower.connectors.ad_platforms import AdConnector
from tower.connectors.ads_records import minor_digits


def minor_quantum(currency: str) -> Decimal:
    """The currency's minor unit as a quantum (USD ``0.01``, JPY ``1``)."""
    return Decimal(1).scaleb(-minor_digits(currency))


def to_minor_unit(amount: Decimal, currency: str) -> Decimal:
    """An amount rounded (half to even) to the currency's minor unit."""
    return amount.quantize(minor_quantum(currency), rounding=ROUND_HALF_EVEN)


def current_daily_budget(connector: AdConnector, campaign_id: str) -> Decimal | None:
    """The campaign's daily budget now, to the account currency's minor unit (None: it has none of its own).

    Raises:
        NeedsReauth: The token was rejected.
        FatalError: The platform refused the read (unknown campaign...), or kept failing.
    """
    current = connector.get_daily_budget(campaign_id)
    if current is None:
        return None
    return to_minor_unit(Decimal(current), connector.account_info().currency)


def set_daily_budget(connector: AdConnector, campaign_id: str, amount: Decimal) -> Any:
    """Set the campaign's daily budget and return what the platform holds afterwards.

    Raises:
        NeedsReauth: The token was rejected.
        FatalError: The platform refused the change, or kept failing.
    """
    connector.set_daily_budget(campaign_id, amount)
    return connector.get_daily_budget(campaign_id)
