"""Export filters: `{"<key>": {"conditions": {"$op": operand(s)}}, "junction": "and"}`.

A filter key reads one attribute (model.filter_target: an alias's
`x-mock-field`, the key itself, or `metadata.<key>`); a key no row has reads
nothing, so only `$is_unknown` matches it. All operators of one key must hold;
`junction` (and/or, default and) combines the keys.

Semantics, chosen to be predictable rather than clever:
- An operand is one value or an array. Positive operators ($in, $is,
  $contains, $starts_with, $ends_with, $is_day, $is_month …) hold if any
  operand matches; negative ones ($not_in, $is_not, $not_contain) if none
  does; comparisons and relative ranges ($more_than, $after,
  $less_than_ago …) if all operands hold.
- An empty value (None, "", {}, []) matches only `$is_unknown`
  (`$has_value: false` works too) — negative operators included.
- Operands are read in the attribute's type: numbers for integer
  attributes, ISO 8601 dates or date-times for date attributes, days (an
  integer) for relative date operators, true/false for booleans. An operand
  that does not read ("banana" for `$after`) matches nothing; no filter
  raises.
- Dates are UTC. Weeks start on Monday. `_md` operators compare month and
  day only (birthdays). `$is_day` takes a date (same day) or a weekday
  (name, or 1 = Monday … 7 = Sunday); `$is_month` a month number or name.
- `$enabled`/`$disabled` test a boolean; `$expired`/`$before_start` test a
  date against now. Operators about things a CSV row does not have
  (`$in_location`, `$active`, `$redeemable` …) match nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .model import Attribute, ObjectModel
from .timefmt import DAY_MS, civil, day_start_ms, parse_ms

Test = Callable[[object], bool]
NEVER: Test = lambda value: False  # noqa: E731

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


@dataclass(frozen=True)
class Filter:
    """A compiled filter: which attributes it reads, and the test per attribute."""

    parts: tuple[tuple[str, Test], ...]
    any_of: bool  # junction "or"

    @property
    def reads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(target for target, _ in self.parts))

    def mask(self, column: Callable[[str], list]) -> list[bool]:
        """One bool per row; `column(name)` gives an attribute's values."""
        masks = [list(map(test, column(target))) for target, test in self.parts]
        combine = any if self.any_of else all
        return [combine(flags) for flags in zip(*masks)]

    def test_row(self, row: Mapping) -> bool:
        results = (test(row.get(target)) for target, test in self.parts)
        return any(results) if self.any_of else all(results)


def compile_filters(model: ObjectModel, filters: Mapping | None, now: float) -> Filter | None:
    """None when there is nothing to filter."""
    if not filters:
        return None
    parts = []
    for key, spec in filters.items():
        if key == "junction" or model.filter_ignored(key):  # documented, but nothing to apply it to: told
            continue
        target = model.filter_target(key)
        attribute = model.attribute(target)
        conditions = spec.get("conditions") if isinstance(spec, Mapping) else None
        parts.append((target, _conditions(attribute, conditions, now)))
    if not parts:
        return None
    junction = str(filters.get("junction") or "and").lower()
    return Filter(parts=tuple(parts), any_of=junction == "or")


def _conditions(attribute: Attribute | None, conditions: object, now: float) -> Test:
    if not isinstance(conditions, Mapping) or not conditions:
        return NEVER
    tests = [operator_test(attribute, op, operand, now) for op, operand in conditions.items()]
    if len(tests) == 1:
        return tests[0]
    return lambda value: all(test(value) for test in tests)


def operator_test(attribute: Attribute | None, op: str, operand: object, now: float) -> Test:
    """The test one `$op: operand` makes of a value of this attribute (None: no such attribute)."""
    operands = list(operand) if isinstance(operand, (list, tuple)) else [operand]
    if op in ("$is_unknown", "$has_value"):
        wanted = _boolean(operands[0]) if operands else True
        wanted = True if wanted is None else wanted
        return _unknown_test(op == "$is_unknown" if wanted else op != "$is_unknown")
    if attribute is None:
        return NEVER
    kind = _kind(attribute)
    if kind == "any":
        by_kind: dict[str, Test] = {}

        def dynamic(value: object) -> bool:
            value_kind = _kind_of_value(value)
            if value_kind not in by_kind:
                by_kind[value_kind] = _known(_safe_typed_test(value_kind, op, operands, now))
            return by_kind[value_kind](value)

        return dynamic
    return _known(_safe_typed_test(kind, op, operands, now))


def _safe_typed_test(kind: str, op: str, operands: list, now: float) -> Test:
    """Operands out of any calendar (a million days ago) match nothing rather than raise."""
    try:
        return _typed_test(kind, op, operands, now)
    except (OverflowError, ValueError):
        return NEVER


def _unknown_test(unknown: bool) -> Test:
    if unknown:
        return _is_empty
    return lambda value: not _is_empty(value)


def _is_empty(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, (dict, list, tuple)) and not value)


def _known(test: Test) -> Test:
    """Empty values match no operator but $is_unknown / $has_value."""
    if test is NEVER:
        return NEVER
    return lambda value: not _is_empty(value) and test(value)


def _kind(attribute: Attribute) -> str:
    if attribute.is_date:
        return "date"
    return {
        "integer": "number",
        "number": "number",
        "boolean": "boolean",
        "array": "array",
        "object": "object",
        "string": "string",
    }.get(attribute.type, "any")


def _kind_of_value(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return "string"


# ------------------------------------------------------------ operand reading
def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return {"true": True, "1": True, "false": False, "0": False}.get(text)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict) and hasattr(value, "text"):
        return value.text
    if isinstance(value, (list, tuple)):
        return ",".join(_text(item) for item in value)
    return str(value)


def _days(value: object) -> int | None:
    number = _number(value)
    return int(number) if number is not None and number == int(number) else None


def _valid(values: list) -> list:
    return [value for value in values if value is not None]


# ------------------------------------------------------------------ by kind
def _typed_test(kind: str, op: str, operands: list, now: float) -> Test:
    if kind == "date":
        return _date_test(op, operands, now)
    if kind == "number":
        return _compare_test(op, operands, _number, _number)
    if kind == "boolean":
        return _boolean_test(op, operands)
    if kind == "array":
        return _array_test(op, operands)
    return _string_test(op, operands)


def _any(tests: list[Test]) -> Test:
    if not tests:
        return NEVER
    return lambda value: any(test(value) for test in tests)


def _all(tests: list[Test]) -> Test:
    if not tests:
        return NEVER
    return lambda value: all(test(value) for test in tests)


def _compare_test(op: str, operands: list, read: Callable, read_value: Callable) -> Test:
    """Equality and order over values read by `read_value`, operands by `read`."""
    wanted = _valid([read(o) for o in operands])
    if not wanted:
        return NEVER

    def on(predicate: Callable[[object, object], bool], each: Callable = _all) -> Test:
        def one(target):
            def test(value):
                got = read_value(value)
                return got is not None and predicate(got, target)

            return test

        return each([one(target) for target in wanted])

    if op in ("$in", "$is"):
        members = set(wanted)
        return lambda value: read_value(value) in members
    if op in ("$not_in", "$is_not"):
        members = set(wanted)
        return lambda value: (got := read_value(value)) is not None and got not in members
    comparisons = {
        "$more_than": lambda a, b: a > b,
        "$more_than_equal": lambda a, b: a >= b,
        "$less_than": lambda a, b: a < b,
        "$less_than_equal": lambda a, b: a <= b,
    }
    if op in comparisons:
        return on(comparisons[op])
    return _string_test(op, operands)


def _boolean_test(op: str, operands: list) -> Test:
    if op == "$enabled":
        return lambda value: value is True
    if op == "$disabled":
        return lambda value: value is False
    wanted = _valid([_boolean(o) for o in operands])
    if not wanted:
        return NEVER
    if op in ("$in", "$is"):
        return lambda value: value in wanted
    if op in ("$not_in", "$is_not"):
        return lambda value: value not in wanted
    return NEVER


def _string_test(op: str, operands: list) -> Test:
    texts = [_text(o) for o in operands if o is not None]
    if not texts:
        return NEVER
    if op in ("$in", "$is"):
        members = set(texts)
        return lambda value: _text(value) in members
    if op in ("$not_in", "$is_not"):
        members = set(texts)
        return lambda value: _text(value) not in members
    if op == "$starts_with":
        prefixes = tuple(texts)
        return lambda value: _text(value).startswith(prefixes)
    if op == "$ends_with":
        suffixes = tuple(texts)
        return lambda value: _text(value).endswith(suffixes)
    if op == "$contains":
        return lambda value: any(t in _text(value) for t in texts)
    if op == "$not_contain":
        return lambda value: not any(t in _text(value) for t in texts)
    if op in ("$more_than", "$more_than_equal", "$less_than", "$less_than_equal"):
        numbers = _valid([_number(t) for t in texts])
        if len(numbers) == len(texts):  # numeric operands: compare numerically ("8638" > 1000)
            return _compare_test(op, numbers, _number, _number)
        return _compare_test(op, texts, _text, _text)
    return NEVER


def _array_test(op: str, operands: list) -> Test:
    texts = {_text(o) for o in operands if o is not None}
    if op in ("$count", "$count_less", "$count_more"):
        sizes = _valid([_days(o) for o in operands])
        compare = {"$count": lambda a, b: a == b, "$count_less": lambda a, b: a < b, "$count_more": lambda a, b: a > b}[
            op
        ]
        return _all([lambda value, s=s: compare(len(value), s) for s in sizes])
    if not texts:
        return NEVER
    if op in ("$in", "$contains", "$is"):
        return lambda value: any(_text(item) in texts for item in value)
    if op in ("$not_in", "$not_contain", "$is_not"):
        return lambda value: not any(_text(item) in texts for item in value)
    return NEVER


# -------------------------------------------------------------------- dates
def _date_test(op: str, operands: list, now: float) -> Test:
    now_ms = int(now * 1000)
    today = civil(now_ms)
    if op in _CALENDAR_RANGES:
        low, high = _CALENDAR_RANGES[op](today)
        return _in_range(day_start_ms(low), day_start_ms(high))
    if op in _MONTH_DAY_RANGES:
        days = _MONTH_DAY_RANGES[op](today)
        return _month_day_in({(d.month, d.day) for d in days})
    if op == "$expired":
        return _in_range(None, now_ms)
    if op == "$before_start":
        return _in_range(now_ms + 1, None)
    if op in (
        "$after",
        "$before",
        "$in",
        "$is",
        "$not_in",
        "$is_not",
        "$more_than",
        "$more_than_equal",
        "$less_than",
        "$less_than_equal",
    ):
        return _absolute_date_test(op, operands)
    if op in ("$is_day", "$is_day_of_month", "$is_month", "$is_year"):
        return _any([_calendar_part(op, o) for o in operands])
    if op in _RELATIVE:
        tests = []
        for operand in operands:
            days = _days(operand)
            if days is None:
                return NEVER
            tests.append(_RELATIVE[op](now_ms, today, days))
        return _all(tests)
    if op in ("$contains", "$not_contain", "$starts_with", "$ends_with"):
        return _string_test(op, operands)
    return NEVER


def _value_ms(value: object) -> int | None:
    return parse_ms(value) if isinstance(value, str) else None


def _in_range(low: int | None, high: int | None) -> Test:
    """low ≤ t < high, either bound open when None."""

    def test(value: object) -> bool:
        t = _value_ms(value)
        return t is not None and (low is None or t >= low) and (high is None or t < high)

    return test


def _absolute_date_test(op: str, operands: list) -> Test:
    days_only = all(isinstance(o, str) and len(o.strip()) == 10 for o in operands)
    if days_only and op in ("$in", "$is", "$not_in", "$is_not"):
        wanted = {parse_ms(o) for o in operands} - {None}
        if not wanted:
            return NEVER
        same_day = lambda value: (t := _value_ms(value)) is not None and t - t % DAY_MS in wanted  # noqa: E731
        return (
            same_day if op in ("$in", "$is") else (lambda value: _value_ms(value) is not None and not same_day(value))
        )
    renamed = {"$after": "$more_than", "$before": "$less_than"}.get(op, op)
    return _compare_test(renamed, operands, parse_ms, _value_ms)


def _month_day_in(pairs: set) -> Test:
    def test(value: object) -> bool:
        t = _value_ms(value)
        if t is None:
            return False
        day = civil(t)
        return (day.month, day.day) in pairs

    return test


def _calendar_part(op: str, operand: object) -> Test:
    def on(part: Callable[[date], object], wanted: object) -> Test:
        if wanted is None:
            return NEVER
        return lambda value: (t := _value_ms(value)) is not None and part(civil(t)) == wanted

    text = str(operand).strip().lower()
    if op == "$is_day":
        if text in WEEKDAYS:
            return on(date.isoweekday, WEEKDAYS.index(text) + 1)
        when = parse_ms(operand)
        if when is not None:
            return on(lambda d: d, civil(when))
        number = _days(operand)
        return on(date.isoweekday, number if number is not None and 1 <= number <= 7 else None)
    if op == "$is_month":
        number = MONTHS.index(text) + 1 if text in MONTHS else _days(operand)
        return on(lambda d: d.month, number)
    if op == "$is_year":
        return on(lambda d: d.year, _days(operand))
    return on(lambda d: d.day, _days(operand))  # $is_day_of_month


def _week(day: date, offset: int) -> tuple[date, date]:
    monday = day - timedelta(days=day.weekday()) + timedelta(weeks=offset)
    return monday, monday + timedelta(days=7)


def _month(day: date, offset: int) -> tuple[date, date]:
    index = day.year * 12 + day.month - 1 + offset
    first = date(index // 12, index % 12 + 1, 1)
    following = index + 1
    return first, date(following // 12, following % 12 + 1, 1)


def _year(day: date, offset: int) -> tuple[date, date]:
    return date(day.year + offset, 1, 1), date(day.year + offset + 1, 1, 1)


def _day(day: date, offset: int) -> tuple[date, date]:
    start = day + timedelta(days=offset)
    return start, start + timedelta(days=1)


_CALENDAR_RANGES: dict[str, Callable[[date], tuple[date, date]]] = {
    "$today": lambda d: _day(d, 0),
    "$yesterday": lambda d: _day(d, -1),
    "$tomorrow": lambda d: _day(d, 1),
    "$this_week": lambda d: _week(d, 0),
    "$last_week": lambda d: _week(d, -1),
    "$next_week": lambda d: _week(d, 1),
    "$this_month": lambda d: _month(d, 0),
    "$last_month": lambda d: _month(d, -1),
    "$next_month": lambda d: _month(d, 1),
    "$this_year": lambda d: _year(d, 0),
    "$last_year": lambda d: _year(d, -1),
    "$next_year": lambda d: _year(d, 1),
}


def _days_between(bounds: tuple[date, date]) -> list[date]:
    low, high = bounds
    return [low + timedelta(days=k) for k in range((high - low).days)]


_MONTH_DAY_RANGES: dict[str, Callable[[date], list[date]]] = {
    f"{op}_md": (lambda d, ranges=ranges: _days_between(ranges(d)))
    for op, ranges in _CALENDAR_RANGES.items()
    if "year" not in op
}


def _anniversary_days(today: date, days: int, future: bool) -> list[date]:
    step = 1 if future else -1
    return [today + timedelta(days=step * k) for k in range(days + 1)]


def _relative_md(future: bool, compare: str) -> Callable[[int, date, int], Test]:
    """Month-day operators: how many days ago (or until) the anniversary is, within a year."""

    def build(now_ms: int, today: date, days: int) -> Test:
        if compare == "exact":
            target = today + timedelta(days=days if future else -days)
            return _month_day_in({(target.month, target.day)})
        window = {(d.month, d.day) for d in _anniversary_days(today, min(days, 366), future)}
        if compare == "less":
            return _month_day_in(window)
        inside = _month_day_in(window)
        return lambda value: _value_ms(value) is not None and not inside(value)

    return build


_RELATIVE: dict[str, Callable[[int, date, int], Test]] = {
    "$is_days_ago": lambda now_ms, today, n: _in_range(*(day_start_ms(d) for d in _day(today, -n))),
    "$is_days_in_future": lambda now_ms, today, n: _in_range(*(day_start_ms(d) for d in _day(today, n))),
    "$more_than_ago": lambda now_ms, today, n: _in_range(None, now_ms - n * DAY_MS),
    "$less_than_ago": lambda now_ms, today, n: _in_range(now_ms - n * DAY_MS + 1, now_ms + 1),
    "$more_than_future": lambda now_ms, today, n: _in_range(now_ms + n * DAY_MS + 1, None),
    "$less_than_future": lambda now_ms, today, n: _in_range(now_ms + 1, now_ms + n * DAY_MS),
    "$is_years_ago": lambda now_ms, today, n: _calendar_part("$is_year", today.year - n),
    "$is_days_ago_md": _relative_md(False, "exact"),
    "$is_more_days_ago_md": _relative_md(False, "more"),
    "$is_less_days_ago_md": _relative_md(False, "less"),
    "$is_days_in_future_md": _relative_md(True, "exact"),
    "$is_more_days_in_future_md": _relative_md(True, "more"),
    "$is_less_days_in_future_md": _relative_md(True, "less"),
}
