"""The generic export protocol: create, status, list, cancel, delete and download, from annotations.

Each operation with an `x-mock` role gets one handler here; its request is read where the
role says (or where a field of the usual name is), the export goes through the neutral
ExportService (store, lifecycle, Prefer knobs), and the answer is the operation's response
schema filled from the export's view (render.py). Finished exports download from the
mock's file route (`<mount>/__files/<id>/<name>?token=…`, as signed storage URLs work)
or from an operation with the `download` role. With `x-mock.file-document` the file is a document
of its own (id, name, size, URL, expiry): nested in the export's answers and read by the `file` role.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property, partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from ... import data
from ...control.answers import SpecAnswers
from ...control.prefer import NOTHING, PREFER, creates_export
from ...errors import ApiError, not_found
from ...exports import ExportRecord, ExportService, Query
from ...findings import filter_findings
from ...respond import encoded_json_response, json_bytes, json_response, no_content, origin, stream
from ...spec import Operation, Spec
from ...store import TenantStore, VendorStore
from ...validation import Invalid
from ..base import Call, Handler
from . import expand, files, idempotency
from .annotations import Api, FileFormat, FilterMap, NotFound, Role
from .echo import echoed
from .paging import id_page, sort_of
from .render import NAMES, fill, merged, render, view_name
from .spool import Spool

if TYPE_CHECKING:  # the type only: a vendor module loads without the server core
    from ...services import Services


FILES = "/__files"  # under the vendor's first mount: where finished exports download from
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
FILE_ROLES = ("file", "download")  # the operations that take a file document's id (x-mock.file-document)


def dig(body: Any, path: str) -> Any:
    """The value at a dotted body path (None when any step is missing)."""
    for key in path.split("."):  # a dict (a JSON body's) before asking the ABC: five digs a create
        body = body.get(key) if type(body) is dict or isinstance(body, Mapping) else None
    return body


@dataclass
class Exports:
    """The handlers of one generic vendor's operations."""

    name: str
    spec: Spec
    api: Api
    roles: Mapping[str, Role]
    model: data.DataModel
    mount: str
    # the vendor's hooks: the engine filters of a create's body (None: as its role's `filters` say), and
    # how a contract problem the engine finds (a missing parameter) is worded
    filters_of: Callable[[Operation, Role, Mapping[str, Any]], dict | None] | None = None
    refuse: Callable[[Invalid, Operation | None], ApiError] | None = None
    account_of: Callable[[web.Request], str] | None = None  # the account a request names (x-mock.account)
    # a vendor whose files are not the engine's CSV of the export's rows writes them, as CSV (Stripe's reports), and
    # adds to what answers say of an export and of its file document what no annotation can (None: nothing)
    csv_of: Callable[[ExportRecord, Services], Callable[[], Iterator[bytes]]] | None = None
    # (extend_view also sees a stored resource's record: resources.py)
    extend_view: Callable[[Call, ExportRecord | Mapping[str, Any], dict], Awaitable[None]] | None = None
    extend_file: Callable[[Call, ExportRecord, dict], Awaitable[None]] | None = None
    # the stored resources' lists a file document embeds (`x-mock.resources.<name>.embed`; resources.py)
    embed: Callable[[Call, ExportRecord, dict], Awaitable[None]] | None = None
    spool: Spool = field(default_factory=Spool, init=False)  # files whose size a file document states

    def __post_init__(self) -> None:
        self._sized: dict[str, bool] = {}

    def handlers(self, own: Mapping[str, Handler] | None = None) -> dict[str, Handler]:
        """Every operation's handler (`own`'s first: the stored resources'), behind the idempotency keys and
        the checks of expand[] the API states."""
        made = idempotency.guard(self.operations(own), self.spec.operations, self.roles, self.api.idempotency)
        return expand.checking(made, self.spec.operations, self.api, self._refuse)

    def operations(self, own: Mapping[str, Handler] | None = None) -> dict[str, Handler]:
        """Every operation's own handler: `own`'s (a vendor's), else its role's, else its documented answer."""
        made: dict[str, Handler] = {}
        for op in self.spec.operations:
            role = self.roles.get(op.operation_id)
            if role is None:
                made[op.operation_id] = _from_spec(op)
                continue
            act = getattr(self, "document" if role.role == "file" else role.role)
            handler = partial(act, op, role)
            made[op.operation_id] = creates_export(_named(handler)) if role.role == "create" else _named(handler)
        made.update(own or {})
        return made

    # -- create ----------------------------------------------------------------------------------
    async def create(
        self,
        op: Operation,
        role: Role,
        call: Call,
        *,
        scope: Mapping[str, Any] | None = None,
        shown_filters: Mapping[str, Any] | None = None,
        fields_default: list[str] | None = None,
    ) -> web.Response:
        """Create an export as the role reads the body. A vendor's own create handler may add to it: rows
        pinned to what its path names (`scope`), the filters its echo shows (`shown_filters`), and the
        columns written when none are asked (`fields_default`; else the object's defaults)."""
        body = call.inputs.body if isinstance(call.inputs.body, Mapping) else {}
        if call.inputs.body is None:  # no body at all skipped the schema: its required parameters are missing
            self._required(op, body)
        service: ExportService = call.services.exports
        rules = self.api.idempotency if self.api.idempotency and self.api.idempotency.replay == "export" else None
        key = idempotency.presented(call, rules) if rules else None
        if rules is not None and key is not None:
            replayed = await idempotency.replayed_export(call, rules, key, body)
            if replayed is not None:
                headers = {rules.replayed_header: "true"} if rules.replayed_header else None
                return await self._answer(op, role, call, replayed, headers)
        await self._room(call)
        word, exported = self._object(op, role, body)
        obj = self.model.object(exported)
        fields = self._fields(role, body, obj, fields_default)
        name = self._text(role.name, "name", body)
        filters = self.filters_of(op, role, body) if self.filters_of else self.filters(role, body)
        if isinstance(role.filters, str):  # the engine's own filters: what they ask that is probably a mistake
            call.warn(filter_findings(obj, filters, "." + role.filters))
        order = self._order(role, body, obj)
        fmt_word, file = self._file(role, body)
        pinned = {attr: dig(body, path) for attr, path in role.scope.items() if dig(body, path)}
        pinned.update(scope or {})
        query = Query(
            fields=tuple(fields),
            order=order,
            filters=filters,
            scope=pinned or None,
            extra={
                "object": word,
                "name": name,
                "format": fmt_word,
                "file": [file.format, file.compression, file.name, file.member_name, file.media],
            },
        )
        prefer = call.request.get(PREFER, NOTHING)
        numeric = self._numeric_ids
        record = await service.create(
            call.store,
            exported,
            parameters=dict(body)
            if role.echo is None
            else echoed(role, body, fields, obj.orders, shown_filters if shown_filters is not None else filters),
            query=query,
            id_prefix=self.api.id_prefix or ("1" if numeric else ""),
            id_length=self.api.id_length if not numeric else min(self.api.id_length, 12),
            id_alphabet="0123456789" if numeric else None,
            rows=prefer.rows,
            mode=prefer.lifecycle,
            outcome=prefer.outcome or "done",
        )
        if rules is not None and key is not None:
            await idempotency.remember_export(call, rules, key, body, record.id)
        return await self._answer(op, role, call, record)

    def _required(self, op: Operation, body: Mapping) -> None:
        schema = next(iter(op.body_schemas.values()), None) or {}
        missing = [name for name in schema.get("required") or () if name not in body]
        if missing:
            problem = Invalid("body", "", f"{missing[0]!r} is a required property", kind="missing")
            raise self.refuse(problem, op) if self.refuse else _invalid(f"{missing[0]} is required", missing[0])

    def _refuse(self, problem: Invalid, op: Operation | None) -> ApiError:
        """A contract problem the engine finds, worded by the vendor (else plainly)."""
        return self.refuse(problem, op) if self.refuse else _invalid(problem.message, problem.path or None)

    async def _room(self, call: Call) -> None:
        """`max-in-process`: a tenant's exports in process at once, where they finish by themselves (under
        `poll` or `instant` the client moves them: an export it never polls would block it for good)."""
        limit = self.api.max_in_process
        if limit is None:
            return
        service: ExportService = call.services.exports
        busy = await service.in_process(call.store)  # exports the clock finishes (none under poll or instant)
        if len(busy) < limit:
            return
        # the true wait: a client retrying after Retry-After lands as soon as there is room, and no sooner
        first = min(service.lifecycle.finishes_at(record) for record in busy)
        wait = max(1, math.ceil(round(first - service.clock.now(), 3)))  # rounded: float noise adds no second
        raise ApiError(
            429,
            "too_many_requests",
            "Too many exports",
            f"{len(busy)} exports are already in process; at most {limit} are processed at a time. "
            "Retry once one has completed",
            headers={"Retry-After": str(wait)},
        )

    def _object(self, op: Operation, role: Role, body: Mapping) -> tuple[str, str]:
        objects = self.model.objects
        fixed = op.raw.get("x-exported-object")  # an operation that always exports one object
        if fixed is not None and role.object is None:
            return "", str(fixed)
        path = role.object or _field_named(body, "object")
        word = dig(body, path) if path else None
        if word is None:
            if len(objects) == 1:
                return "", next(iter(objects))
            raise _invalid(
                f"Name the object to export in `{path or 'object'}`; known: {', '.join(self._known_words())}", path
            )
        text = str(word)
        exported = self.api.objects.get(text) or (text if text in objects else None)
        exported = exported or next((name for name in objects if name.lower() == text.lower()), None)
        if exported is None or exported not in objects:
            raise _invalid(f"Unknown {path} {text!r}; known: {', '.join(self._known_words())}", path)
        return text, exported

    def _known_words(self) -> list[str]:
        return list(self.api.objects) or list(self.model.objects)

    def _fields(self, role: Role, body: Mapping, obj, default: list[str] | None = None) -> tuple[str, ...]:
        path = role.fields or _field_named(body, "fields")
        asked = dig(body, path) if path else None
        if not asked:
            return tuple(default or obj.default_fields)
        names = tuple(str(name) for name in (asked if isinstance(asked, list) else [asked]))
        unknown = [name for name in names if not obj.is_field(name)]
        if unknown:
            raise _invalid(f"{obj.name} has no property {unknown[0]!r}; known: {', '.join(obj.fields)}", path)
        return names

    def _text(self, path: str | None, meaning: str, body: Mapping) -> str | None:
        path = path or _field_named(body, meaning)
        value = dig(body, path) if path else None
        return None if value is None else str(value)

    def _file(self, role: Role, body: Mapping) -> tuple[str | None, FileFormat]:
        word = self._text(role.format, "format", body)
        if word is None or not self.api.formats:
            return word, self.api.file
        if word not in self.api.formats:
            return word, self.api.file
        chosen = self.api.formats[word]
        if chosen is None:
            served = [w for w, f in self.api.formats.items() if f is not None]
            raise _invalid(
                f"This mock does not write {word} files; it writes {', '.join(served)}", role.format or "format"
            )
        return word, chosen

    def filters(self, role: Role, body: Mapping) -> dict | None:
        """The engine's filters as the role's `filters` annotation reads the body."""
        if isinstance(role.filters, str):
            found = dig(body, role.filters)
            return found if isinstance(found, dict) else None
        if not isinstance(role.filters, FilterMap):
            return None
        spec, conditions = role.filters, dig(body, role.filters.at)
        engine: dict[str, dict] = {}
        for item in conditions if isinstance(conditions, list) else ():
            if not isinstance(item, Mapping):
                continue
            name, word = item.get(spec.field), item.get(spec.operator)
            ops = spec.operators.get(str(word), word)
            ops = ops if isinstance(ops, list) else [ops]
            values = item.get(spec.values)
            operands = [values if values is not None else item.get(spec.value), item.get(spec.high)]
            if operands[0] is None:
                operands[0] = True  # an operator without a value: has / has not a value
            target = engine.setdefault(str(name), {"conditions": {}})["conditions"]
            for op, operand in zip(ops, operands):
                target[str(op)] = operand
        return engine or None

    def _order(self, role: Role, body: Mapping, obj) -> str | None:
        value = dig(body, role.order) if role.order else None
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, Mapping):  # {propertyName, direction}
            name = next((v for k, v in value.items() if k.lower() in ("propertyname", "field", "property")), None)
            direction = str(next((v for k, v in value.items() if k.lower() in ("direction", "order")), ""))
            value = None if name is None else ("-" if direction.lower().startswith("desc") else "") + str(name)
        if value is None or value == "":  # an empty sort: none (Voucherify's own echo of no order)
            return None
        value = str(value)
        if value not in obj.orders:
            raise _invalid(f"{obj.name} cannot be sorted by {value!r}", role.order)
        return value

    # -- reading ---------------------------------------------------------------------------------
    async def status(self, op: Operation, role: Role, call: Call) -> web.StreamResponse:
        signed = self._signed_status
        if signed is not None and signed[0] is op and signed[2] in call.request.query:
            return await self._signed_file(op, role, call, call.request.query[signed[2]])
        status = role.status or _success(op)
        schema = _json_schema(op, status)
        export_id = self._id(op, role, call)
        if schema is None or self._sizes(op, role) or self.extend_view or self.extend_file or self.embed:
            return await self._answer(op, role, call, await self._get(op, role, call, export_id))
        request = call.request

        def answer(record: ExportRecord) -> bytes:
            return json_bytes(render(schema, self.view(record, request=request), record.parameters))

        # kept per revision of the record: a client polling an export nobody changed gets the same bytes
        try:
            kept = await call.services.exports.rendered(
                call.store, export_id, answer, (op.operation_id, origin(request))
            )
        except ApiError as exc:
            raise self._missing_export(exc, op, role, export_id) from None
        return encoded_json_response(kept, status=status)

    async def document(self, op: Operation, role: Role, call: Call) -> web.Response:
        """The `file` role: a finished export's file document (x-mock.file-document), by the file's id."""
        name = role.id or _id_param(op)
        record = await self.finished(call, call.store, str(call.inputs.path[name]), name)
        status = role.status or _success(op)
        if _json_schema(op, status) is None:
            return web.Response(status=status)
        return json_response(await self._document(op, role, record, call), status=status)

    async def file_answer(self, record: ExportRecord, call: Call) -> Any:
        """A finished export's file document as the `file` role's operation answers it (for a vendor's own
        handler: Stripe's list of files, a file link's expanded `file`)."""
        op, role = self._file_reader
        return await self._document(op, role, record, call)

    async def _document(self, op: Operation, role: Role, record: ExportRecord, call: Call) -> Any:
        size = await self.size(record, call) if self._sizes(op, role) else None
        view = self.file_view(record, origin(call.request), size)
        if self.extend_file is not None:
            await self.extend_file(call, record, view)
        if self.embed is not None:
            await self.embed(call, record, view)
        return render(_json_schema(op, role.status or _success(op)), view)

    async def status_answer(self, record: ExportRecord, call: Call) -> Any:
        """An export as the `status` operation answers it (a stored resource's expanded `refers`)."""
        op, role = next((op, role) for op, role in self._readers if role.role == "status")
        view = await self._view(op, role, record, call)
        return render(_json_schema(op, role.status or _success(op)), view, record.parameters)

    @cached_property
    def file_schema(self) -> dict:
        """The answer schema of the `file` role's operation: a file document's ({} without one)."""
        found = next(((op, role) for op, role in self._readers if role.role == "file"), None)
        return (_json_schema(found[0], found[1].status or _success(found[0])) or {}) if found else {}

    async def list(self, op: Operation, role: Role, call: Call) -> web.Response:
        given = {**call.request.query, **call.inputs.query}  # the declared ones as the document reads them
        paging = self.api.paging
        limit = _whole(given.get(paging.limit), paging.limit, 100)
        if paging.style == "id":
            return await self._id_list(op, role, call, given, limit)
        if paging.style == "page":
            start = (max(_whole(given.get(paging.page), paging.page, 1), 1) - 1) * limit
        else:
            cursor = next((n for n in ("offset", "after", "cursor") if given.get(n) not in (None, "")), "offset")
            start = _whole(given.get(cursor), cursor, 0)
        index, reverse = sort_of(given, paging, _index)
        page, total = await call.services.exports.listing(
            call.store, order=index, reverse=reverse, start=start, stop=start + limit
        )
        following = start + len(page) if start + len(page) < total else None
        listing = {
            "items": [await self._view(op, role, record, call) for record in page],
            "url": op.path,  # a list's own address (Stripe's `url`), not an export's download
            "total": total,
            "has_more": following is not None,
            "next": None if following is None else str(following),
        }
        return self._respond(op, role, call, listing)

    async def _id_list(self, op: Operation, role: Role, call: Call, given: Mapping, limit: int) -> web.Response:
        """A list paged after or before an export's id (`x-mock.paging: {style: id}`)."""
        records = await call.services.exports.list(call.store)
        triples = [(int(record.created_at), record.id, record) for record in records]  # epoch seconds
        noun = self.api.not_found["export"].noun if "export" in self.api.not_found else "export"
        page, more = id_page(triples, given, self.api.paging, noun, limit)
        listing = {
            "items": [await self._view(op, role, record, call) for record in page],
            "url": op.path,
            "total": len(records),
            "has_more": more,
            "next": page[-1].id if more and page and not given.get(self.api.paging.before) else None,
        }
        return self._respond(op, role, call, listing)

    async def cancel(self, op: Operation, role: Role, call: Call) -> web.Response:
        service: ExportService = call.services.exports
        export_id = self._id(op, role, call)
        try:
            record = await service.force(call.store, export_id, "failed", {"canceled": True})
        except ApiError as exc:
            raise self._missing_export(exc, op, role, export_id) from None
        return await self._answer(op, role, call, record)

    async def delete(self, op: Operation, role: Role, call: Call) -> web.Response:
        export_id = self._id(op, role, call)
        try:
            await call.services.exports.delete(call.store, export_id)
        except ApiError as exc:
            raise self._missing_export(exc, op, role, export_id) from None
        status = role.status or _success(op)
        return no_content() if status == 204 or not _json_schema(op, status) else json_response({}, status)

    async def download(self, op: Operation, role: Role, call: Call) -> web.StreamResponse:
        export_id = self._id(op, role, call)
        if role.auth == "token":  # a signed URL: refused with 403, as storage hosts refuse one
            try:
                record = await call.services.exports.for_download(
                    call.owners, export_id, str(call.request.query.get("token", ""))
                )
            except ApiError:
                raise ApiError(
                    403, "forbidden", "Forbidden", "This download URL is wrong, or its export unknown or unfinished"
                ) from None
            expires = self._expires_at(record)
            if expires is not None and call.services.clock.now() > expires:
                raise ApiError(403, "forbidden", "Forbidden", f"The download URL expired at {expires}; export again")
        elif self.api.document is not None:  # the file is a document: it exists once the export is done
            name = role.id or _id_param(op)
            record = await self.finished(call, call.store, str(call.inputs.path[name]), name)
        else:
            record = await self._get(op, role, call, export_id, polled=False)
            if record.phase != "done":
                raise ApiError(409, "not_ready", "Not ready", f"Export {export_id} is not finished: it has no file yet")
        return await self.send_file(call, record)

    async def send_file(self, call: Call, record: ExportRecord) -> web.StreamResponse:
        """A finished export's file, as its download sends it."""
        return await self._stream(call.request, record, call.services, call.owners)

    async def _signed_file(self, op: Operation, role: Role, call: Call, token: str) -> web.StreamResponse:
        """A `status` operation given its signed token: the finished export's file (401 for a wrong token or
        an unfinished export, as the operation's credentials are refused). An account a request names
        (`x-mock.account`) must be the export's."""
        account = self.account_of(call.request) if self.account_of is not None else None
        record = await call.services.exports.for_download(call.owners, self._id(op, role, call), token, account or None)
        return await self._stream(call.request, record, call.services, call.owners)

    async def file(self, services: Services, request: web.Request) -> web.StreamResponse:
        """The mock's file route: a finished export's file, opened by its URL's token alone."""
        owners = VendorStore(services.store, self.name)
        record = await services.exports.for_download(
            owners, request.match_info["export"], request.query.get("token", "")
        )
        return await self._stream(request, record, services, owners)

    async def _stream(
        self, request: web.Request, record: ExportRecord, services: Services, owners: VendorStore
    ) -> web.StreamResponse:
        file = self._file_of(record)
        packed = await self._body(record, services, owners)
        key = _spool_key(record)
        binary = file.compression != "none" or file.format == "xlsx"
        return await stream(
            request,
            lambda: self.spool.chunks(key) or packed(),  # the bytes a file document's size counted, if kept
            content_type=file.media_type,
            charset=None if binary else "utf-8",
            headers={"Content-Disposition": f'attachment; filename="{self.file_name(record)}"'},
        )

    async def _body(self, record: ExportRecord, services: Services, owners: VendorStore) -> Callable[[], Any]:
        """What writes the export's file, chunk by chunk (a synchronous function, for a worker thread)."""
        service: ExportService = services.exports
        file = self._file_of(record)
        if self.csv_of is not None:
            produce = self.csv_of(record, services)
        elif file.format == "csv":  # the engine's CSV as it writes it (its fast path)
            produce = await service.csv(owners, record)
        else:  # its rows, written as TSV or XLSX by files.packed
            produce = await service.table(owners, record)
        member = f"{self._stem(record, file.member_name or file.name)}.{file.member}"
        return _packer(produce, file, member, record.phase_at)

    # -- file documents --------------------------------------------------------------------------
    def file_id(self, export_id: str) -> str:
        """A finished export's file's id: the export's with `file-document.id-prefix` for `ids.prefix`."""
        doc, prefix = self.api.document, self.api.id_prefix
        if doc is None or doc.id_prefix is None:
            return export_id
        return doc.id_prefix + (export_id[len(prefix) :] if export_id.startswith(prefix) else export_id)

    def export_id_of(self, file_id: str) -> str | None:
        """The export whose file `file_id` is (None: no file id of this API)."""
        doc = self.api.document
        if doc is None or doc.id_prefix is None:
            return file_id
        return self.api.id_prefix + file_id[len(doc.id_prefix) :] if file_id.startswith(doc.id_prefix) else None

    def file_view(
        self,
        record: ExportRecord,
        base: str,
        size: int | None = None,
        *,
        url: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        """What a file document may say of a finished export's file (render.py fills its schema); `url` and
        `name` when the caller has them already."""
        doc, file, finished = self.api.document, self._file_of(record), record.phase_at
        name = name or self.file_name(record)
        return {
            "id": self.file_id(record.id),
            "export_id": record.id,
            "origin": base,
            "url": url or self.url(record, base),
            "name": name,
            "file_name": name,
            "created_at": finished,
            "updated_at": finished,
            "expires_at": finished + doc.expires if doc is not None and doc.expires else self._expires_at(record),
            "size": size,
            "format": file.format,
            "media_type": file.media_type,
            "rows": record.rows,
        }

    async def size(self, record: ExportRecord, call: Call) -> int:
        """The byte size of a finished export's file: known, or counted while the spool writes the file its
        downloads will send (in a worker thread)."""
        key = _spool_key(record)
        known = self.spool.known_size(key)
        if known is not None:
            return known
        body = await self._body(record, call.services, call.owners)
        return await asyncio.get_running_loop().run_in_executor(None, self.spool.size, key, body)

    async def _size_of(self, op: Operation, role: Role, record: ExportRecord, call: Call) -> int | None:
        """The file's size where `op`'s answer states it (a finished export's file document); else None."""
        return await self.size(record, call) if record.phase == "done" and self._sizes(op, role) else None

    def _sizes(self, op: Operation, role: Role) -> bool:
        """Whether `op`'s answer states a file document's size (found once per operation)."""
        found = self._sized.get(op.operation_id)
        if found is None:
            schema = _json_schema(op, role.status or _success(op)) or {}
            if role.role == "list" and schema:
                schema = _with_items(schema, role.items)[1]
            found = self._sized[op.operation_id] = _states_size(schema, document=role.role == "file")
        return found

    async def finished(self, call: Call, store: TenantStore, file_id: str, param: str = "file") -> ExportRecord:
        """The finished export of `store`'s tenant whose file `file_id` is; the file's 404 (x-mock.not-found,
        naming `param`) for any other id."""
        export_id, record = self.export_id_of(file_id), None
        if export_id is not None:
            try:
                record = await call.services.exports.get(store, export_id, polled=False)
            except ApiError as exc:
                if exc.status != 404:
                    raise
        if record is None or record.phase != "done":
            raise self.missing("file", file_id, param)
        return record

    async def _get(self, op: Operation, role: Role, call: Call, export_id: str, *, polled: bool = True) -> ExportRecord:
        try:
            return await call.services.exports.get(call.store, export_id, polled=polled)
        except ApiError as exc:
            raise self._missing_export(exc, op, role, export_id) from None

    def _missing_export(self, exc: ApiError, op: Operation, role: Role, export_id: str) -> ApiError:
        """An export's 404 worded as `x-mock.not-found.export` says (any other error as it is)."""
        if exc.status != 404 or "export" not in self.api.not_found:
            return exc
        return self.missing("export", export_id, role.id or _id_param(op))

    def missing(self, kind: str, ident: str, param: str | None = None) -> ApiError:
        """The 404 of a missing export or file (`kind`), as `x-mock.not-found` words it."""
        wording = self.api.not_found.get(kind)
        return not_found(kind, ident) if wording is None else missing_error(wording, ident, param)

    # -- answers ---------------------------------------------------------------------------------
    def view(
        self,
        record: ExportRecord,
        call: Call | None = None,
        request: web.Request | None = None,
        size: int | None = None,
    ) -> dict[str, Any]:
        """What an answer may say of an export (render.py fills response schemas from it)."""
        request = request or (call.request if call else None)
        phase, query = record.phase, record.query
        base = origin(request) if request is not None else ""
        canceled = bool(record.extra.get("canceled"))
        word = self.api.statuses.get("canceled" if canceled else phase, phase)
        done = phase == "done"
        url = self.url(record, base) if done else None
        file_name = self.file_name(record)
        view = dict.fromkeys(NAMES)
        view.update(
            id=record.id,
            phase=phase,
            canceled=canceled,
            status=word,
            origin=base,
            created_at=record.created_at,
            updated_at=record.phase_at,
            started_at=record.created_at if phase != "scheduled" else None,
            completed_at=record.phase_at if phase in ("done", "failed") else None,
            url=url,
            name=query.extra.get("name"),
            object=query.extra.get("object") or record.exported_object,
            exported_object=record.exported_object,
            fields=list(query.fields),
            format=query.extra.get("format"),
            rows=record.rows,
            expires_at=self._expires_at(record) if done else None,
            errors=0,
            file_name=file_name,
            request=record.parameters,
            file_id=self.file_id(record.id),
            # the file as a document (render.py)
            file=self.file_view(record, base, size, url=url, name=file_name) if done else None,
        )
        for name, op, role in self._offered_urls:  # {status_url}, {download_url} …: where the export is read
            view.setdefault(name, base + self._path(op, role, record.id))
        return view

    @cached_property
    def _offered_urls(self) -> list[tuple[str, Operation, Role]]:
        """The `<role>_url` view values the document names somewhere (an x-mock-value or a template): only
        those are worth making (three URLs a view cost Stripe's list of runs a sixth of its time)."""
        text = self.spec.text
        named = [(f"{role.role}_url", op, role) for op, role in self._readers]
        return [(name, op, role) for name, op, role in named if f'"{name}' in text or "{" + name + "}" in text]

    @cached_property
    def _readers(self) -> list[tuple[Operation, Role]]:
        """The operations that read one export (or its file), whose URLs a view offers."""
        return [
            (op, role)
            for op in self.spec.operations
            if (role := self.roles.get(op.operation_id)) is not None
            and role.role in ("status", "cancel", "delete", "download", "file")
        ]

    @cached_property
    def _download(self) -> tuple[Operation, Role] | None:
        """The operation with the `download` role (None: none)."""
        return next(((op, role) for op, role in self._readers if role.role == "download"), None)

    @cached_property
    def _file_reader(self) -> tuple[Operation, Role]:
        """The operation with the `file` role (a file document's answer: asked once per file of a list)."""
        return next((op, role) for op, role in self._readers if role.role == "file")

    def url(self, record: ExportRecord, base: str) -> str:
        signed = self._signed_status
        if signed is not None:  # the status operation answers the file when given its signed token
            op, role, param = signed
            return f"{base}{self._path(op, role, record.id)}?{param}={quote(record.token)}"
        if self.api.download == "operation" and self._download is not None:
            op, role = self._download
            path = base + self._path(op, role, record.id)
            return f"{path}?token={quote(record.token)}" if role.auth == "token" else path
        return (
            f"{base}{self.mount}{FILES}/{quote(record.id)}/{quote(self.file_name(record))}?token={quote(record.token)}"
        )

    @cached_property
    def _signed_status(self) -> tuple[Operation, Role, str] | None:
        """The `status` operation that also takes a signed URL's token (`x-mock-signed`, in the query), and
        the token's parameter: its URLs name it (Voucherify's Get Export); None when there is none."""
        schemes = self.spec.security_schemes
        for op in self.spec.operations:
            role = self.roles.get(op.operation_id)
            if role is None or role.role != "status":
                continue
            for requirement in op.security:
                for name in requirement:
                    scheme = schemes.get(name) or {}
                    if scheme.get("x-mock-signed") and scheme.get("in") == "query":
                        return op, role, str(scheme["name"])
        return None

    async def answer(self, op: Operation, call: Call, record: ExportRecord) -> web.Response:
        """The export as `op`'s answer says it: for a vendor's own handler answering in the engine's shape
        (its role's status, else the first 2xx the operation documents)."""
        return await self._answer(op, self.roles.get(op.operation_id) or Role("status"), call, record)

    def _file_of(self, record: ExportRecord) -> FileFormat:
        """The file an export is written as: as its create chose, else the API's (`x-mock.file`)."""
        chosen = record.query.extra.get("file")
        return FileFormat(*chosen) if chosen else self.api.file

    def file_name(self, record: ExportRecord) -> str:
        file = self._file_of(record)
        return f"{self._stem(record, file.name)}.{file.extension}"

    def _stem(self, record: ExportRecord, template: str | None = None) -> str:
        """A file's name without its extension: the `file` annotation's template, else the export's name."""
        fallback = f"export-{record.id}"
        if template is not None:
            values = {
                "id": record.id,
                "file_id": self.file_id(record.id),
                "object": record.query.extra.get("object") or record.exported_object,
                "exported_object": record.exported_object,
                "name": record.query.extra.get("name") or fallback,
            }
            name = _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), "")), template)
        else:
            name = record.query.extra.get("name") or fallback
        return _UNSAFE.sub("-", name).strip("-") or fallback

    def _expires_at(self, record: ExportRecord) -> int | None:
        """When a finished export's download URL stops working: `url-expires` after it finished."""
        return None if self.api.url_expires is None else int(record.phase_at + self.api.url_expires)

    async def _answer(
        self, op: Operation, role: Role, call: Call, record: ExportRecord, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        """The export as the operation's answer, echoing what its create asked."""
        return self._respond(op, role, call, await self._view(op, role, record, call), record.parameters, headers)

    async def _view(self, op: Operation, role: Role, record: ExportRecord, call: Call) -> dict[str, Any]:
        """The export's view for `op`'s answer: its file's size where the answer states it, and what the
        vendor adds (extend_view, extend_file)."""
        view = self.view(record, call, size=await self._size_of(op, role, record, call))
        if self.extend_view is not None:
            await self.extend_view(call, record, view)
        if self.extend_file is not None and view["file"] is not None:
            await self.extend_file(call, record, view["file"])
        if self.embed is not None and view["file"] is not None:
            await self.embed(call, record, view["file"])
        return view

    def _respond(
        self,
        op: Operation,
        role: Role,
        call: Call,
        view: Mapping,
        body: Mapping | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        status = role.status or _success(op)
        schema = _json_schema(op, status)
        if schema is None:
            return no_content() if status == 204 else web.Response(status=status)
        if role.role == "list":
            schema, items = _with_items(schema, role.items)
            view = {**view, "items": [render(items, item, item["request"]) for item in view["items"]]}
        return json_response(render(schema, view, body or {}), status=status, headers=headers)

    def _id(self, op: Operation, role: Role, call: Call) -> str:
        """The export id the path names (a file document's id for the `file` and `download` roles)."""
        name = role.id or _id_param(op)
        given = str(call.inputs.path[name])
        if role.role not in FILE_ROLES:
            return given
        export_id = self.export_id_of(given)
        if export_id is None:
            raise self.missing("file", given, name)
        return export_id

    def _path(self, op: Operation, role: Role, export_id: str) -> str:
        name = role.id or _id_param(op)
        ident = self.file_id(export_id) if role.role in FILE_ROLES else export_id
        return op.path.replace("{" + name + "}", quote(ident, safe=""))

    @cached_property
    def _numeric_ids(self) -> bool:
        """Whether the export id is a number in the paths that take one (HubSpot's `taskId: integer`): the
        spec's, so found once, not by a walk of every operation per create (13 µs of a POST's CPU)."""
        for op in self.spec.operations:
            role = self.roles.get(op.operation_id)
            if role is not None and role.role != "create" and role.role != "list":
                name = role.id or _id_param(op)
                param = next((p for p in op.parameters if p.name == name), None)
                if param is not None:
                    return param.schema.get("type") == "integer"
        return False


def missing_error(wording: NotFound, ident: str, param: str | None = None) -> ApiError:
    """The 404 of a missing `ident` as `wording` says it (`{noun}`, `{id}`, `{param}`: the path parameter or
    cursor that named it); text without a placeholder is literal (`param: id`)."""
    values = {"noun": wording.noun, "id": ident, "param": param}

    def worded(template: str) -> Any:
        return fill(template, values) if "{" in template else template

    named = None if wording.param is None else worded(wording.param)
    return ApiError(
        404,
        wording.key,
        "Resource not found",
        str(worded(wording.message)),
        param=None if named is None else str(named),
        resource=(wording.noun, ident),
    )


def _whole(value: Any, name: str, default: int) -> int:
    """A paging number as the query gave it (the document may not declare it): 400 unless a whole number."""
    if value is None or value == "":
        return default
    text = str(value)
    if not text.isdigit() or len(text) > 9:
        raise _invalid(f"{name} must be a whole number, not {text[:40]!r}", name)
    return int(text)


def _index(field: str) -> str | None:
    """The store's index a list sorted by `field` is read in: its creation time or its status (by phase)."""
    return {"created_at": "created", "status": "status"}.get(view_name(field) or "")


def _packer(produce, file: FileFormat, member: str, modified: float):
    return lambda: files.packed(produce(), file, member, modified=modified)


def _spool_key(record: ExportRecord) -> str:
    """Everything an export's file is made from besides the server's own settings (ids may come again after
    a reset)."""
    made = (record.vendor, record.app_id, record.id, record.exported_object, record.parameters)
    return json.dumps([*made, record.query.stored(), record.created_at, record.rows], sort_keys=True, default=str)


def _states_size(schema: Any, *, document: bool) -> bool:
    """Whether a schema (a file document's, or one holding one) has a property standing for the size."""
    properties = merged(schema).get("properties") or {}
    if document:
        return any(view_name(name) == "size" for name in properties)
    return any(
        _states_size(sub, document=True)
        for name, sub in properties.items()
        if (view_name(name) == "url" or merged(sub).get("x-mock-file"))
        and merged(sub).get("properties")
        and "x-mock-value" not in merged(sub)
    )


def _named(handler: partial) -> Handler:
    async def handle(call: Call) -> web.StreamResponse:
        return await handler(call)

    return handle


def _from_spec(op: Operation) -> Handler:
    """An operation without a role: its documented answer (example, or one made from its schema)."""
    answers = SpecAnswers.of(op)

    async def handle(call: Call) -> web.StreamResponse:
        return answers.respond(NOTHING, call.request.headers.get("Accept", ""))

    return handle


def _field_named(body: Mapping, meaning: str) -> str | None:
    """The top-level body field whose name stands for `meaning` (render.NAMES)."""
    return next((name for name in body if view_name(name) == meaning), None)


@cache  # per operation (hashed by identity), asked on every answer
def _id_param(op: Operation) -> str:
    names = [p.name for p in op.parameters if p.location == "path"]
    if len(names) != 1:
        raise ValueError(
            f"{op.operation_id}: name the export id's path parameter (x-mock.id); it has {', '.join(names) or 'none'}"
        )
    return names[0]


@cache  # per operation (hashed by identity): every GET's answer asks
def _success(op: Operation) -> int:
    statuses = sorted(int(s) for s in op.responses if s.isdigit() and 200 <= int(s) < 300)
    return statuses[0] if statuses else 200


@cache
def _json_schema(op: Operation, status: int) -> dict | None:
    media = op.responses.get(str(status)) or {}
    return next((schema for kind, schema in media.items() if kind.split(";")[0].strip().endswith("json")), None)


def _with_items(schema: dict, items: str | None) -> tuple[dict, dict]:
    """A list answer's schema with its array property reading the view's `items`, and the items' schema."""
    properties = schema.get("properties") or {}
    name = items or next(
        (key for key, sub in properties.items() if isinstance(sub, dict) and sub.get("type") == "array"), None
    )
    if name is None or name not in properties:
        raise ValueError(f"a list answer needs an array property (x-mock.items), not {sorted(properties)}")
    array = properties[name]
    return {**schema, "properties": {**properties, name: {**array, "x-mock-value": "items"}}}, array.get("items", {})


def _invalid(message: str, param: str | None) -> ApiError:
    return ApiError(400, "invalid", "Invalid request", message, param=param)
