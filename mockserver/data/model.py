"""The data model, read once from the vendor's spec.

Two sources, both in schemas/<vendor>/:
- `x-export-rows` maps each exported object to its row schema
  (export-rows.yaml): every attribute with its type, format, enum, id prefix,
  and whether it is an exported column or a hidden attribute;
- `ExportsCreateRequestBody`'s discriminator gives each object's parameters
  schema: its fields enum and default, its `order` values and its filters
  (`x-mock-field` names the attribute a filter alias reads).

Nothing here repeats an enum or a field list: it is all derived.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import import_module
from typing import Any

METADATA = "metadata"
METADATA_PREFIX = "metadata."
SCHEMA_RECIPE = "schema"  # `x-recipe: schema`: rows made from the row schema alone (schema_rows.py)


@dataclass(frozen=True)
class Recipes:
    """A vendor's row recipes as it declares them (`Vendor.data_recipes`): the objects they make, and
    the module that makes them (its `RECIPES`: object → mockserver.data.blocks.Recipe). Declared, not
    imported: the module and the engine's libraries (numpy, polars, faker) load when rows are first
    made, so a server starts without them, while a row schema no recipe makes is refused at start-up."""

    module: str
    objects: frozenset[str]

    def load(self) -> Mapping[str, Any]:
        """object → Recipe, imported once; ValueError when the module makes other objects than declared."""
        return _load_recipes(self)


@cache
def _load_recipes(recipes: Recipes) -> Mapping[str, Any]:
    made = dict(import_module(recipes.module).RECIPES)
    if set(made) != recipes.objects:
        raise ValueError(
            f"{recipes.module} makes {', '.join(sorted(made)) or 'nothing'}, "
            f"declared as {', '.join(sorted(recipes.objects))}"
        )
    return made


@dataclass(frozen=True)
class Attribute:
    """One attribute of a row (a column, a hidden attribute or a metadata key)."""

    name: str
    type: str  # string | integer | number | boolean | object | array | any
    format: str | None = None  # date-time | date | duration | uri | email
    nullable: bool = False
    enum: tuple | None = None
    weights: tuple[int, ...] | None = None
    exported: bool = True
    id_prefix: str | None = None
    id_length: int = 24
    id_style: str = "alnum"  # alnum | hex
    same_as: str | None = None
    messages: Mapping[str, str] | None = None
    faker: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    properties: Mapping[str, Attribute] = field(default_factory=dict)  # metadata keys
    hints: Mapping[str, Any] = field(default_factory=dict)  # other `x-` keys (read by schema_rows)
    label: str | None = None  # `x-label`: the column's heading in the vendor's CSV (None: the field name)

    @property
    def is_date(self) -> bool:
        return self.format in ("date-time", "date")


ANY = Attribute(name="", type="any", nullable=True)


@dataclass(frozen=True)
class ObjectModel:
    """What one exported object's export can ask for, and what its rows hold."""

    name: str
    attributes: Mapping[str, Attribute]  # every row attribute, schema order
    fields: tuple[str, ...]  # exportable fields (the `<X>ExportField` enum)
    default_fields: tuple[str, ...]
    orders: tuple[str, ...]  # allowed `order` values, with and without "-"
    filter_aliases: Mapping[str, str]  # declared filter key -> attribute it reads
    open_filters: bool  # whether undeclared filter keys are allowed
    recipe: str = ""  # the row schema's `x-recipe`: how rows are made ("" = the recipe named like the object)
    # documented key prefixes (`summary.`) → what the rest reads (`""`: `summary.orders.total_count` reads
    # `orders_total_count`; a replacement ending in "." keeps the rest's dots): the filters' `x-mock-prefixes`
    filter_prefixes: Mapping[str, str] = field(default_factory=dict)
    # documented filter keys the mock cannot apply → why (`x-mock-ignored`): answered unfiltered, and told
    ignored_filters: Mapping[str, str] = field(default_factory=dict)
    recipes: Recipes | None = None  # the vendor's declared recipes (None: it has none)

    @property
    def made(self) -> bool:
        """Whether something makes this object's rows: its row schema alone, or a recipe its vendor declares."""
        if self.recipe == SCHEMA_RECIPE:
            return True
        return self.recipes is not None and (self.recipe or self.name) in self.recipes.objects

    @property
    def has_metadata(self) -> bool:
        return METADATA in self.attributes

    @property
    def exported(self) -> tuple[str, ...]:
        return tuple(name for name, attr in self.attributes.items() if attr.exported)

    def attribute(self, name: str) -> Attribute | None:
        """The attribute behind a column or filter target, `metadata.<key>` included."""
        if name in self.attributes:
            return self.attributes[name]
        head, dot, key = name.partition(".")
        if dot and key and head in self.attributes and self.attributes[head].type == "object":
            known = self.attributes[head].properties.get(key)  # `metadata.<key>`, a product's `attributes.<key>`
            return known or Attribute(name=name, type="any", nullable=True)
        return None

    def filter_target(self, key: str) -> str:
        """The attribute a filter key reads: an alias, itself, a key of an object attribute
        (`metadata.<key>`), or what a documented prefix maps it to."""
        if key in self.filter_aliases:
            return self.filter_aliases[key]
        if self.attribute(key) is None:
            for prefix, replacement in self.filter_prefixes.items():
                if key.startswith(prefix) and len(key) > len(prefix):
                    rest = key[len(prefix) :]
                    target = replacement + (rest if replacement.endswith(".") else rest.replace(".", "_"))
                    if self.attribute(target) is not None:
                        return target
        return key

    def filter_ignored(self, key: str) -> str | None:
        """Why the mock cannot apply a documented filter key (None: it applies it, or the key is unknown)."""
        if key in self.ignored_filters:
            return self.ignored_filters[key]
        prefix = next((p for p in self.filter_prefixes if key.startswith(p)), None)
        if prefix is not None and self.attribute(self.filter_target(key)) is None:
            return (
                f"the vendor documents {prefix}* filter keys but not what {key!r} holds, "
                "and the mock's rows have no such value"
            )
        return None

    def is_field(self, name: str) -> bool:
        """A field an export may have: a listed one, a default one (the vendor's defaults name a few
        that its field list lacks) or `metadata.<key>`."""
        return (
            name in self.fields
            or name in self.default_fields
            or (self.has_metadata and name.startswith(METADATA_PREFIX) and len(name) > len(METADATA_PREFIX))
        )

    def label(self, name: str) -> str:
        """A column's heading: the attribute's `x-label`, else the field name itself."""
        attribute = self.attributes.get(name)
        return attribute.label if attribute is not None and attribute.label else name


@dataclass(frozen=True)
class DataModel:
    """Every exported object of one vendor; empty for a vendor without rows."""

    objects: Mapping[str, ObjectModel]

    def object(self, name: str) -> ObjectModel:
        try:
            return self.objects[name]
        except KeyError:
            raise ValueError(f"unknown exported object {name!r}") from None

    def check_recipes(self, vendor: str) -> None:
        """ValueError naming the objects whose rows nothing makes (at start-up, not at the first export)."""
        unmade = [name for name, obj in self.objects.items() if not obj.made]
        if unmade:
            raise ValueError(
                f"{vendor}: no recipe makes the rows of {', '.join(unmade)}: declare one in the vendor's "
                f"data_recipes, or mark the row schema `x-recipe: {SCHEMA_RECIPE}`"
            )


def build_model(spec: Any, recipes: Recipes | None = None) -> DataModel:
    """The data model of a spec's `x-export-rows`, its objects made by `recipes` (the vendor's) where
    their row schemas do not say `x-recipe: schema`."""
    rows = spec.document.get("x-export-rows") or {}
    if not rows:
        return DataModel(objects={})
    # a vendor whose exports take no fields/order (Chargebee) has no ExportsCreateRequestBody:
    # its rows alone say what an export holds
    shared = "ExportsCreateRequestBody" in spec.resolved.get("components", {}).get("schemas", {})
    parameters = _parameters_by_object(spec) if shared else {}
    objects = {}
    for name, row_schema in rows.items():
        if shared and name not in parameters:
            raise ValueError(f"x-export-rows names {name!r}, which no export request has")
        objects[name] = replace(_object_model(name, spec.schema(row_schema), parameters.get(name)), recipes=recipes)
    return DataModel(objects=objects)


def _parameters_by_object(spec: Any) -> dict[str, dict]:
    body = spec.schema("ExportsCreateRequestBody")
    mapping = body["discriminator"]["mapping"]
    return {tag: flatten(flatten(branch)["properties"]["parameters"]) for tag, branch in mapping.items()}


def _object_model(name: str, row: dict, parameters: dict | None) -> ObjectModel:
    row = flatten(row)
    attributes = {key: _attribute(key, schema) for key, schema in row["properties"].items()}
    recipe = row.get("x-recipe", "")
    if parameters is None:  # every exported attribute is a column; filters read attributes by name
        exported = tuple(key for key, attribute in attributes.items() if attribute.exported)
        # no client names an order here: the vendor's code picks one (e.g. a report oldest first)
        orders = tuple(order for key in exported for order in (key, "-" + key))
        return ObjectModel(
            name=name,
            attributes=attributes,
            fields=exported,
            default_fields=exported,
            orders=orders,
            filter_aliases={},
            open_filters=False,
            recipe=recipe,
        )
    props = parameters["properties"]
    fields_schema = flatten(props["fields"])
    fields = tuple(
        value for branch in _branches(fields_schema["items"]) for value in branch.get("enum", ()) if value is not None
    )
    # "" (an echoed "no order", which the vendor accepts back) sorts nothing: not an order value
    orders = tuple(value for value in flatten(props.get("order", {})).get("enum", ()) if value)
    filters = flatten(props.get("filters", {}))
    aliases, ignored = {}, {}
    for key, schema in (filters.get("properties") or {}).items():
        if key == "junction":
            continue
        schema = flatten(schema)
        if "x-mock-ignored" in schema:
            ignored[key] = schema["x-mock-ignored"]
            continue
        aliases[key] = schema.get("x-mock-field", key)
    return ObjectModel(
        name=name,
        attributes=attributes,
        fields=fields,
        default_fields=tuple(fields_schema.get("default") or fields[:1]),
        orders=orders,
        filter_aliases=aliases,
        open_filters=filters.get("additionalProperties", True) is not False,
        recipe=recipe,
        filter_prefixes=dict(filters.get("x-mock-prefixes") or {}),
        ignored_filters=ignored,
    )


def _attribute(name: str, schema: dict) -> Attribute:
    schema = flatten(schema)
    kind = schema.get("type", "any")
    nullable = bool(schema.get("nullable"))
    if isinstance(kind, list):
        nullable = nullable or "null" in kind
        kind = next((k for k in kind if k != "null"), "any")
    enum = schema.get("enum")
    return Attribute(
        name=name,
        type=kind,
        format=schema.get("format"),
        nullable=nullable,
        enum=tuple(v for v in enum if v is not None) if enum else None,
        weights=tuple(schema["x-weights"]) if "x-weights" in schema else None,
        exported=not schema.get("x-hidden", False),
        id_prefix=schema.get("x-id-prefix"),
        id_length=schema.get("x-id-length", 24),
        id_style=schema.get("x-id-style", "alnum"),
        same_as=schema.get("x-same-as"),
        messages=schema.get("x-messages"),
        faker=schema.get("x-faker"),
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
        properties={
            key: _attribute(f"{METADATA_PREFIX}{key}", sub) for key, sub in (schema.get("properties") or {}).items()
        }
        if kind == "object"
        else {},
        hints={key: value for key, value in schema.items() if key.startswith("x-") and key not in _READ},
        label=schema.get("x-label"),
    )


# the `x-` keys Attribute has fields for; any other one is kept in `hints`
_READ = (
    "x-weights",
    "x-hidden",
    "x-id-prefix",
    "x-id-length",
    "x-id-style",
    "x-same-as",
    "x-messages",
    "x-faker",
    "x-label",
)


def flatten(schema: dict) -> dict:
    """Merge `allOf`/`anyOf`/`oneOf` branches (minus `null`) into one dict.

    The contract wraps schemas for nullability (`anyOf: [null, {...}]`) and
    for annotations (`allOf: [...]` plus `x-mock-field`); the model only
    needs the merged keywords.
    """
    out = {key: value for key, value in schema.items() if key not in ("allOf", "anyOf", "oneOf")}
    for key in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(key) or []:
            if branch.get("type") == "null":
                out["nullable"] = True
                continue
            for sub_key, value in flatten(branch).items():
                out.setdefault(sub_key, value)
    return out


def _branches(schema: dict) -> list[dict]:
    """The alternatives of a schema (itself when it has none)."""
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if not alternatives:
        return [schema]
    return [flatten(branch) for branch in alternatives]


class JsonObject(dict):
    """A JSON object cell: a dict that carries its serialised text.

    Pools build each value once, so writing a million metadata cells costs
    no json.dumps at all.
    """

    __slots__ = ("text", "cell")

    def __init__(self, value: Mapping | None = None, text: str | None = None) -> None:
        super().__init__(value or {})
        self.text = text if text is not None else json.dumps(self, ensure_ascii=False, separators=(",", ":"))
        self.cell = '"' + self.text.replace('"', '""') + '"'  # as a CSV cell: JSON always has quotes
