"""Every operation and every parameter of both contracts, reachable through the four typed clients.

Nothing here lists an operation or a parameter by hand: the cases are computed from the
generated facts (``stateset_voice_facts``), which ``scripts/regenerate`` writes from the pinned
contracts. For each operation the test finds the client methods marked with ``@implements``
(sync and async), checks that each parameter of the contract is a parameter of each method, and
then calls each method once per parameter against a loopback server and checks that the value
arrived where the contract puts it (path, query, header, JSON or form body).

A contract that gains an operation or a parameter fails here, naming it, until the clients
follow. ``tests/test_contract_change.py`` shows that end to end on a copy of the repository.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

import hypothesis
import hypothesis.strategies as st
import pytest
import stateset_voice_facts as facts
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from stateset_voice_wrapper import ReliabilityConfig

if TYPE_CHECKING:
    from tests.flavours import FLAVOURS, Flavour, FlavourName, Kind, client_class
else:
    from flavours import FLAVOURS, Flavour, FlavourName, Kind, client_class

REPO = Path(__file__).resolve().parents[1]
KEY = "sk_test_coverage"
#: The contract's name of an API -> the kind of client that speaks it.
KINDS: dict[str, Kind] = {"public": "voice", "admin": "admin"}


# -- the methods of each operation, found through @implements ------------------------------------


@dataclass(frozen=True)
class Method:
    label: str  # "calls.create"
    function: Callable[..., Any]  # unbound, from the resource class

    @property
    def renamed(self) -> dict[str, str]:
        renamed: dict[str, str] = self.function.__renamed__  # type: ignore[attr-defined]
        return renamed

    @property
    def form(self) -> str | None:
        form: str | None = self.function.__form__  # type: ignore[attr-defined]
        return form

    @property
    def iterates(self) -> bool:
        return self.function.__name__ == "list"


def _resources(client_class: type[Any]) -> Iterator[tuple[str, type[Any]]]:
    client = client_class(KEY, base_url="https://voice.example.com")
    yield "", client_class
    for name, value in vars(client).items():
        if hasattr(value, "_owner") and not name.startswith("_"):
            yield f"{name}.", type(value)


def methods_of(api: str, flavour: FlavourName) -> dict[str, list[Method]]:
    """operationId -> the methods of one client that call it."""
    found: dict[str, list[Method]] = {}
    for prefix, cls in _resources(client_class(flavour, KINDS[api])):
        for name, member in inspect.getmembers(cls, callable):
            operation_id = getattr(member, "__operation_id__", None)
            if operation_id is not None:
                found.setdefault(operation_id, []).append(Method(prefix + name, member))
    return found


METHODS = {(api, flavour): methods_of(api, flavour) for api in KINDS for flavour in FLAVOURS}
OPERATIONS = sorted(facts.OPERATIONS)


def _methods(operation_id: str, flavour: Flavour) -> list[Method]:
    return METHODS[(facts.OPERATIONS[operation_id]["api"], flavour.name)].get(operation_id, [])


def _parameters(operation_id: str) -> list[dict[str, Any]]:
    """Every parameter of an operation, body fields included, with its location."""
    op = facts.OPERATIONS[operation_id]
    found: list[dict[str, Any]] = [dict(p) for p in op["parameters"]]
    body = op["body"]
    if body is not None:
        location = "json" if body["content_type"] == "application/json" else "form"
        found.extend({**field, "location": location} for field in body["fields"])
    return found


def _reaches(method: Method, param: dict[str, Any]) -> bool:
    """Whether ``method`` takes ``param``: as a keyword, renamed, or inside its form mapping."""
    if param["location"] == "form":
        return method.form is not None
    if method.iterates and param["name"] in ("limit", "offset"):
        return True  # list() pages by itself; page_size sets the limit
    name = method.renamed.get(param["python_name"], param["python_name"])
    return name in inspect.signature(method.function).parameters


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_operation_has_a_method(operation_id: str, flavour: Flavour) -> None:
    assert _methods(operation_id, flavour), (
        f"{operation_id} ({facts.OPERATIONS[operation_id]['method']}"
        f" {facts.OPERATIONS[operation_id]['path']}) has no {flavour.name} client method:"
        " add one marked @implements(...)"
    )


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_parameter_is_a_parameter_of_every_method(
    operation_id: str, flavour: Flavour
) -> None:
    missing = [
        f"{method.label}() lacks {param['python_name']!r} ({param['location']} {param['name']!r})"
        for method in _methods(operation_id, flavour)
        for param in _parameters(operation_id)
        if not _reaches(method, param)
    ]
    assert not missing, f"{operation_id}: " + "; ".join(missing)


def test_paged_operations_have_a_page_and_an_iterator(flavour: Flavour) -> None:
    for operation_id, op in facts.OPERATIONS.items():
        names = {m.function.__name__ for m in _methods(operation_id, flavour)}
        if op["paged"]:
            assert names == {"list", "list_page"}, (operation_id, names)
        else:
            assert names.isdisjoint({"list", "list_page"}), (operation_id, names)


# -- values the contract accepts, synthesised from the schemas -------------------------------------


def _resolve(api: str, schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = facts.SCHEMAS[api][schema["$ref"]]
    return schema


def sample(api: str, schema: dict[str, Any]) -> Any:
    """A value the schema accepts, preferring non-default ones so that the wire shows it."""
    schema = _resolve(api, schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return sample(api, options[0])
    if "enum" in schema:
        values = [v for v in schema["enum"] if v != schema.get("default")]
        return values[-1]
    kind = schema.get("type")
    if kind == "boolean":
        return not schema.get("default", True)
    if kind == "integer":
        low, high = schema.get("minimum", 0), schema.get("maximum", 1000)
        return next(
            v for v in (low + 1, low, high) if low <= v <= high and v != schema.get("default")
        )
    if kind == "number":
        low, high = schema.get("minimum", 0), schema.get("maximum", 1000)
        return (low + high) / 4 if high < 1000 else low + 0.5
    if kind == "array":
        return [sample(api, schema.get("items", {"type": "string"}))]
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", ()))
        value = {
            n: sample(api, s) for n, s in schema.get("properties", {}).items() if n in required
        }
        return value or {"key": "value"}
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2026-11-20T15:04:05+00:00"
    if fmt == "email":
        return "ops@example.com"
    if fmt == "uri":
        return "https://hooks.example.com/stateset"
    if "pattern" in schema:
        # The simplest string the pattern fully matches (hypothesis shrinks to it, so the same
        # value every run), made distinctive where the pattern allows.
        strategy = st.from_regex(schema["pattern"], fullmatch=True)
        return hypothesis.find(strategy, lambda s: len(s) >= schema.get("minLength", 0))
    low, high = schema.get("minLength", 1), schema.get("maxLength", 64)
    return ("v" + "x" * 63)[: max(low, min(high, 8))]


def _example(operation_id: str) -> tuple[int, str | None, Any]:
    """The contract's own 2xx example: (status, content type, value)."""
    op = facts.OPERATIONS[operation_id]
    doc = json.loads((REPO / "api-contracts" / facts.CONTRACTS[op["api"]]["file"]).read_text())
    raw = doc["paths"][op["path"]][op["method"].lower()]["responses"]
    for status, response in raw.items():
        if status.startswith("2"):
            for content_type, media in (response.get("content") or {}).items():
                return int(status), content_type, media["examples"]["default"]["value"]
            return int(status), None, None
    raise KeyError(operation_id)


def _required_arguments(operation_id: str, method: Method) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments with every required parameter filled in."""
    api = facts.OPERATIONS[operation_id]["api"]
    signature = inspect.signature(method.function)
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    form: dict[str, str] = {}
    for param in _parameters(operation_id):
        if not param["required"]:
            continue
        value = sample(api, param["schema"])
        if param["location"] == "form":
            form[param["name"]] = str(value)
            continue
        name = method.renamed.get(param["python_name"], param["python_name"])
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            args.append(value)
        else:
            kwargs[name] = value
    if method.form is not None:
        kwargs[method.form] = form
    return args, kwargs


def _bound(client: Any, method: Method) -> Callable[..., Any]:
    """``method`` of ``client`` (``client.calls.create`` for "calls.create")."""
    resource_name, _, name = method.label.rpartition(".")
    owner = getattr(client, resource_name) if resource_name else client
    return getattr(owner, name)  # type: ignore[no-any-return]


def _call(
    flavour: Flavour, api: str, base_url: str, method: Method, *args: Any, **kwargs: Any
) -> Any:
    reliability = ReliabilityConfig(max_retries=0, sleep=lambda _: None)
    client = flavour.client(KINDS[api], KEY, base_url=base_url, reliability=reliability)
    result = _bound(client, method)(*args, **kwargs)
    return flavour.collect(result) if method.iterates else flavour.run(result)


def _serve_example(httpserver: HTTPServer, operation_id: str, seen: list[Request]) -> None:
    status, content_type, value = _example(operation_id)
    if value is not None and facts.OPERATIONS[operation_id]["paged"]:
        value = {**value, "has_more": False}

    def handler(request: Request) -> Response:
        seen.append(request)
        if content_type is None:
            return Response(status=status)
        offset = int(request.args.get("offset", "0"))
        body = (
            {**value, "offset": offset} if isinstance(value, dict) and "offset" in value else value
        )
        if isinstance(body, dict) and "items" in body:
            body = {**body, "total": offset + len(body["items"])}
        data = json.dumps(body) if content_type.endswith("json") else body
        return Response(data, status=status, content_type=content_type)

    httpserver.expect_request(re.compile(".*")).respond_with_handler(handler)


def _on_the_wire(request: Request, param: dict[str, Any], value: Any) -> bool:
    name, location = param["name"], param["location"]
    if location == "query":
        expected = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return request.args.getlist(name) == [expected]
    if location == "path":
        return quote(str(value), safe="") in request.full_path.split("?")[0]
    if location == "header":
        return bool(request.headers.get(name) == value)
    if location == "json":
        body = request.get_json(silent=True)
        return isinstance(body, dict) and name in body and body[name] == value
    if location == "form":
        return parse_qs(request.get_data(as_text=True)).get(name) == [str(value)]
    raise AssertionError(f"unknown location {location}")


def _cases() -> Iterator[Any]:
    for operation_id in OPERATIONS:
        for param in _parameters(operation_id):
            yield pytest.param(
                operation_id, param["python_name"], id=f"{operation_id}-{param['python_name']}"
            )


@pytest.mark.parametrize(("operation_id", "python_name"), list(_cases()))
def test_every_parameter_reaches_the_wire(
    operation_id: str, python_name: str, flavour: Flavour, httpserver: HTTPServer
) -> None:
    op = facts.OPERATIONS[operation_id]
    param = next(p for p in _parameters(operation_id) if p["python_name"] == python_name)
    value = sample(op["api"], param["schema"])
    seen: list[Request] = []
    _serve_example(httpserver, operation_id, seen)
    base_url = httpserver.url_for("").rstrip("/")
    for method in _methods(operation_id, flavour):
        if method.iterates and param["name"] in ("limit", "offset"):
            continue
        seen.clear()
        args, kwargs = _required_arguments(operation_id, method)
        if param["location"] == "form":
            kwargs[method.form or ""][param["name"]] = str(value)
        elif not param["required"]:
            kwargs[method.renamed.get(python_name, python_name)] = value
        _call(flavour, op["api"], base_url, method, *args, **kwargs)
        assert seen, f"{method.label}() sent nothing"
        request = seen[0]
        assert request.method == op["method"]
        assert _on_the_wire(request, param, value), (
            f"{method.label}(): {param['location']} parameter {param['name']!r} = {value!r}"
            f" did not arrive: {request.method} {request.full_path}"
        )


# -- automatic idempotency keys: minted by the transport only, and only when enabled -------------

CREATING = [
    operation_id
    for operation_id, op in facts.OPERATIONS.items()
    if op["method"] == "POST" and op["idempotency_key"]
]


@pytest.mark.parametrize("operation_id", CREATING)
@pytest.mark.parametrize(
    ("auto", "caller_key"), [(False, None), (False, "biz-1"), (True, "biz-2"), (True, None)]
)
def test_idempotency_keys_follow_the_setting_and_the_caller(
    operation_id: str, flavour: Flavour, auto: bool, caller_key: str | None, httpserver: HTTPServer
) -> None:
    op = facts.OPERATIONS[operation_id]
    seen: list[Request] = []
    _serve_example(httpserver, operation_id, seen)
    base_url = httpserver.url_for("").rstrip("/")
    (method,) = _methods(operation_id, flavour)
    args, kwargs = _required_arguments(operation_id, method)
    if caller_key is not None:
        kwargs["idempotency_key"] = caller_key
    reliability = ReliabilityConfig(max_retries=0, auto_idempotency_keys=auto)
    client = flavour.client(KINDS[op["api"]], KEY, base_url=base_url, reliability=reliability)
    flavour.within(client, lambda c: _bound(c, method)(*args, **kwargs))
    sent = seen[0].headers.get("Idempotency-Key")
    if caller_key is not None:
        assert sent == caller_key  # a key the caller passes always wins
    elif auto:
        assert sent is not None  # one generated by the transport
        assert len(sent) == 36
    else:
        assert sent is None
