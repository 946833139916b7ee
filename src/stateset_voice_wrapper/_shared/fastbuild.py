"""The typed path of a 2xx answer: the response check and the generated model, in one pass.

A typed call used to check the JSON against the contract (``schema``'s lenient checker, fast
path in ``fastcheck``) and then build the generated model with its ``from_dict``: two walks
over the same value, the second with a closure, a cast and a ``dict.pop`` per field.
:func:`fast_builder` generates, from the same schema facts, one Python function per model that
reads each value once, tests it as the lenient checker does, converts it as ``from_dict``
does (date-times with ``fromisoformat``, enums through the generated class, so a value the
contract does not list is kept) and calls the generated class.

It decides only for a body that passes: None means "check and build the long way",
which explains the failure as before, so a builder can be cautious and lose nothing (it reads
what ``json.loads`` makes: a tuple, or a mapping that is not a dict, goes the long way). A model
with a shape it does not know has no builder at all (``None``) and is read the long way.
``tests/test_fastbuild.py`` holds a built model equal to the check plus ``from_dict``, field
by field and type by type, over bodies generated from every component schema.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Final

import attrs

from .fastcheck import _TYPE_TESTS

__all__ = ["Builder", "fast_builder"]

#: The model built from a JSON body, or None: "ask the check and ``from_dict``".
Builder = Callable[[Any], Any]


class _Invalid(ValueError):
    """Raised inside the generated functions; the entry point turns it into None."""


class _Unsupported(Exception):
    """A shape the generator does not build: the model keeps the long way."""


#: Formats whose value ``from_dict`` keeps as the JSON string (or number) it is.
_PLAIN_FORMATS: Final = frozenset({None, "email", "uri", "int32", "int64", "float", "double"})
_SCALARS: Final = frozenset({"string", "integer", "number", "boolean"})
#: Keywords neither the lenient check nor ``from_dict`` reads on a scalar.
_SCALAR_KEYS: Final = frozenset(
    {"type", "format", "pattern", "minLength", "maxLength", "minimum", "maximum", "default"}
    | {"exclusiveMinimum", "exclusiveMaximum", "description", "title", "example", "examples"}
    | {"readOnly", "writeOnly", "deprecated"}
)
_OBJECT_KEYS: Final = frozenset(
    {"type", "properties", "required", "additionalProperties", "description", "title"}
    | {"example", "examples", "default", "readOnly", "writeOnly", "deprecated"}
)
_IDENTIFIER: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _loose(name: str) -> str:
    """A name with case and separators dropped (``from`` ~ ``from_``, ``agentKey`` ~
    ``agent_key``): a sanity check of the field order, not a naming rule."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


class _Generator:
    """Python source building the generated models of one API, one function per model."""

    def __init__(self, schemas: Mapping[str, Mapping[str, Any]], models: ModuleType) -> None:
        self.schemas = schemas
        self.models = models
        self.functions: dict[str, str] = {}  # function name -> source
        self.named: dict[type, str] = {}  # model class -> function name
        self.namespace: dict[str, Any] = {
            "_Invalid": _Invalid,
            "_fromisoformat": datetime.datetime.fromisoformat,
        }

    def constant(self, value: Any, prefix: str) -> str:
        """A name in the generated functions' namespace for ``value``."""
        name = f"_{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def resolve(self, schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        """The schema behind a ``$ref`` (alone: siblings would be read) and its component."""
        if "$ref" not in schema:
            return schema, None
        if len(schema) != 1:
            raise _Unsupported("$ref with siblings")
        return self.schemas[schema["$ref"]], schema["$ref"]

    def classes(self, annotation: str) -> set[type]:
        """The generated classes an attrs field's annotation names."""
        return {
            value
            for word in _IDENTIFIER.findall(annotation)
            if isinstance(value := getattr(self.models, word, None), type)
        }

    def model_class(self, annotation: str, component: str | None) -> type:
        """The one generated class an attrs field's annotation names."""
        found = self.classes(annotation)
        if len(found) != 1:
            raise _Unsupported(f"annotation {annotation!r}")
        cls = found.pop()
        if component is not None and cls.__name__ != component:
            raise _Unsupported(f"{component} is generated as {cls.__name__}")
        return cls

    def function_for(self, cls: type, schema: Mapping[str, Any]) -> str:
        """The name of the generated function building ``cls`` from a body of ``schema``."""
        found = self.named.get(cls)
        if found is None:
            found = self.named[cls] = f"_b{len(self.named) + 1}"
            self.functions[found] = ""  # reserved first: a recursive schema refers to itself
            self.functions[found] = self._function(found, cls, schema)
        return found

    def _function(self, name: str, cls: type, schema: Mapping[str, Any]) -> str:
        if not _OBJECT_KEYS.issuperset(schema) or schema.get("type") != "object":
            raise _Unsupported(f"{cls.__name__} is not a plain object schema")
        if schema.get("additionalProperties", True) is not True:
            raise _Unsupported("additionalProperties other than true")
        fields = attrs.fields(cls)
        extra = next((f for f in fields if f.name == "additional_properties"), None)
        if extra is None or extra.init:
            raise _Unsupported(f"{cls.__name__} keeps no additional properties")
        properties = schema.get("properties", {})
        required = list(dict.fromkeys(schema.get("required", ())))
        if not set(required) <= set(properties):
            raise _Unsupported("a required key without a property")
        # from_dict's order: the required properties, then the others, each in schema order.
        keys = [k for k in properties if k in required] + [
            k for k in properties if k not in required
        ]
        own = [f for f in fields if f.name != "additional_properties"]
        if len(own) != len(keys) or any(
            _loose(f.name) != _loose(k) or not isinstance(f.type, str)
            for f, k in zip(own, keys, strict=True)
        ):
            raise _Unsupported(f"{cls.__name__}'s fields do not follow its properties")
        lines = [
            f"def {name}(v0):",
            "    if type(v0) is not dict:",
            "        raise _Invalid",
        ]
        arguments = []
        unset = self.constant(_unset_of(self.models), "u")
        for number, (key, field) in enumerate(zip(keys, own, strict=True), 1):
            var = f"a{number}"
            assert isinstance(field.type, str)  # checked above
            step = self._value(properties[key], var, field.type)
            if key in required:
                lines.append(f"    {var} = v0[{key!r}]")
                lines += step.lines("    ")
            else:
                lines.append(f"    {var} = v0.get({key!r}, {unset})")
                if step.test is not None and not step.convert:
                    lines += [
                        f"    if not ({var} is {unset} or {step.test}):",
                        "        raise _Invalid",
                    ]
                elif step.test is not None or step.convert:
                    lines.append(f"    if {var} is not {unset}:")
                    lines += step.lines("        ")
            arguments.append(f"{field.alias}={var}")
        known = self.constant(frozenset(keys), "k")
        made = self.constant(cls, "c")
        lines += [
            f"    o = {made}({', '.join(arguments)})",
            f"    if not {known}.issuperset(v0):",
            "        o.additional_properties = "
            f"{{k: x for k, x in v0.items() if k not in {known}}}",
            "    return o",
        ]
        return "\n".join(lines) + "\n"

    def _value(self, schema: Mapping[str, Any], v: str, annotation: str) -> _Step:
        """How to read ``v``: the test the lenient check makes of it, and the statements that
        rebind it to what ``from_dict`` makes of it (they raise ``_Invalid``, KeyError or
        ValueError when it does not pass)."""
        target, component = self.resolve(schema)
        options = target.get("anyOf", target.get("oneOf"))
        if options is not None:
            if (
                set(target) - {"anyOf", "oneOf", "description", "title", "default"}
                or len(options) != 2
                or ("anyOf" in target) == ("oneOf" in target)
            ):
                raise _Unsupported("a union other than [X, null]")
            others = [o for o in options if dict(o) != {"type": "null"}]
            if len(others) != 1:
                raise _Unsupported("a union other than [X, null]")
            inner = self._value(others[0], v, annotation)
            if not inner.convert:
                test = None if inner.test is None else f"({v} is None or {inner.test})"
                return _Step(test)
            return _Step(None, [f"if {v} is not None:", *inner.lines("    ")])
        kind = target.get("type")
        if kind == "array":
            return self._array(target, v, annotation)
        if kind == "object":
            cls = self.model_class(annotation, component)
            if "properties" in target or "required" in target:
                return _Step(None, [f"{v} = {self.function_for(cls, target)}({v})"])
            return self._open_object(target, cls, v)
        if not isinstance(kind, str) or kind not in _SCALARS:
            raise _Unsupported(f"type {kind!r}")
        test = _TYPE_TESTS[kind].format(v=v)
        if "enum" in target:  # read through the generated enum: an unlisted value is kept
            if kind != "string" or not _SCALAR_KEYS.issuperset(set(target) - {"enum"}):
                raise _Unsupported("an enum other than of strings")
            cls = self.model_class(annotation, component)
            if not issubclass(cls, enum.Enum):
                raise _Unsupported(f"{cls.__name__} is not an enum")
            # The members by value, looked up in C; anything else through the class.
            members = self.constant({m.value: m for m in cls}, "m")
            made = self.constant(cls, "e")
            if all(m.value for m in cls):  # no falsy member for `or` to pass over
                return _Step(test, [f"{v} = {members}.get({v}) or {made}({v})"])
            return _Step(test, [f"{v} = {members}[{v}] if {v} in {members} else {made}({v})"])
        if "const" in target:  # from_dict refuses any other value
            if not _SCALAR_KEYS.issuperset(set(target) - {"const"}):
                raise _Unsupported("const with other keywords")
            return _Step(f"({test} and {v} == {target['const']!r})")
        if not _SCALAR_KEYS.issuperset(target) or self.classes(annotation):
            raise _Unsupported(f"a scalar annotated {annotation!r}")
        if target.get("format") == "date-time" and kind == "string":
            return _Step(test, [f"{v} = _fromisoformat({v})"])
        if target.get("format") not in _PLAIN_FORMATS:
            raise _Unsupported(f"format {target.get('format')!r}")
        return _Step(test)

    def _array(self, target: Mapping[str, Any], v: str, annotation: str) -> _Step:
        if set(target) - {"type", "items", "description", "title", "minItems", "maxItems"}:
            raise _Unsupported("array keywords")
        test = f"(type({v}) is list)"
        if "items" not in target:
            return _Step(test)
        inner = self._value(target["items"], "x", annotation)
        if not inner.convert:  # kept as it is, every item tested
            return _Step(test, [f"for x in {v}:", *inner.lines("    ")] if inner.test else [])
        if inner.test is None and len(inner.convert) == 1 and inner.convert[0].startswith("x = "):
            call = inner.convert[0][len("x = ") :]  # one call per item
            return _Step(test, [f"{v} = [{call} for x in {v}]"])
        raise _Unsupported("array items converted in more than one step")

    def _open_object(self, target: Mapping[str, Any], cls: type, v: str) -> _Step:
        """An object with no properties: from_dict keeps a copy of every key."""
        if (
            not _OBJECT_KEYS.issuperset(target)
            or target.get("additionalProperties", True) is not True
        ):
            raise _Unsupported("an open object with other keywords")
        names = [f.name for f in attrs.fields(cls)]
        if names != ["additional_properties"]:
            raise _Unsupported(f"{cls.__name__} has fields")
        made = self.constant(cls, "c")
        function = f"_o{len(self.functions) + 1}"
        self.functions[function] = (
            f"def {function}(v0):\n"
            "    if type(v0) is not dict:\n"
            "        raise _Invalid\n"
            f"    o = {made}()\n"
            "    o.additional_properties = dict(v0)\n"
            "    return o\n"
        )
        return _Step(None, [f"{v} = {function}({v})"])


@attrs.frozen
class _Step:
    """How one value is read: a test that must hold (None: any value passes it) and then the
    statements converting it, unindented."""

    test: str | None
    convert: list[str] = attrs.field(factory=list)

    def lines(self, indent: str) -> list[str]:
        """The step as statements at ``indent``."""
        found = [f"{indent}if not {self.test}:", f"{indent}    raise _Invalid"] if self.test else []
        return found + [indent + line for line in self.convert]


def _unset_of(models: ModuleType) -> Any:
    """The ``UNSET`` of the generated package that ``models`` belongs to."""
    import importlib

    package = models.__name__.rpartition(".")[0]
    return importlib.import_module(f"{package}.types").UNSET


def fast_builder(
    schemas: Mapping[str, Mapping[str, Any]], component: str, models: ModuleType
) -> Builder | None:
    """A function building the generated model ``component`` from a JSON body in one pass,
    or None when the model has a shape the generator does not build. The function returns
    None for a body the check would refuse or ``from_dict`` would not build (and may for one
    they would): the caller then takes the long way."""
    generator = _Generator(schemas, models)
    try:
        cls = generator.model_class(component, component)
        entry = generator.function_for(cls, schemas[component])
        source = "\n".join(generator.functions.values())
        namespace = dict(generator.namespace)
        # The source is built above from the contract's facts (keys are repr()-quoted) and the
        # generated classes, never from a server's answer.
        exec(compile(source, f"<model builders for {component}>", "exec"), namespace)  # noqa: S102
    except Exception:  # any shape or class it cannot build: the long way
        # (tests/test_fastbuild.py holds that every model of both contracts gets a builder).
        return None
    built: Builder = namespace[entry]

    def build(value: Any) -> Any:
        try:
            return built(value)
        except Exception:  # _Invalid, a missing key, or anything else: the long way decides
            return None

    return build
