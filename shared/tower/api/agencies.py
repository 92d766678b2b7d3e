"""``/api/agencies``: registering agencies and attaching brands to them, with an operator key.

Who may: the operator's key (``tower api-key create --operator``) only. An agency key cannot attach a
brand to itself, or any agency could read any brand it named; a brand key belongs to the merchant, not
to an agency. Both get 403 naming the key they need. The page's agency screens call these.
"""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from tower.agencies import BadAgency, add_agency, attach_brands, get_agency, list_agencies
from tower.api.auth import check_operator
from tower.api.errors import ApiError
from tower.api.openapi import operation
from tower.api.request import current_caller, current_now, current_runtime, json_body
from tower.api.schemas import AgencyBody, AttachBody

bp = Blueprint("agencies", __name__, url_prefix="/api/agencies")


@bp.get("")
@operation("Every agency and its brands (operator key).", response="Agencies", errors=(403,), tag="agency")
def agencies_list() -> ResponseReturnValue:
    """The agencies, by id."""
    check_operator(current_caller(), "list agencies")
    return {"agencies": list_agencies(current_runtime().store)}


@bp.post("")
@operation("Register an agency, or rename it (operator key).", response="Agency", body=AgencyBody,
           errors=(400, 403), tag="agency")
def agencies_add() -> ResponseReturnValue:
    """201 with the new agency, or 200 with the renamed one (the same request twice changes nothing more)."""
    check_operator(current_caller(), "register an agency")
    body = json_body(AgencyBody)
    try:
        doc, created = add_agency(current_runtime().store, body.agency_id, body.name, current_now())
    except BadAgency as e:
        raise ApiError(400, "invalid_agency", str(e)) from None
    return doc, 201 if created else 200


@bp.post("/<agency_id>/brands")
@operation("Attach registered brands to an agency (operator key).", response="Agency", body=AttachBody,
           errors=(400, 403, 404), tag="agency")
def agencies_attach(agency_id: str) -> ResponseReturnValue:
    """The agency with its brands afterwards; a brand attached to another agency before moves here."""
    check_operator(current_caller(), "attach brands to an agency")
    body = json_body(AttachBody)
    runtime = current_runtime()
    try:
        get_agency(runtime.store, agency_id)
    except BadAgency as e:
        raise ApiError(404, "not_found", str(e)) from None
    try:
        return attach_brands(runtime.warehouse, runtime.store, agency_id, body.brand_ids, current_now())
    except BadAgency as e:
        raise ApiError(400, "invalid_brand", str(e)) from None
