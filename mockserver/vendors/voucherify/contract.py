"""Voucherify for the contract kit: X-App-Id/X-App-Token headers, the
`{code, key, message, details, request_id}` error object, and exports that go
SCHEDULED → IN_PROGRESS → DONE|ERROR, whose `result.url` serves the CSV as
text/plain with a token in the URL. The create operations, read, list and
delete are found by meaning (mockserver/contract/meaning.py)."""

from __future__ import annotations

from ...contract.dialect import BadRequest, Credentials, Dialect, Download, ErrorShape, Expect, ExportProtocol, Statuses

ORDER_FIELDS = ("id", "status", "amount", "created_at")
PAID_ORDERS = {
    "exported_object": "order",
    "parameters": {
        "fields": list(ORDER_FIELDS),
        "order": "-created_at",
        "filters": {"status": {"conditions": {"$in": ["PAID"]}}},
    },
}

CONTRACT = Dialect(
    name="voucherify",
    credentials=Credentials("headers", id_header="X-App-Id", token_header="X-App-Token"),
    errors=ErrorShape(
        required=("code", "key", "message", "details", "request_id"), status_field="code", request_id_field="request_id"
    ),
    exports=ExportProtocol(
        statuses=Statuses(pending=("SCHEDULED",), running=("IN_PROGRESS",), done="DONE", failed="ERROR"),
        kind_field="exported_object",
        fields_field="parameters.fields",
        url="result.url",
        media="text/plain",
        wrong_token_status=(401,),
        list_query={"limit": 100, "order": "-created_at"},
        unknown_id="exp_" + "0" * 24,
        downloads=(
            Download(
                body=PAID_ORDERS,
                fields=ORDER_FIELDS,
                expect=(Expect("status", "status", ("PAID",)),),
                order="-created_at",
                wrong_token=True,
            ),
            Download(body={"exported_object": "order"}),
        ),
        bad_requests=(
            BadRequest({"exported_object": "no-such-object"}, "create an export of an unknown object"),
            BadRequest({"parameters": {"fields": ["nope"]}}, "create an export with an unknown field", with_kind=True),
        ),
    ),
    default_contract=True,
)
