"""What may enter the warehouse about a customer: a salted hash of the id and a ZIP prefix, no more."""

from __future__ import annotations

import hashlib
import hmac


def customer_hash(salt: str, customer_id: str | int | None) -> str | None:
    """HMAC-SHA256 of the customer id with the brand's salt (hex); None when there is no customer.

    A per-brand salt means the same person has different hashes at two brands, so the warehouse
    cannot join customers across brands.
    """
    if customer_id in (None, ""):
        return None
    return hmac.new(salt.encode(), str(customer_id).encode(), hashlib.sha256).hexdigest()


def zip_prefix(zip_code: str | None, length: int = 3) -> str | None:
    """The first characters of a postal code (US ZIP3), upper-cased, without spaces."""
    if not zip_code:
        return None
    return zip_code.replace(" ", "").upper()[:length] or None
