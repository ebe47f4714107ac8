"""Chargebee for the contract kit: the API key as the HTTP Basic user, the
`{message, api_error_code, error_code, http_status_code}` error object, and
exports triggered by one POST per kind (form bodies, the least each requires),
answered as `{"export": …}`, `in_process → completed | failed`, whose
`download.download_url` serves a zip of CSVs without the key (a wrong token:
403) and stays valid until `valid_till`. Chargebee has no list or delete of
exports."""

from __future__ import annotations

from ...contract.dialect import BadRequest, Credentials, Dialect, Download, ErrorShape, Expect, ExportProtocol, Statuses

ORDERS = "export-orders"
ORDER_FILTERS = {"order": {"status": {"in": ["queued", "shipped", "delivered"]}}, "total": {"gte": "1000"}}

CONTRACT = Dialect(
    name="chargebee",
    credentials=Credentials("basic", scheme="BasicAuth"),
    errors=ErrorShape(
        required=("message", "api_error_code", "error_code", "http_status_code"), status_field="http_status_code"
    ),
    exports=ExportProtocol(
        statuses=Statuses(pending=("in_process",), running=(), done="completed", failed="failed"),
        wrapper="export",
        url="download.download_url",
        later=(("download.valid_till", "created_at"),),
        download_operation="download-export",
        media="application/zip",
        wrong_token_status=(403,),
        unknown_id="__test__" + "0" * 24,
        downloads=(
            Download(
                body=ORDER_FILTERS,
                operation=ORDERS,
                wrong_token=True,
                expect=(
                    Expect("status", "order[status][in]", tuple(ORDER_FILTERS["order"]["status"]["in"])),
                    Expect("total", "total[gte]", floor=float(ORDER_FILTERS["total"]["gte"])),
                ),
            ),
        ),
        download_every_kind=True,
        bad_requests=(
            BadRequest({"order": {"status": {"is": "nope"}}}, "filter orders by an unknown status", operation=ORDERS),
            BadRequest({"order": {"nope": {"is": "x"}}}, "filter orders by an unknown attribute", operation=ORDERS),
        ),
    ),
    form_lists="json",
)
