"""``/api/brands/<brand_id>/settings`` and ``…/location-regions``: what only the merchant knows.

Any key that covers the brand (its own, or its agency's) may read and change them: the fulfilment cost,
the thresholds (:mod:`tower.decisions.brand_settings`) and the region → location rules. Bad values
answer 400 naming them, and nothing is written; an unknown brand answers 403 like an out-of-scope one.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from tower.api.auth import check_scope
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.api.schemas import RegionRuleBody, SettingsBody
from tower.decisions.brand_settings import (
    BadSetting,
    apply_settings,
    brand_settings_view,
    region_rules,
    remove_region_rule,
    set_region_rule,
)

bp = Blueprint("brand_settings", __name__, url_prefix="/api/brands/<brand_id>")


@bp.before_request
def _brand_in_scope() -> None:
    if request.method != "OPTIONS":
        check_scope(current_caller(), str((request.view_args or {}).get("brand_id") or ""))


def _bad(e: BadSetting) -> ApiError:
    status = 404 if str(e).startswith("unknown brand") else 400
    return ApiError(status, "not_found" if status == 404 else "invalid_setting", str(e))


@bp.get("/settings")
@operation("The brand's settings: what it set, and the values in use.", response="BrandSettings",
           errors=(403, 404))
def settings_get(brand_id: str) -> ResponseReturnValue:
    """Every setting's value in use, and the ones the brand set itself."""
    runtime = current_runtime()
    try:
        return brand_settings_view(runtime.warehouse, runtime.store, runtime.settings, brand_id)
    except BadSetting as e:
        raise _bad(e) from None


@bp.put("/settings")
@operation("Set and unset the brand's settings (checked together; nothing written on a bad one).",
           response="BrandSettings", body=SettingsBody, errors=(400, 403, 404))
def settings_put(brand_id: str) -> ResponseReturnValue:
    """``{"set": {name: value}, "unset": [name]}``; the settings afterwards."""
    body = json_body(SettingsBody)
    runtime = current_runtime()
    try:
        return apply_settings(runtime.warehouse, runtime.store, runtime.settings, brand_id, values=body.set,
                              unset=body.unset, now=current_now())
    except BadSetting as e:
        raise _bad(e) from None


@bp.get("/location-regions")
@operation("The brand's region → location rules.", response="RegionRules", errors=(403, 404))
def regions_get(brand_id: str) -> ResponseReturnValue:
    """Which location serves each region with a rule."""
    try:
        return {"brand_id": brand_id, "rules": region_rules(current_runtime().warehouse, brand_id)}
    except BadSetting as e:
        raise _bad(e) from None


@bp.put("/location-regions/<region_code>")
@operation("Serve a region from a location (an override of where Shopify fulfils).", response="RegionRule",
           body=RegionRuleBody, errors=(400, 403, 404))
def regions_put(brand_id: str, region_code: str) -> ResponseReturnValue:
    """The rule as stored."""
    body = json_body(RegionRuleBody)
    try:
        return set_region_rule(current_runtime().warehouse, brand_id, region_code, body.location_id,
                               fulfillment_cost=body.fulfillment_cost, now=current_now())
    except BadSetting as e:
        raise _bad(e) from None


@bp.delete("/location-regions/<region_code>")
@operation("Remove a region's rule.", response="Removed", errors=(400, 403, 404))
def regions_delete(brand_id: str, region_code: str) -> ResponseReturnValue:
    """Whether there was a rule."""
    try:
        return {"removed": remove_region_rule(current_runtime().warehouse, brand_id, region_code)}
    except BadSetting as e:
        raise _bad(e) from None
