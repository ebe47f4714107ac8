"""Contracts written by others: a team's own document or the vendor's published one.

schemathesis reads OpenAPI 3.x and Swagger 2.0 itself; our checks read a
`Spec`, whose loader expects OpenAPI 3 with an operationId on every
operation. `as_openapi3` gives a Swagger 2.0 document the OpenAPI 3 shape
our checks read (bodies, responses, schemes, definitions) and names
operations that have no id, without touching what schemathesis receives.
"""

from __future__ import annotations

from ..documents import as_openapi3

__all__ = ["as_openapi3"]
