"""The API's request bodies (validated with pydantic) and the response shapes its OpenAPI document names.

Request bodies are strict (``"true"`` is not a boolean) and refuse unknown fields, so a typo in a
field name is a 400 naming it rather than a silently ignored option. Response schemas describe the
product plan's shapes; they allow extra properties because cards and alerts carry the data behind
them (metrics, campaigns, breakdowns), which may grow without breaking a client.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tower.ai.question import MAX_QUESTION_CHARS
from tower.names import PLATFORMS


class _Body(BaseModel):
    # defer_build: each model's validator is built on its first use, not at import (the api's cold start).
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class AcceptBody(_Body):
    """``POST …/accept``: apply the recommendation's budget changes, or only show them."""

    dry_run: bool = Field(default=False, description="Ask each platform what would change; change nothing.")


class DismissBody(_Body):
    """``POST …/dismiss``: hide the recommendation, saying why."""

    reason: str = Field(min_length=1, max_length=500, description="Why it is dismissed (kept with the decision).")


class UndoBody(_Body):
    """``POST …/undo``: restore the budgets the recommendation changed (no fields)."""


class AskBody(_Body):
    """``POST …/ask``: a question about the brand, answered with figures from the warehouse."""

    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="The question, in plain words.")


class AdAccountsBody(_Body):
    """``POST …/integrations/{platform}/accounts``: connect these accounts of the brand's grant."""

    account_ids: list[str] = Field(min_length=1, max_length=100,
                                   description="Ids from GET …/integrations/{platform}/accounts.")


class AdConfirmBody(_Body):
    """``POST …/integrations/{platform}/authorization/confirm``: the embedded app confirms a pending grant."""

    pending: str = Field(min_length=1, max_length=100,
                         description="The pending id the authorization's return into the Shopify admin carried.")


class AgencyBody(_Body):
    """``POST /api/agencies``: register an agency (or rename it)."""

    agency_id: str = Field(min_length=1, max_length=63, description="Lower-case letters, digits, '-' or '_'.")
    name: str = Field(min_length=1, max_length=200, description="Display name.")


class AttachBody(_Body):
    """``POST /api/agencies/{agency_id}/brands``: attach registered brands to the agency."""

    brand_ids: list[str] = Field(min_length=1, max_length=500, description="Registered brands' ids.")


class SettingsBody(_Body):
    """``PUT /api/brands/{brand_id}/settings``: set and unset what only the merchant knows."""

    model_config = ConfigDict(extra="forbid", strict=False)

    set: dict[str, float | int | str] = Field(default_factory=dict, description="Name → value, e.g. "
                                              "{\"fulfillment_cost_per_order\": 6.5, \"rules.reduce_roas_below\": 2}.")
    unset: list[str] = Field(default_factory=list, description="Names taken back to the deployment's default.")


class RegionRuleBody(_Body):
    """``PUT /api/brands/{brand_id}/location-regions/{region_code}``: which location serves the region."""

    model_config = ConfigDict(extra="forbid", strict=False)

    location_id: str = Field(min_length=1, max_length=200, description="The location's id, number or name.")
    fulfillment_cost: float | None = Field(default=None, ge=0, description="Per-order fulfilment cost to the "
                                           "region, store currency.")


class RecipientBody(_Body):
    """``POST /api/agency/recipients``: add a recipient to the caller's agency, or change it."""

    recipient_id: str = Field(min_length=1, max_length=63, description="Lower-case letters, digits, '-' or '_'.")
    channel: str = Field(description="email or slack (a Slack recipient here posts with the bot token).")
    address: str = Field(min_length=1, max_length=254, description="E-mail address, or the Slack channel (#growth).")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone of the quiet hours and budget.")
    quiet_hours: str | None = Field(default=None, max_length=11, description="On the recipient's clock: 22:00-07:00.")
    daily_budget: int = Field(default=10, ge=0, le=1000, description="Alerts a day; the rest go into the digest.")
    min_severity: str = Field(default="low", description="critical, high, medium or low.")
    alerts: bool = Field(default=True, description="Send alerts as they are raised.")
    digest: bool = Field(default=True, description="Send the weekly digest.")


class MuteBody(_Body):
    """``POST /api/agency/recipients/{recipient_id}/mutes``: mute, or snooze, a brand's alert type."""

    brand_id: str = Field(default="*", min_length=1, max_length=200, description="Brand id, * for every brand.")
    alert_type: str = Field(default="*", min_length=1, max_length=100, description="Alert type, * for every type.")
    snooze_hours: int | None = Field(default=None, ge=1, le=24 * 90, description="Snooze this long (default: mute).")


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        out["required"] = required
    return out


_NUM = {"type": "number"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_FIGURES = _obj({"spend": _NUM, "revenue": _NUM, "roas": _NUM_OR_NULL})
_PERIOD = _obj({"total_spend": _NUM, "total_revenue": _NUM, "blended_roas": _NUM_OR_NULL,
                "by_channel": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Figures"}}})

_VOCAB_PERIOD = _obj({"name": _STR, "start_date": _STR, "end_date": _STR, "last_day": _STR, "days": {"type": "integer"},
                      "label": _STR}, ["name", "start_date", "end_date", "last_day", "days", "label"],
                     description="A period as the shared vocabulary (tower.periods) names it; end_date is exclusive.")
_TILE = _obj({"value": _NUM_OR_NULL, "previous": _NUM_OR_NULL, "change_pct": _NUM_OR_NULL,
              "unit": {"enum": ["money", "ratio", "percent", "count"]}}, ["value", "unit"])
_RANGE_EXAMPLE = {
    "start": "2026-11-16", "end": "2026-11-23", "last_day": "2026-11-22",
    "label": "the period (Nov 16 – Nov 22, 2026)", "compare": "previous_period", "compare_start": "2026-11-09",
    "compare_end": "2026-11-16", "compare_label": "the 7 days before (Nov 9 – Nov 15, 2026)",
    "period": {"name": "custom", "start_date": "2026-11-16", "end_date": "2026-11-23", "last_day": "2026-11-22",
               "days": 7, "label": "the period (Nov 16 – Nov 22, 2026)"},
    "comparison": {"name": "previous_period", "start_date": "2026-11-09", "end_date": "2026-11-16",
                   "last_day": "2026-11-15", "days": 7, "label": "the 7 days before (Nov 9 – Nov 15, 2026)"},
}

_INVITATION_EXAMPLE = {"brand_id": "fjord-knits", "invitation_id": "9f2c41d07ab35e18", "email": "ana@fjordknits.example",
                       "role": "merchant_viewer", "expires_at": "2026-12-09T08:00:00+00:00", "sent": True,
                       "send_error": None}
_PENDING = _obj({"invitation_id": _STR, "agency_id": _STR, "brand_id": _STR, "email": _STR, "role": _STR,
                 "invited_by": _STR_OR_NULL, "created_at": _STR, "expires_at": _STR},
                ["invitation_id", "email", "role", "expires_at"])
_MEMBER = _obj({"uid": _STR, "email": _STR, "role": {"enum": ["merchant_owner", "merchant_viewer", "agency_admin",
                                                             "agency_member"]},
                "joined_at": _STR_OR_NULL, "invited_by": _STR_OR_NULL}, ["uid", "email", "role"])
_TEAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "Team": _obj({"agency_id": _STR, "brand_id": _STR, "members": {"type": "array", "items": _MEMBER},
                  "invitations": {"type": "array", "items": _PENDING}}, ["members", "invitations"],
                 examples=[{"brand_id": "fjord-knits", "members": [
                     {"uid": "Xq3bG7kP2mVn8sLw4tYh1cRd9aE5", "email": "ola@fjordknits.example", "role": "merchant_owner",
                      "joined_at": "2026-12-01T09:30:00+00:00", "invited_by": "user:operator"}],
                     "invitations": [{**{k: v for k, v in _INVITATION_EXAMPLE.items() if k not in ("sent", "send_error")},
                                      "invited_by": "user:Xq3bG7kP2mVn8sLw4tYh1cRd9aE5",
                                      "created_at": "2026-12-02T08:00:00+00:00"}]}]),
    "RemovedMember": _obj({"removed": {"type": "boolean"}, "member": _obj({"uid": _STR, "email": _STR, "role": _STR}),
                           "sessions_ended": {"type": "integer", "description": "The member's sessions ended now."}},
                          ["removed", "member", "sessions_ended"]),
    "RevokedInvitation": _obj({"removed": {"type": "boolean"}, "invitation": _PENDING}, ["removed", "invitation"]),
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": _obj({"error": _obj({"code": _STR, "message": _STR,
                                  "fields": {"type": "object", "additionalProperties": _STR},
                                  "conflicts": {
                                      "type": "array",
                                      "description": "409 budget_changed / later_change_applied: per campaign, "
                                                     "the budget recorded, the platform's current one and the "
                                                     "later change still applied, if any.",
                                      "items": _obj({"platform": _STR, "account_id": _STR, "campaign_id": _STR,
                                                     "recorded": _NUM_OR_NULL, "current": _NUM_OR_NULL,
                                                     "later_change_id": _STR, "later_recommendation_id": _STR})}},
                                 ["code", "message"])}, ["error"]),
    "ShopifyInstall": _obj({"brand_id": _STR, "shop": _STR, "scopes": {"type": "array", "items": _STR},
                            "webhooks": {"type": ["object", "null"], "description": "Topics subscribed by this "
                                         "install (created) and found already subscribed (existing); null when "
                                         "TOWER_SHOPIFY_WEBHOOK_URL is not set.",
                                         "properties": {"created": {"type": "array", "items": _STR},
                                                        "existing": {"type": "array", "items": _STR}}}},
                           ["brand_id", "shop", "scopes"]),
    "Onboarding": _obj({"brand_id": _STR, "current": _STR_OR_NULL, "complete": {"type": "boolean"},
                        "steps": {"type": "array", "items": _obj(
                            {"id": {"enum": ["install", "shopify", "subscribe", "ads", "sync", "dashboard"]},
                             "title": _STR, "state": {"enum": ["done", "current", "todo", "error"]}, "detail": _STR,
                             "error": {"type": ["object", "null"], "properties": {"code": _STR, "message": _STR,
                                                                                  "fix": _STR}}},
                            ["id", "title", "state", "detail", "error"])}},
                       ["brand_id", "current", "complete", "steps"]),
    "SyncProgress": _obj({"brand_id": _STR, "platforms": {"type": "array", "items": _obj(
        {"platform": _STR, "status": {"enum": ["not_started", "running", "ok", "failed", "needs_reauth"]},
         "stage": _STR_OR_NULL, "rows": {"type": "integer"}, "started_at": _STR_OR_NULL,
         "eta_seconds": {"type": ["number", "null"], "description": "Work left over the rate so far; null "
                         "while there is nothing to measure it by."},
         "error": {"type": ["object", "null"], "properties": {"code": _STR, "message": _STR, "fix": _STR}}},
        ["platform", "status", "stage", "rows", "started_at", "eta_seconds", "error"])}}, ["brand_id", "platforms"]),
    "BillingPlan": _obj({"brand_id": _STR, "status": {"enum": ["exempt", "none", "pending", "active", "declined",
                                                               "cancelled", "expired", "frozen"]},
                         "name": _STR, "price": _obj({"amount": _STR, "currency": _STR, "interval": _STR}),
                         "trial_days": {"type": "integer"}, "test": {"type": "boolean"},
                         "current_period_end": _STR_OR_NULL, "subscription_id": _STR_OR_NULL},
                        ["brand_id", "status"]),
    "BillingSubscribe": _obj({"status": _STR, "confirmation_url": _STR_OR_NULL, "subscription_id": _STR_OR_NULL},
                             ["status", "confirmation_url"]),
    "Figures": _FIGURES,
    "Period": _PERIOD,
    "Brand": _obj({"brand_id": _STR, "brand_name": _STR, "currency": _STR, "timezone": _STR, "today": _STR}),
    "PerformanceSnapshot": _obj({
        **_PERIOD["properties"],
        "as_of_date": _STR_OR_NULL, "period_days": {"type": ["integer", "null"]}, "currency": _STR_OR_NULL,
        "previous_week": {"oneOf": [{"$ref": "#/components/schemas/Period"}, {"type": "null"}]},
        "changes": {"type": ["object", "null"], "description": "Percent changes against the previous period."},
    }),
    "Summary": _obj({"summary": _STR, "channel_performance": {"type": "object", "additionalProperties": _STR},
                     "inventory_insights": _STR, "week": _STR, "author": _STR, "grounding": _STR},
                    additionalProperties=True),
    "Recommendation": _obj({"id": _STR, "type": _STR, "priority": _STR, "status": _STR, "action": _STR,
                            "reason": _STR, "expected_impact": _STR, "recommended_change": _NUM,
                            "channel": _STR, "product": _STR, "week": _STR},
                           ["id", "type", "priority", "status", "action"], additionalProperties=True),
    "Alert": _obj({"id": _STR, "type": _STR, "severity": {"enum": ["critical", "high", "medium", "low"]},
                   "channel": _STR, "product": _STR, "title": _STR, "explanation": _STR,
                   "recommended_action": _STR, "status": _STR},
                  ["id", "type", "severity", "title"], additionalProperties=True),
    "Dashboard": _obj({
        "brand": {"$ref": "#/components/schemas/Brand"},
        "summary": {"oneOf": [{"$ref": "#/components/schemas/Summary"}, {"type": "null"}]},
        "recommendations": {"type": "array", "items": {"$ref": "#/components/schemas/Recommendation"}},
        "performance_snapshot": {"$ref": "#/components/schemas/PerformanceSnapshot"},
        "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}},
        "range": {"$ref": "#/components/schemas/Range"},
        "tiles": {"$ref": "#/components/schemas/Tiles"},
    }, ["summary", "recommendations", "performance_snapshot", "alerts"]),
    "VocabularyPeriod": _VOCAB_PERIOD,
    "Range": _obj({"start": {**_STR, "description": "First day (inclusive)."},
                   "end": {**_STR, "description": "The day after the last one (exclusive, as the query's end)."},
                   "last_day": {**_STR, "description": "Last day (inclusive)."}, "label": _STR,
                   "compare": {"enum": ["previous_period", "previous_year", "none"]},
                   "compare_start": _STR_OR_NULL,
                   "compare_end": {**_STR_OR_NULL, "description": "Exclusive, like end."},
                   "compare_label": _STR_OR_NULL,
                   "period": {"$ref": "#/components/schemas/VocabularyPeriod"},
                   "comparison": {"oneOf": [{"$ref": "#/components/schemas/VocabularyPeriod"}, {"type": "null"}]}},
                  ["start", "end", "last_day", "label", "compare", "period", "comparison"], examples=[_RANGE_EXAMPLE],
                  description="The range the figures cover and what they are compared with."),
    "Tile": _TILE,
    "Tiles": _obj({"blended_roas": {"$ref": "#/components/schemas/Tile"}, "mer": {"$ref": "#/components/schemas/Tile"},
                   "new_customer_revenue": {"$ref": "#/components/schemas/Tile"},
                   "profit": {"$ref": "#/components/schemas/Tile"}},
                  ["blended_roas", "mer", "new_customer_revenue", "profit"],
                  description="Blended ROAS (all store revenue / all ad spend), MER (ad spend as a percentage of "
                              "all store revenue), revenue of customers' first orders, profit (all store revenue - "
                              "COGS - fulfilment - ad spend), for the range and its comparison.",
                  examples=[{"blended_roas": {"value": 3.0, "previous": 2.5, "change_pct": 20.0, "unit": "ratio"},
                             "mer": {"value": 33.3, "previous": 40.0, "change_pct": -16.8, "unit": "percent"},
                             "new_customer_revenue": {"value": 250.0, "previous": 0.0, "change_pct": None,
                                                      "unit": "money"},
                             "profit": {"value": 120.0, "previous": 90.0, "change_pct": 33.3, "unit": "money"}}]),
    "Day": _obj({"date": _STR, "spend": _NUM, "revenue": _NUM, "orders": _NUM, "roas": _NUM_OR_NULL},
                ["date", "spend", "revenue", "orders", "roas"]),
    "Series": _obj({
        "metric": {"enum": ["spend", "revenue", "roas", "orders"]}, "currency": _STR, "channel": _STR_OR_NULL,
        "series": {"type": "object", "description": "Channel -> one point per day of the range (zero-filled).",
                   "additionalProperties": {"type": "array", "items": _obj({"date": _STR, "value": _NUM_OR_NULL},
                                                                            ["date", "value"])}},
        "days": {"type": "array", "items": {"$ref": "#/components/schemas/Day"},
                 "description": "Every figure per day, the channels summed."},
        "compare_days": {"type": "array", "items": {"$ref": "#/components/schemas/Day"},
                         "description": "The same for the comparison period (empty for compare=none)."},
        "range": {"$ref": "#/components/schemas/Range"},
    }, ["metric", "series", "days", "compare_days", "range"],
        examples=[{"metric": "spend", "currency": "USD", "channel": None,
                   "series": {"meta": [{"date": "2026-11-21", "value": 100.0}, {"date": "2026-11-22", "value": 50.0}]},
                   "days": [{"date": "2026-11-21", "spend": 100.0, "revenue": 300.0, "orders": 3.0, "roas": 3.0},
                            {"date": "2026-11-22", "spend": 50.0, "revenue": 0.0, "orders": 0.0, "roas": 0.0}],
                   "compare_days": [], "range": _RANGE_EXAMPLE}]),
    "Alerts": _obj({"alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}}}, ["alerts"]),
    "Recommendations": _obj({"week": _STR_OR_NULL, "recommendations": {
        "type": "array", "items": {"$ref": "#/components/schemas/Recommendation"}}}, ["recommendations"]),
    "ActionResult": _obj({"recommendation_id": _STR, "brand_id": _STR, "status": _STR, "changed": {"type": "boolean"},
                          "decision_id": _STR, "dry_run": {"type": "boolean"},
                          "changes": {"type": "array", "items": {"type": "object"}}, "message": _STR},
                         ["recommendation_id", "brand_id"], additionalProperties=True),
    "Figure": _obj({"label": _STR, "value": _NUM_OR_NULL, "unit": _STR_OR_NULL, "text": _STR_OR_NULL,
                    "check": {"enum": ["matched", "relocated"]},
                    "source": _obj({"query": {"type": "integer"}, "tool": _STR, "column": _STR,
                                    "row": {"type": "integer"}}, ["query", "column", "row"])},
                   ["label", "value", "source"],
                   example={"label": "Revenue, Sandalwood Rose Candle", "value": 6198.2, "unit": "USD",
                            "text": "$6,198", "check": "matched",
                            "source": {"query": 0, "tool": "top_products", "column": "revenue", "row": 0}}),
    "Answer": _obj({"question": _STR, "answer": _STR, "author": {"enum": ["claude", "narrator"]}, "grounding": _STR,
                    "queries": {"type": "array", "items": {"type": "object"}},
                    "figures": {"type": "array", "items": {"$ref": "#/components/schemas/Figure"}},
                    "dropped_figures": {"type": "array", "items": {"type": "object"}}}, ["question", "answer"]),
    "Drilldown": _obj({
        "channel": _STR, "as_of_date": _STR_OR_NULL,
        "performance": _obj({"total_spend": _NUM, "total_revenue": _NUM, "roas": _NUM_OR_NULL,
                             "by_geo": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Figures"}}}),
        "top_campaigns": {"type": "array", "items": _obj({"id": _STR, "name": _STR, "spend": _NUM,
                                                          "roas": _NUM_OR_NULL})},
        "inventory_alignment": _obj({"products_promoted": {"type": "array", "items": _STR},
                                     "mismatches": {"type": "array", "items": {"type": "object"}}}),
        "recommendations": {"type": "array", "items": _STR},
        "range": {"$ref": "#/components/schemas/Range"},
        "comparison_performance": {"type": ["object", "null"],
                                   "description": "performance over the comparison period (with a chosen range)."},
    }, ["channel", "performance", "top_campaigns", "inventory_alignment", "recommendations"]),
    "AgencyBrand": _obj({"brand_id": _STR, "brand_name": _STR, "health_score": {"type": "integer"},
                         "alerts": {"type": "integer"}, "opportunities": {"type": "integer"},
                         "status": {"enum": ["needs_attention", "opportunity", "stable"]},
                         "top_issue": _STR_OR_NULL}),
    "AgencyOverview": _obj({"agency": {"type": ["object", "null"]},
                            "brands": {"type": "array", "items": {"$ref": "#/components/schemas/AgencyBrand"}}},
                           ["brands"]),
    "Agency": _obj({"agency_id": _STR, "name": _STR, "brand_ids": {"type": "array", "items": _STR},
                    "created_at": _STR, "updated_at": _STR}, ["agency_id", "name", "brand_ids"]),
    "Agencies": _obj({"agencies": {"type": "array", "items": {"$ref": "#/components/schemas/Agency"}}},
                     ["agencies"]),
    "BrandSettings": _obj({"brand_id": _STR, "stored": {"type": "object"}, "effective": {"type": "object"}},
                          ["brand_id", "stored", "effective"]),
    "RegionRule": _obj({"country_code": _STR, "region_code": _STR, "location_id": _STR,
                        "fulfillment_cost_amount": _NUM_OR_NULL, "updated_at": _STR_OR_NULL},
                       ["region_code", "location_id"]),
    "RegionRules": _obj({"brand_id": _STR, "rules": {"type": "array",
                                                     "items": {"$ref": "#/components/schemas/RegionRule"}}},
                        ["brand_id", "rules"]),
    "Recipient": _obj({"recipient_id": _STR, "agency_id": _STR, "channel": {"enum": ["email", "slack"]},
                       "address": _STR, "slack_via": _STR, "timezone": _STR,
                       "quiet_hours": {"type": ["object", "null"]}, "daily_budget": {"type": "integer"},
                       "min_severity": _STR, "alerts": {"type": "boolean"}, "digest": {"type": "boolean"},
                       "unsubscribed": {"type": "array", "items": _STR},
                       "mutes": {"type": "array", "items": _obj({"brand_id": _STR, "alert_type": _STR,
                                                                 "until": _STR_OR_NULL})}},
                      ["recipient_id", "agency_id", "channel"]),
    "Delivery": _obj({"delivery_id": _STR, "kind": {"enum": ["alert", "digest"]}, "recipient_id": _STR,
                      "channel": _STR, "status": {"enum": ["sent", "held", "rolled", "skipped", "retrying", "dead"]},
                      "reason": _STR_OR_NULL, "title": _STR_OR_NULL, "attempts": {"type": "integer"},
                      "last_error": _STR_OR_NULL, "sent_at": _STR_OR_NULL, "updated_at": _STR},
                     ["delivery_id", "kind", "status"]),
    "Notifications": _obj({"agency_id": _STR,
                           "recipients": {"type": "array", "items": {"$ref": "#/components/schemas/Recipient"}},
                           "deliveries": {"type": "array", "items": {"$ref": "#/components/schemas/Delivery"}},
                           "counts": {"type": "object", "additionalProperties": {"type": "integer"}}},
                          ["agency_id", "recipients", "deliveries", "counts"]),
    "Unsubscribed": _obj({"recipient_id": _STR, "kind": {"enum": ["alerts", "digest", "all"]},
                          "unsubscribed": {"type": "array", "items": _STR}},
                         ["recipient_id", "kind", "unsubscribed"]),
    "SlackActionResult": _obj({"ok": {"type": "boolean"}, "action": _STR_OR_NULL, "message": _STR_OR_NULL},
                              ["ok"]),
    "Integration": _obj({
        "platform": {"enum": list(PLATFORMS)}, "account_id": _STR,
        "status": {"enum": ["connected", "needs_reconnect", "disconnected"]}, "state": _STR,
        "needs_reconnect": {"type": "boolean"}, "reconnect_reason": _STR_OR_NULL,
        "account_timezone": _STR_OR_NULL, "account_currency": _STR_OR_NULL, "connected_at": _STR_OR_NULL,
        "last_sync_at": _STR_OR_NULL, "last_sync_status": _STR_OR_NULL, "last_success_at": _STR_OR_NULL,
        "error": _STR_OR_NULL,
        "warnings": {"type": "array", "items": _obj({"code": _STR_OR_NULL, "message": _STR_OR_NULL})}},
        ["platform", "account_id", "status", "last_sync_at", "last_sync_status", "error"],
        example={"platform": "meta", "account_id": "act_1001", "status": "connected", "state": "active",
                 "account_timezone": "America/New_York", "account_currency": "USD",
                 "connected_at": "2026-11-01T09:00:00+00:00", "last_sync_at": "2026-12-05T17:00:03+00:00",
                 "last_sync_status": "ok", "last_success_at": "2026-12-05T17:00:03+00:00", "error": None,
                 "warnings": []}),
    "AdAuthorize": _obj({"authorize_url": _STR, "state_expires_at": _STR}, ["authorize_url", "state_expires_at"]),
    "AdAccounts": _obj({"accounts": {"type": "array", "items": _obj(
        {"id": _STR, "name": _STR_OR_NULL, "currency": _STR_OR_NULL, "time_zone": _STR_OR_NULL,
         "manager_id": {**_STR_OR_NULL, "description": "The Google Ads manager account the account is reached "
                        "through (its syncs sign in through it); null when reached directly."}},
        ["id", "name", "currency", "time_zone"])}}, ["accounts"]),
    "AdRevoked": _obj({"revoked": {"type": "boolean"}}, ["revoked"]),
    "AdConfirmed": _obj({"confirmed": {"type": "boolean"}, "brand_id": {"type": "string"},
                         "platform": {"type": "string"}}, ["confirmed", "brand_id", "platform"]),
    "AdConnected": _obj({"integrations": {"type": "array", "items": {"type": "object"}}}, ["integrations"]),
    "Integrations": _obj({"integrations": {"type": "array", "items": {"$ref": "#/components/schemas/Integration"}}},
                         ["integrations"]),
    "ProductRow": _obj({
        "product_id": _STR, "title": _STR_OR_NULL, "image_url": _STR_OR_NULL, "image_alt": _STR_OR_NULL,
        "available_units": {"type": "integer"},
        "days_of_cover": _NUM_OR_NULL, "spend": _NUM, "revenue": _NUM, "roas": _NUM_OR_NULL,
        "status": {"enum": ["spending_on_stockout", "overspending_low_stock", "underspending_overstock", "aligned"]}},
        ["product_id", "title", "available_units", "days_of_cover", "spend", "revenue", "roas", "status"],
        example={"product_id": "gid://shopify/Product/81001", "title": "Vanilla Bourbon Wax Melts",
                 "image_url": "https://cdn.shopify.com/s/files/1/0612/3456/7890/files/vanilla-bourbon-wax-melts.jpg?v=1700000000",
                 "image_alt": "Vanilla Bourbon Wax Melts", "available_units": 121, "days_of_cover": 30.2, "spend": 464.33, "revenue": 2108.69, "roas": 4.54,
                 "status": "aligned"}),
    "Products": _obj({"as_of_date": _STR_OR_NULL, "channel": _STR_OR_NULL,
                      "products": {"type": "array", "items": {"$ref": "#/components/schemas/ProductRow"}},
                      "range": {"$ref": "#/components/schemas/Range"}}, ["as_of_date", "channel", "products"]),
    "Decision": _obj({
        "id": _STR, "recommendation_id": _STR, "action": {"enum": ["accept", "undo", "dismiss"]},
        "requested_by": _STR_OR_NULL, "requested_at": _STR_OR_NULL, "status": _STR_OR_NULL,
        "completed_at": _STR_OR_NULL, "reason": _STR_OR_NULL,
        "changes": {"type": "array", "items": {"type": "object"}}, "results": {"type": "array", "items": {"type": "object"}}},
        ["id", "recommendation_id", "action", "status"],
        example={"id": "dec_rec_1_dismiss", "recommendation_id": "rec_1", "action": "dismiss",
                 "requested_by": "api:northstar", "requested_at": "2026-11-24T15:00:00+00:00", "status": "done",
                 "completed_at": None, "reason": "we are running a sale", "changes": [], "results": []}),
    "Decisions": _obj({"decisions": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}}},
                      ["decisions"]),
    "Removed": _obj({"removed": {"type": "boolean"}}, ["removed"]),
    "Principal": _obj({"name": _STR, "role": {"enum": ["merchant_owner", "merchant_viewer", "agency_admin",
                                                       "agency_member", "operator"]},
                       "agency_id": _STR_OR_NULL, "brand_ids": {"type": "array", "items": _STR},
                       "via": {"enum": ["api_key", "sign_in"]},
                       "brand_roles": {"type": "object", "additionalProperties": _STR,
                                       "description": "The role the principal acts with on each brand."}},
                      ["role", "agency_id", "brand_ids"]),
    "Session": _obj({"principal": {"$ref": "#/components/schemas/Principal"}, "csrf_token": _STR,
                     "expires_at": _STR_OR_NULL}, ["principal", "csrf_token"]),
    "AuthConfig": _obj({"project_id": _STR, "identity_toolkit_url": _STR, "api_key": _STR},
                       ["project_id", "identity_toolkit_url", "api_key"]),
    "ApiKey": _obj({"key_prefix": _STR, "name": _STR, "role": _STR, "agency_id": _STR_OR_NULL,
                    "brand_ids": {"type": "array", "items": _STR}, "operator": {"type": "boolean"},
                    "created_at": _STR_OR_NULL, "last_used_at": _STR_OR_NULL}, ["key_prefix", "name", "role"]),
    "ApiKeys": _obj({"api_keys": {"type": "array", "items": {"$ref": "#/components/schemas/ApiKey"}}}, ["api_keys"]),
    "NewApiKey": _obj({"api_key": _STR, "key": {"$ref": "#/components/schemas/ApiKey"}}, ["api_key", "key"]),
    "RevokedApiKey": _obj({"removed": {"type": "boolean"}, "key": {"$ref": "#/components/schemas/ApiKey"}},
                          ["removed", "key"]),
    "Invitation": _obj({"invitation": _obj({"agency_id": _STR, "brand_id": _STR, "invitation_id": _STR, "email": _STR,
                                            "role": _STR, "expires_at": _STR, "sent": {"type": "boolean"},
                                            "send_error": _STR_OR_NULL},
                                           ["invitation_id", "email", "role", "expires_at", "sent"],
                                           description="agency_id for an agency's invitation, brand_id for a brand's.",
                                           examples=[_INVITATION_EXAMPLE])}, ["invitation"]),
    **_TEAM_SCHEMAS,
    "Health": _obj({"status": {"const": "ok"}}, ["status"]),
    "OpenApiDocument": {"type": "object", "description": "An OpenAPI 3.1 document."},
}
