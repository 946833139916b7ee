"""Checks of JSON values against the contracts' schemas, compiled once from the generated facts.

Two strictnesses, for the two directions of a request:

- **arguments** (:func:`argument_checker`): everything the contract says about a value the
  client is about to send: type, ``enum``, ``const``, ``pattern``, ``format``, ranges, lengths,
  ``required`` and closed objects. A failure is a message naming the parameter and the rule,
  which the caller raises as :class:`InvalidParameterError` before anything is sent.
- **responses** (:func:`response_checker`): only what keeps a parsed model honest: JSON types,
  ``required`` fields, nullability, and date-times the models can read. A new enum value or a new field is not an error (the
  generated enums keep unknown values, the models keep unknown fields), so a server that adds
  ``"scheduled"`` never fails a call; a wrong type (``"duration_seconds": "abc"``) is.

Checkers are closures built once per schema and cached. A response checker first asks a
generated boolean validator (``fastcheck``), which answers for a valid page of 100 call logs
in a fraction of the closures' time; only a body it does not accept goes through the closures,
which find and name the problem. The facts are imported on the first checker built, not with
the module.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["argument_checker", "describe_value", "response_checker"]

#: ``check(value, where)`` returns None when the value is valid, else what is wrong with it.
Checker = Callable[[Any, str], "str | None"]

_RFC3339 = re.compile(
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)"
)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+[^\s]*")


def describe_value(value: object) -> str:
    """A value for an error message: short, and never a phone number (nothing with 5 or more
    digits is repeated, however it is punctuated)."""
    if isinstance(value, str):
        digits = sum(c.isdigit() for c in value)
        if len(value) <= 24 and digits < 5 and value.isprintable():
            return repr(value)
        tail = value[-2:] if len(value) > 4 and value[-2:].isprintable() else ""
        return f"a string of {len(value)} characters" + (f" ending in '…{tail}'" if tail else "")
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value) if len(repr(value)) <= 12 else f"a number of {len(repr(value))} digits"
    return f"a {type(value).__name__}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


_ARTICLE = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _parsable_datetime(value: Any, where: str) -> str | None:
    """A response's date-time must be one the generated models can read."""
    if not isinstance(value, str):
        return None  # the type check reports it
    try:
        datetime.datetime.fromisoformat(value)
    except ValueError:
        return f"{where} must be an ISO 8601 date-time"
    return None


def _type_test(name: str) -> Callable[[Any], bool]:
    if name == "string":
        return lambda v: isinstance(v, str)
    if name == "integer":
        # 3.0 is an integer in JSON Schema; True is not.
        return lambda v: (
            (isinstance(v, int) and not isinstance(v, bool))
            or (isinstance(v, float) and v.is_integer())
        )
    if name == "number":
        return lambda v: isinstance(v, int | float) and not isinstance(v, bool)
    if name == "boolean":
        return lambda v: isinstance(v, bool)
    if name == "null":
        return lambda v: v is None
    if name == "array":
        return lambda v: isinstance(v, list | tuple)
    if name == "object":
        return lambda v: isinstance(v, Mapping)
    return lambda v: True


class _Compiler:
    """Builds checkers for one API's schemas; ``strict`` selects argument or response rules."""

    def __init__(self, api: str, strict: bool) -> None:
        import stateset_voice_facts as facts

        self.schemas = facts.SCHEMAS[api]
        self.strict = strict
        self.named: dict[str, Checker] = {}

    def ref(self, name: str) -> Checker:
        checker = self.named.get(name)
        if checker is None:
            # A placeholder first, so a recursive schema compiles; it is replaced below.
            cell: list[Checker] = []
            self.named[name] = lambda value, where: cell[0](value, where)
            cell.append(self.compile(self.schemas[name]))
            self.named[name] = checker = cell[0]
        return checker

    def compile(self, schema: Mapping[str, Any]) -> Checker:
        if "$ref" in schema:
            return self.ref(schema["$ref"])
        checks: list[Checker] = []
        for key in ("anyOf", "oneOf"):
            if key in schema:
                checks.append(self._any(schema[key]))
        for sub in schema.get("allOf", ()):
            checks.append(self.compile(sub))
        kind = schema.get("type")
        if kind is not None:
            checks.append(self._type(kind))
        if self.strict:
            checks.extend(self._rules(schema))
        elif schema.get("format") == "date-time":
            checks.append(_parsable_datetime)
        if "properties" in schema or "required" in schema:
            checks.append(self._object(schema))
        if "items" in schema:
            checks.append(self._items(self.compile(schema["items"])))
        if not checks:
            return lambda value, where: None
        if len(checks) == 1:
            return checks[0]

        def check_all(value: Any, where: str) -> str | None:
            for check in checks:
                problem = check(value, where)
                if problem is not None:
                    return problem
            return None

        return check_all

    def _type(self, kind: str | list[str]) -> Checker:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        tests = [_type_test(k) for k in kinds]
        expected = " or ".join(_ARTICLE.get(k, k) for k in kinds)

        def check_type(value: Any, where: str) -> str | None:
            for test in tests:
                if test(value):
                    return None
            found = _json_type(value)
            return f"{where} must be {expected}, got {_ARTICLE.get(found, found)}"

        return check_type

    def _any(self, options: list[Mapping[str, Any]]) -> Checker:
        compiled = [self.compile(option) for option in options]
        # Each option's JSON type, when it names one, so a failure can say which option the
        # value was meant for ("must be an integer or null, got a string").
        kinds = [self._kind(option) for option in options]
        tests = [None if kind is None else _type_test(kind) for kind in kinds]
        expected = " or ".join(_ARTICLE.get(k, k) for k in dict.fromkeys(k for k in kinds if k))

        def check_any(value: Any, where: str) -> str | None:
            problems = []
            for check in compiled:
                problem = check(value, where)
                if problem is None:
                    return None
                problems.append(problem)
            for test, problem in zip(tests, problems, strict=True):
                if test is not None and test(value):
                    return problem  # the option of the value's own type: its deeper reason
            if all(kind is not None for kind in kinds):
                found = _json_type(value)
                return f"{where} must be {expected}, got {_ARTICLE.get(found, found)}"
            return problems[0]

        return check_any

    def _kind(self, schema: Mapping[str, Any]) -> str | None:
        while "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type")
        return kind if isinstance(kind, str) else None

    def _items(self, item: Checker) -> Checker:
        def check_items(value: Any, where: str) -> str | None:
            if not isinstance(value, list | tuple):
                return None  # the type check reports it
            for index, element in enumerate(value):
                problem = item(element, f"{where}[{index}]")
                if problem is not None:
                    return problem
            return None

        return check_items

    def _object(self, schema: Mapping[str, Any]) -> Checker:
        properties = {name: self.compile(sub) for name, sub in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        closed = self.strict and schema.get("additionalProperties") is False

        def check_object(value: Any, where: str) -> str | None:
            if not isinstance(value, Mapping):
                return None  # the type check reports it
            for name in required:
                if name not in value:
                    return f"{where} is missing the required field {name!r}"
            for name, item in value.items():
                check = properties.get(name)
                if check is not None:
                    problem = check(item, f"{where}.{name}")
                    if problem is not None:
                        return problem
                elif closed:
                    return f"{where} has an unknown field {describe_value(name)}"
            return None

        return check_object

    def _rules(self, schema: Mapping[str, Any]) -> list[Checker]:
        """The argument-only rules: values, not just shapes."""
        rules: list[Checker] = []
        if "enum" in schema:
            allowed = tuple(schema["enum"])
            listing = ", ".join(str(a) for a in allowed)

            def check_enum(value: Any, where: str) -> str | None:
                if value in allowed:
                    return None
                return f"{where} must be one of: {listing}; got {describe_value(value)}"

            rules.append(check_enum)
        if "const" in schema:
            const = schema["const"]
            rules.append(lambda v, where: None if v == const else f"{where} must be {const!r}")
        rules.extend(self._string_rules(schema))
        rules.extend(self._number_rules(schema))
        if "maxItems" in schema or "minItems" in schema:
            low, high = schema.get("minItems", 0), schema.get("maxItems", math.inf)

            def check_count(value: Any, where: str) -> str | None:
                if isinstance(value, list | tuple) and not low <= len(value) <= high:
                    return f"{where} must have {low} to {high} items, got {len(value)}"
                return None

            rules.append(check_count)
        if "maxProperties" in schema:
            most = schema["maxProperties"]

            def check_properties(value: Any, where: str) -> str | None:
                if isinstance(value, Mapping) and len(value) > most:
                    return f"{where} may have at most {most} keys, got {len(value)}"
                return None

            rules.append(check_properties)
        return rules

    @staticmethod
    def _string_rules(schema: Mapping[str, Any]) -> list[Checker]:
        rules: list[Checker] = []
        low, high = schema.get("minLength"), schema.get("maxLength")
        if low is not None or high is not None:
            low_n, high_n = low or 0, math.inf if high is None else high

            def check_length(value: Any, where: str) -> str | None:
                if not isinstance(value, str) or low_n <= len(value) <= high_n:
                    return None
                if len(value) < low_n:
                    return f"{where} must be at least {low_n} character(s), got {len(value)}"
                return f"{where} must be at most {high_n} characters, got {len(value)}"

            rules.append(check_length)
        if "pattern" in schema:
            pattern = re.compile(schema["pattern"])
            shown = schema["pattern"]

            def check_pattern(value: Any, where: str) -> str | None:
                if not isinstance(value, str) or pattern.search(value):
                    return None
                return f"{where} must match the pattern {shown}; got {describe_value(value)}"

            rules.append(check_pattern)
        fmt = schema.get("format")
        test, what = {
            "date-time": (_RFC3339.fullmatch, "an RFC 3339 date-time with a UTC offset"),
            "email": (_EMAIL.fullmatch, "an email address"),
            "uri": (_URI.fullmatch, "an absolute URI such as https://example.com/hook"),
        }.get(fmt or "", (None, ""))
        if test is not None:
            matcher = test

            def check_format(value: Any, where: str) -> str | None:
                if not isinstance(value, str) or matcher(value):
                    return None
                return f"{where} must be {what}; got {describe_value(value)}"

            rules.append(check_format)
        return rules

    @staticmethod
    def _number_rules(schema: Mapping[str, Any]) -> list[Checker]:
        bounds = [
            (schema.get("minimum"), lambda v, b: v >= b, "at least"),
            (schema.get("maximum"), lambda v, b: v <= b, "at most"),
            (schema.get("exclusiveMinimum"), lambda v, b: v > b, "more than"),
            (schema.get("exclusiveMaximum"), lambda v, b: v < b, "less than"),
        ]
        rules: list[Checker] = []
        for bound, ok, words in bounds:
            if bound is None:
                continue

            def check_bound(
                value: Any, where: str, bound: Any = bound, ok: Any = ok, words: str = words
            ) -> str | None:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    return None
                if isinstance(value, float) and not math.isfinite(value):
                    return f"{where} must be a finite number"
                if ok(value, bound):
                    return None
                return f"{where} must be {words} {bound}, got {describe_value(value)}"

            rules.append(check_bound)
        if "type" in schema and schema["type"] == "number":
            rules.append(
                lambda v, where: (
                    f"{where} must be a finite number"
                    if isinstance(v, float) and not math.isfinite(v)
                    else None
                )
            )
        return rules


@functools.cache
def _compiler(api: str, strict: bool) -> _Compiler:
    return _Compiler(api, strict)


def argument_checker(api: str, schema: Mapping[str, Any]) -> Checker:
    """The strict checker for a value the client sends (see the module docstring)."""
    return _compiler(api, True).compile(schema)


def response_checker(api: str, schema: Mapping[str, Any]) -> Checker:
    """The lenient checker for a 2xx body: JSON types, required fields, nullability.

    The generated validator answers for a valid body; the closures explain an invalid one
    (and have the last word: a value they accept is valid).
    """
    from .fastcheck import fast_validator

    compiler = _compiler(api, False)
    full = compiler.ref(schema["$ref"]) if "$ref" in schema else compiler.compile(schema)
    valid = fast_validator(compiler.schemas, schema)

    def check_response(value: Any, where: str) -> str | None:
        return None if valid(value) else full(value, where)

    return check_response
