"""The fast path of the response checks: one generated Python function per schema.

The lenient checkers of ``schema`` are closures that build a message; they make a call per
keyword and per value. A page of call logs passes every check, so what matters on the hot path
is answering "valid?" quickly. :func:`fast_validator` turns a response schema into Python source
(a boolean expression per schema, one function per named component) and compiles it once. The
message for an invalid body still comes from the closures: a ``False`` here only means "ask the
full checker", so the fast path decides nothing the full checker would not
(``tests/test_hot_path.py`` holds the two equal over generated values).

It reads exactly the keywords the lenient checker reads: ``$ref``, ``anyOf``/``oneOf``,
``allOf``, ``type``, ``format: date-time``, ``properties``/``required`` and ``items``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any, Final

__all__ = ["fast_validator"]

Validator = Callable[[Any], bool]

#: A value for ``.get`` that no JSON document contains.
_ABSENT = object()


_fromisoformat = datetime.datetime.fromisoformat


def _datetime_ok(value: str) -> bool:
    try:
        _fromisoformat(value)
    except ValueError:
        return False
    return True


_TYPE_TESTS = {
    "string": "isinstance({v}, str)",
    # 3.0 is an integer in JSON Schema; True is not.
    "integer": (
        "(type({v}) is int or (isinstance({v}, int) and not isinstance({v}, bool))"
        " or (isinstance({v}, float) and {v}.is_integer()))"
    ),
    "number": "(isinstance({v}, (int, float)) and not isinstance({v}, bool))",
    "boolean": "isinstance({v}, bool)",
    "null": "{v} is None",
    "array": "isinstance({v}, (list, tuple))",
    "object": "(type({v}) is dict or isinstance({v}, _Mapping))",
}


#: The keywords a plain object schema may have to be checked by statements (the others are
#: not read by the lenient checker, so they do not change the answer).
_PLAIN_OBJECT_KEYS: Final = frozenset(
    {
        "type",
        "properties",
        "required",
        "description",
        "title",
        "additionalProperties",
        "example",
        "examples",
        "default",
        "nullable",
        "readOnly",
        "writeOnly",
        "deprecated",
    }
)

#: Keywords that make a schema more than a scalar check (or may make it recursive).
_COMPOUND: Final = frozenset({"$ref", "anyOf", "oneOf", "allOf", "properties", "required", "items"})


def _is_datetime(schema: Mapping[str, Any]) -> bool:
    """``{type: string, format: date-time}`` and nothing else the checks read."""
    return (
        schema.get("type") == "string"
        and schema.get("format") == "date-time"
        and _READ_KEYWORDS.isdisjoint(set(schema) - {"type", "format"})
    )


def _datetime_or_null(schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The date-time schema of ``anyOf``/``oneOf`` ``[date-time, {type: null}]`` (either
    order, nothing else read beside it), else None."""
    if not _READ_KEYWORDS.isdisjoint(set(schema) - {"anyOf", "oneOf"}):
        return None
    if ("anyOf" in schema) == ("oneOf" in schema):
        return None
    options = schema.get("anyOf", schema.get("oneOf"))
    if not isinstance(options, (list, tuple)) or len(options) != 2:
        return None
    nulls = [o for o in options if dict(o) == {"type": "null"}]
    dates = [o for o in options if _is_datetime(o)]
    return dates[0] if len(nulls) == 1 and len(dates) == 1 else None


#: Every keyword the checks read (``$ref`` included): a schema with none of them beside the
#: ones a statement form handles is exactly what that form checks.
_READ_KEYWORDS: Final = frozenset(
    {"$ref", "anyOf", "oneOf", "allOf", "type", "format", "properties", "required", "items"}
)


class _Generator:
    """Python source for the schemas of one API, one function per component it reaches."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]]) -> None:
        self.schemas = schemas
        self.functions: dict[str, str] = {}  # function name -> source
        self.named: dict[str, str] = {}  # component name -> function name
        self.counter = 0

    def _new_function(self) -> str:
        self.counter += 1
        return f"_f{self.counter}"

    def function_for(self, schema: Mapping[str, Any]) -> str:
        """The name of a generated function checking ``schema``."""
        if "$ref" in schema:
            return self.ref(schema["$ref"])
        name = self._new_function()
        self.functions[name] = ""  # reserved
        self.functions[name] = self._function(name, schema)
        return name

    def ref(self, component: str) -> str:
        found = self.named.get(component)
        if found is None:
            found = self.named[component] = self._new_function()
            self.functions[found] = ""  # reserved first: a recursive schema refers to itself
            self.functions[found] = self._function(found, self.schemas[component])
        return found

    def _function(self, name: str, schema: Mapping[str, Any]) -> str:
        """The source of the function ``name`` checking ``schema``.

        A plain object schema (the shape of nearly every response) becomes statements inside
        one ``try``: each required property is read by subscript (a missing one raises
        KeyError, which means "invalid"; no other subscript is generated at this level) and
        tested at once, each optional one is read with ``.get``, and a date-time is read with
        ``fromisoformat`` in place (a ValueError means "invalid"; nothing else generated here
        raises one). With nothing to test, the function just returns True. Anything else is
        one boolean expression.
        """
        if not _PLAIN_OBJECT_KEYS.issuperset(schema) or schema.get("type", "object") != "object":
            return f"def {name}(v0):\n    return {self.expression(schema, 'v0', 0)}\n"
        properties = schema.get("properties", {})
        required = list(dict.fromkeys(schema.get("required", ())))
        # Not a mapping: with ``type: object`` invalid; without, the keywords pass it.
        lines = [
            f"def {name}(v0):",
            "    if not (type(v0) is dict or isinstance(v0, _Mapping)):",
            f"        return {'type' not in schema}",
            "    try:",
        ]
        for key in required:
            lines.append(f"        v1 = v0[{key!r}]")
            sub = properties.get(key)
            if sub is not None:
                lines += self._statements(sub, "v1", "        ")
        for key, sub in properties.items():
            if key in required:
                continue
            body = self._statements(sub, "v1", "            ")
            if body:
                lines += [f"        v1 = v0.get({key!r}, _ABSENT)", "        if v1 is not _ABSENT:"]
                lines += body
        if lines[-1] == "    try:":  # nothing to check inside: no try at all
            lines[-1] = "    return True"
        else:
            lines += [
                "    except (KeyError, ValueError):",
                "        return False",
                "    return True",
            ]
        return "\n".join(lines) + "\n"

    def _statements(self, schema: Mapping[str, Any], v: str, indent: str) -> list[str]:
        """Statements returning False when ``v`` fails ``schema`` (nothing when any value
        passes). Inside the function's ``try``: a missing required property (KeyError) or a
        date-time ``fromisoformat`` cannot read (ValueError) means "invalid", so a date-time
        is read in place, not through a call per value. Other schemas are one expression."""
        if _is_datetime(schema):
            return [
                f"{indent}if not isinstance({v}, str):",
                f"{indent}    return False",
                f"{indent}_fromisoformat({v})",
            ]
        options = _datetime_or_null(schema)
        if options is not None:
            return [
                f"{indent}if {v} is not None:",
                *self._statements(options, v, indent + "    "),
            ]
        test = self.expression(schema, v, 1)
        if test == "True":
            return []
        return [f"{indent}if not {test}:", f"{indent}    return False"]

    def expression(self, schema: Mapping[str, Any], v: str, depth: int) -> str:
        """A boolean expression over the variable ``v``: does it pass ``schema``?"""
        if "$ref" in schema:
            target = self.schemas[schema["$ref"]]
            if _COMPOUND.isdisjoint(target):
                return self.expression(target, v, depth)  # a scalar: inline, no call
            return f"{self.ref(schema['$ref'])}({v})"
        parts: list[str] = []
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.expression(option, v, depth) for option in schema[key]]
                parts.append("(" + " or ".join(options or ["False"]) + ")")
        for sub in schema.get("allOf", ()):
            parts.append(self.expression(sub, v, depth))
        kind = schema.get("type")
        kinds = [] if kind is None else [kind] if isinstance(kind, str) else list(kind)
        if kind is not None:
            tests = [_TYPE_TESTS.get(k, "True").format(v=v) for k in kinds]
            parts.append("(" + " or ".join(tests or ["False"]) + ")")
        # Where the type test above already holds the value to one kind, the keyword checks
        # below need not ask again whether it is of their kind (they pass any other kind).
        if schema.get("format") == "date-time":
            shown = "" if kinds == ["string"] else f"not isinstance({v}, str) or "
            parts.append(f"({shown}_datetime_ok({v}))")
        if "properties" in schema or "required" in schema:
            parts.append(self._object(schema, v, depth, typed=kinds == ["object"]))
        if "items" in schema:
            item = self.function_for(schema["items"])
            shown = "" if kinds == ["array"] else f"not isinstance({v}, (list, tuple)) or "
            parts.append(f"({shown}all(map({item}, {v})))")
        return "(" + " and ".join(parts) + ")" if parts else "True"

    def _object(self, schema: Mapping[str, Any], v: str, depth: int, *, typed: bool) -> str:
        inner = f"v{depth + 1}"
        required = list(dict.fromkeys(schema.get("required", ())))
        properties = schema.get("properties", {})
        checks = []
        for name in required:
            sub = properties.get(name)
            test = "True" if sub is None else self.expression(sub, inner, depth + 1)
            if test == "True":
                checks.append(f"{name!r} in {v}")
            else:
                # One look-up answers both "is it there" and "does it pass".
                checks.append(
                    f"(({inner} := {v}.get({name!r}, _ABSENT)) is not _ABSENT and {test})"
                )
        for name, sub in properties.items():
            if name in required:
                continue
            test = self.expression(sub, inner, depth + 1)
            if test != "True":
                checks.append(f"(({inner} := {v}.get({name!r}, _ABSENT)) is _ABSENT or {test})")
        body = " and ".join(checks) if checks else "True"
        if typed:  # the type test already refused anything but a mapping
            return f"({body})"
        # Not a mapping: the type check (if any) reports it, as in the full checker.
        return f"(not (type({v}) is dict or isinstance({v}, _Mapping)) or ({body}))"


def fast_validator(
    schemas: Mapping[str, Mapping[str, Any]], schema: Mapping[str, Any]
) -> Validator:
    """A function telling whether a JSON value passes the lenient check of ``schema``."""
    generator = _Generator(schemas)
    entry = generator.function_for(schema)
    source = "\n".join(generator.functions.values())
    namespace: dict[str, Any] = {
        "_Mapping": Mapping,
        "_ABSENT": _ABSENT,
        "_datetime_ok": _datetime_ok,
        "_fromisoformat": _fromisoformat,
    }
    # The source is built above from the contract's facts (names are repr()-quoted), never
    # from a server's answer.
    exec(compile(source, f"<response checks for {entry}>", "exec"), namespace)  # noqa: S102
    validator: Validator = namespace[entry]
    return validator
