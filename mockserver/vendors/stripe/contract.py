"""Stripe for the contract kit: a secret key as `Authorization: Bearer`, the
`{"error": {type, message, code?, param?}}` object (no status field, no request
id), form bodies with indexed arrays (`parameters[columns][0]=…`), and report
runs that go `pending → succeeded | failed`, whose `result.url` serves the CSV
as text/csv with the key (a wrong key: 401). Each create first reads its report
type, so its interval lies inside the type's data (the last day before
`data_available_end`, which moves with the clock). Runs are read and listed by
meaning (mockserver/contract/meaning.py); Stripe has no delete.
"""

from __future__ import annotations

from ...contract import dialect as d

ERROR_TYPES = ("api_error", "card_error", "idempotency_error", "invalid_request_error")
DAY = 86_400
ITEMIZED = "balance_change_from_activity.itemized.1"
COLUMNS = ("created_utc", "net", "balance_transaction_id", "currency")

CONTRACT = d.Dialect(
    name="stripe",
    credentials=d.Credentials("bearer", scheme="SecretKey"),
    errors=d.ErrorShape(
        required=("type", "message"),
        envelope="error",
        text=("message",),
        optional_text=("code", "param"),
        choices={"type": ERROR_TYPES},
    ),
    exports=d.ExportProtocol(
        statuses=d.Statuses(pending=("pending",), running=(), done="succeeded", failed="failed"),
        kind_field="report_type",
        fields_field="parameters.columns",
        url="result.url",
        done_fields=("succeeded_at",),
        failed_fields=("error",),
        download_operation="download-file",
        media="text/csv",
        download_with_key=True,
        wrong_token_status=(401,),
        unknown_id="frr_" + "0" * 24,
        prepare=d.Prepare(
            "retrieve-report-type",
            "report_type",
            (
                ("parameters.interval_start", "data_available_end", -DAY),
                ("parameters.interval_end", "data_available_end", 0),
            ),
        ),
        downloads=(
            d.Download(
                body={"report_type": ITEMIZED, "parameters": {"columns": list(COLUMNS), "currency": "usd"}},
                fields=COLUMNS,
                wrong_token=True,
                expect=(
                    d.Expect("currency", "parameters[currency]", ("usd",)),
                    d.Expect(
                        "created_utc",
                        "parameters[interval_start]",
                        since="parameters.interval_start",
                        before="parameters.interval_end",
                    ),
                ),
            ),
        ),
        download_every_kind=True,
        bad_requests=(
            d.BadRequest({"report_type": "no.such.type.1"}, "create a run of an unknown report type"),
            d.BadRequest({"parameters": {"nope": "1"}}, "create a run with an unknown parameter", with_kind=True),
        ),
    ),
    form_lists="indexed",
    unstated_rules={
        "positive_data_acceptance": (
            "Stripe refuses schema-valid requests by rules no OpenAPI schema states: an interval outside the report "
            "type's data_available_start/end (they move with the clock), starting_after with ending_before; "
            "name it in --checks to run it anyway"
        )
    },
)
