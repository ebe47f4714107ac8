"""Contracts written by others: a team's own document or the vendor's published one.

schemathesis reads OpenAPI 3.x and Swagger 2.0 itself; our checks read a
`Spec`, whose loader expects OpenAPI 3 with an operationId on every
operation. `as_openapi3` gives a Swagger 2.0 document the OpenAPI 3 shape
our checks read (bodies, responses, schemes, definitions) and names
operations that have no id, without touching what schemathesis receives.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..spec import HTTP_METHODS

SCHEMA_KEYS = ("type", "format", "enum", "items", "minimum", "maximum", "pattern", "default", "minLength",
               "maxLength", "collectionFormat")


def as_openapi3(document: dict[str, Any]) -> dict[str, Any]:
    """A copy in the shape our Spec loader reads (the original is left as it is)."""
    document = copy.deepcopy(document)
    if str(document.get("swagger", "")).startswith("2"):
        document = _from_swagger2(document)
    for path, item in (document.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = (item or {}).get(method)
            if isinstance(operation, dict) and not operation.get("operationId"):
                operation["operationId"] = f"{method.upper()} {path}"
    return document


def _from_swagger2(document: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(document).replace('"#/definitions/', '"#/components/schemas/')
    document = json.loads(text)
    produces = document.get("produces") or ["application/json"]
    consumes = document.get("consumes") or ["application/json"]
    paths: dict[str, Any] = {}
    for path, item in (document.get("paths") or {}).items():
        converted: dict[str, Any] = {}
        if item.get("parameters"):
            converted["parameters"] = [_parameter(p) for p in item["parameters"] if p.get("in") != "body"]
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            operation = dict(operation)
            parameters = operation.get("parameters") or []
            body = next((p for p in parameters if p.get("in") == "body"), None)
            operation["parameters"] = [_parameter(p) for p in parameters if p.get("in") not in ("body", "formData")]
            if body is not None:
                media = operation.get("consumes") or consumes
                operation["requestBody"] = {"required": bool(body.get("required")),
                                            "content": {m: {"schema": body.get("schema", {})} for m in media}}
            responses = {}
            for status, response in (operation.get("responses") or {}).items():
                response = dict(response)
                schema = response.pop("schema", None)
                if schema is not None:
                    response["content"] = {m: {"schema": schema} for m in operation.get("produces") or produces}
                responses[str(status)] = response
            operation["responses"] = responses
            converted[method] = operation
        paths[path] = converted  # like schemathesis, basePath belongs in --base-url
    components = {"schemas": document.get("definitions") or {},
                  "securitySchemes": document.get("securityDefinitions") or {}}
    return {"openapi": "3.0.3", "info": document.get("info") or {}, "paths": paths, "components": components,
            **({"security": document["security"]} if "security" in document else {})}


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    if "schema" in parameter:
        return parameter
    schema = {key: parameter[key] for key in SCHEMA_KEYS if key in parameter}
    return {**{k: v for k, v in parameter.items() if k not in SCHEMA_KEYS}, "schema": schema}
