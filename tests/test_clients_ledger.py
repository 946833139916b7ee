"""Business idempotency through the typed clients: races on one key against a local server.

The server's POST handler blocks until every other racer has finished, so the racers that lose
the claim cannot get the recorded call: each must see ``DuplicateCallInFlightError``, and the
server must count exactly one POST.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import stateset_voice_public.models as public_models
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from stateset_voice_wrapper import (
    AsyncVoiceClient,
    DuplicateCallInFlightError,
    IdempotencyConflictError,
    IdempotencyLedger,
    RedisLedger,
    ReliabilityConfig,
    RetryBudget,
    SqliteLedger,
    StateSetVoiceError,
    VoiceClient,
    response_info,
)
from stateset_voice_wrapper.stores import LedgerEntry, fingerprint_request, ledger_scope

if TYPE_CHECKING:
    from tests.flavours import Flavour
else:
    from flavours import Flavour

REPO = Path(__file__).resolve().parent.parent
KEY = "sk_test_ledger"
TO, FROM, AGENT = "+15555555678", "+15555551234", "front_desk"
RACERS = 50


async def _no_sleep(_: float) -> None:
    return None


def _reliability(sleep: Callable[[float], None] | None = None) -> ReliabilityConfig:
    """Instant retries; ``sleep`` (if given) is called for the sync and the async pauses."""
    if sleep is None:
        return ReliabilityConfig(sleep=lambda s: None, async_sleep=_no_sleep, budget=RetryBudget())
    pause = sleep

    async def async_sleep(seconds: float) -> None:
        pause(seconds)

    return ReliabilityConfig(sleep=pause, async_sleep=async_sleep, budget=RetryBudget())


def _call_body() -> dict[str, Any]:
    contract = json.loads((REPO / "api-contracts" / "stateset-voice-public.json").read_text())
    op = contract["paths"]["/api/v1/make-call"]["post"]
    value: dict[str, Any] = op["responses"]["201"]["content"]["application/json"]["examples"][
        "default"
    ]["value"]
    return value


class CallServer:
    """Counts POST /api/v1/make-call; each answer waits for ``release`` (or a timeout)."""

    def __init__(self, httpserver: HTTPServer) -> None:
        self.lock = threading.Lock()
        self.posts = 0
        self.keys: list[str | None] = []
        self.release = threading.Event()
        self.release.set()
        self.base_url = httpserver.url_for("").rstrip("/")
        httpserver.expect_request("/api/v1/make-call", method="POST").respond_with_handler(
            self.handle
        )

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.posts += 1
            self.keys.append(request.headers.get("Idempotency-Key"))
        self.release.wait(timeout=30)
        return Response(
            json.dumps(_call_body()),
            status=201,
            content_type="application/json",
            headers={"x-request-id": f"req_{self.posts}"},
        )


@pytest.fixture
def server(httpserver: HTTPServer) -> CallServer:
    return CallServer(httpserver)


def _client(server: CallServer, ledger: IdempotencyLedger, **kwargs: Any) -> VoiceClient:
    return VoiceClient(
        KEY, base_url=server.base_url, ledger=ledger, reliability=_reliability(), **kwargs
    )


def _create(client: VoiceClient, key: str, **overrides: Any) -> Any:
    params: dict[str, Any] = {"to": TO, "from_": FROM, "agent_key": AGENT}
    params.update(overrides)
    return client.calls.create(idempotency_key=key, **params)


def _voice(flavour: Flavour, base_url: str, ledger: IdempotencyLedger, **kwargs: Any) -> Any:
    """A client of ``flavour`` on ``ledger``; closed at teardown."""
    kwargs.setdefault("reliability", _reliability())
    return flavour.client("voice", KEY, base_url=base_url, ledger=ledger, **kwargs)


def _place(flavour: Flavour, client: Any, key: str | None, **overrides: Any) -> Any:
    """``calls.create`` in ``flavour``, with the business ``key`` unless it is None."""
    params: dict[str, Any] = {"to": TO, "from_": FROM, "agent_key": AGENT, **overrides}
    if key is not None:
        params["idempotency_key"] = key
    return flavour.call(client, lambda c: c.calls.create(**params))


def _fingerprint(**overrides: Any) -> str:
    models = public_models
    body = models.MakeCallRequest(
        to=overrides.get("to", TO),
        from_=overrides.get("from_", FROM),
        agent_key=overrides.get("agent_key", AGENT),
    )
    return fingerprint_request(body.to_dict())


def _race_threads(server: CallServer, ledger: IdempotencyLedger, key: str) -> list[object]:
    """RACERS threads, each with its own client on the shared ledger, create with ``key``."""
    server.release.clear()
    outcomes: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(RACERS)
    clients = [_client(server, ledger) for _ in range(RACERS)]

    def racer(client: VoiceClient) -> None:
        barrier.wait()
        try:
            result: object = _create(client, key)
        except BaseException as exc:
            result = exc
        with lock:
            outcomes.append(result)
            if len(outcomes) >= RACERS - 1:
                server.release.set()  # every loser has answered: let the one POST finish

    threads = [threading.Thread(target=racer, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for client in clients:
        client.close()
    server.release.set()
    return outcomes


def _assert_one_winner(outcomes: list[object]) -> None:
    Call = public_models.Call
    calls = [o for o in outcomes if isinstance(o, Call)]
    dups = [o for o in outcomes if isinstance(o, DuplicateCallInFlightError)]
    others = [o for o in outcomes if not isinstance(o, (Call, DuplicateCallInFlightError))]
    assert others == []
    assert len(outcomes) == RACERS
    assert len(calls) == 1
    assert len(dups) == RACERS - 1
    assert all(isinstance(d, StateSetVoiceError) for d in dups)


def _assert_after_race(server: CallServer, ledger: IdempotencyLedger, key: str) -> None:
    with _client(server, ledger) as client:
        again = _create(client, key)
        assert isinstance(again, public_models.Call)
        assert again.to_dict() == public_models.Call.from_dict(_call_body()).to_dict()
        assert server.posts == 1  # the recorded call, no new POST
        with pytest.raises(IdempotencyConflictError):
            _create(client, key, to="+15555550199")
        with pytest.raises(IdempotencyConflictError):
            _create(client, key, greeting="a different greeting")
    assert server.posts == 1


# -- (a) 50 threads, SqliteLedger ---------------------------------------------------------------


def test_sqlite_50_threads_one_post(server: CallServer, tmp_path: Path) -> None:
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        outcomes = _race_threads(server, ledger, "same")
        assert server.posts == 1
        assert server.keys == ["same"]
        _assert_one_winner(outcomes)
        _assert_after_race(server, ledger, "same")


def test_sqlite_threads_with_separate_ledger_objects(server: CallServer, tmp_path: Path) -> None:
    """Each thread opens its own SqliteLedger on the same file (as separate workers would)."""
    path = tmp_path / "calls.db"
    server.release.clear()
    outcomes: list[object] = []
    lock = threading.Lock()
    n = 16
    barrier = threading.Barrier(n)

    def racer() -> None:
        with SqliteLedger(path) as ledger, _client(server, ledger) as client:
            barrier.wait()
            try:
                result: object = _create(client, "own-ledgers")
            except BaseException as exc:
                result = exc
            with lock:
                outcomes.append(result)
                if len(outcomes) >= n - 1:
                    server.release.set()

    threads = [threading.Thread(target=racer) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    server.release.set()
    assert server.posts == 1
    assert len(outcomes) == n
    assert sum(isinstance(o, DuplicateCallInFlightError) for o in outcomes) == n - 1


# -- (b) 4 processes, SqliteLedger ----------------------------------------------------------------


def _process_worker(db_path: str, base_url: str, results: Any, start: Any) -> None:
    """Top level so that the spawn context can import it: one client, one create."""
    ledger = SqliteLedger(db_path)
    try:
        with VoiceClient(
            KEY, base_url=base_url, ledger=ledger, reliability=_reliability()
        ) as client:
            start.wait(timeout=60)
            try:
                call = _create(client, "proc-key")
                results.put(("call", call.call_id))
            except DuplicateCallInFlightError:
                results.put(("dup", None))
            except BaseException as exc:
                results.put(("error", repr(exc)))
    finally:
        ledger.close()


def test_sqlite_4_processes_one_post(server: CallServer, tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    start = ctx.Barrier(4)
    db_path = str(tmp_path / "calls.db")
    server.release.clear()
    procs = [
        ctx.Process(target=_process_worker, args=(db_path, server.base_url, results, start))
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    outcomes: list[tuple[str, str | None]] = []
    try:
        for _ in range(4):
            try:
                outcomes.append(results.get(timeout=90))
            except queue.Empty:
                break
            if len(outcomes) == 3:
                server.release.set()  # the three losers answered: let the one POST finish
    finally:
        server.release.set()
        for proc in procs:
            proc.join(timeout=60)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    assert server.posts == 1
    assert sorted(kind for kind, _ in outcomes) == ["call", "dup", "dup", "dup"]
    with SqliteLedger(db_path) as ledger:
        _assert_after_race(server, ledger, "proc-key")


# -- (c) 50 threads, RedisLedger ------------------------------------------------------------------


@pytest.fixture
def redis_ledger(redis_url: str) -> Iterator[RedisLedger]:
    ledger = RedisLedger(redis_url, namespace=f"test:clients:{uuid.uuid4().hex}")
    try:
        yield ledger
    finally:
        ledger.close()


def test_redis_50_threads_one_post(server: CallServer, redis_ledger: RedisLedger) -> None:
    key = f"same-{uuid.uuid4().hex}"
    outcomes = _race_threads(server, redis_ledger, key)
    assert server.posts == 1
    assert server.keys == [key]
    _assert_one_winner(outcomes)
    _assert_after_race(server, redis_ledger, key)


# -- (d) crash recovery ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_crash_between_send_and_record_is_recovered(
    flavour: Flavour, backend: str, server: CallServer, tmp_path: Path, redis_url: str
) -> None:
    clock = FakeClock()
    ledger: IdempotencyLedger
    if backend == "sqlite":
        ledger = SqliteLedger(tmp_path / "calls.db", clock=clock, lease_seconds=120)
    else:
        ledger = RedisLedger(
            redis_url, namespace=f"test:crash:{uuid.uuid4().hex}", clock=clock, lease_seconds=120
        )
    key = "appt-A-123-confirm"
    with ledger:
        client = _voice(flavour, server.base_url, ledger)
        # The "crashed" worker used the same API and key, so the same scope; it never records.
        crashed = ledger.begin(key, fingerprint=_fingerprint(), scope=client.ledger_scope)
        assert isinstance(crashed, LedgerEntry)
        with pytest.raises(DuplicateCallInFlightError):
            _place(flavour, client, key)  # the lease is still live
        assert server.posts == 0
        clock.now += 121  # past the lease
        call = _place(flavour, client, key)
        assert isinstance(call, public_models.Call)
        assert server.posts == 1
        assert server.keys == [key]  # the same key again: the server deduplicates
        # The stale holder wakes up and records: harmless, the takeover already recorded.
        crashed.record(b'{"stale": true}')
        again = _place(flavour, client, key)
        assert again.to_dict() == call.to_dict()
        assert server.posts == 1
        flavour.close_client(client)


def test_failed_create_releases_the_key(
    flavour: Flavour, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_ordered_request("/api/v1/make-call").respond_with_json(
        {"code": "invalid_request", "message": "bad", "request_id": "r1"}, status=400
    )
    httpserver.expect_ordered_request("/api/v1/make-call").respond_with_json(
        _call_body(), status=201
    )
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        client = _voice(flavour, httpserver.url_for("").rstrip("/"), ledger)
        with pytest.raises(StateSetVoiceError) as info:
            _place(flavour, client, "retry-me")
        assert info.value.status_code == 400
        call = _place(flavour, client, "retry-me")  # not "in flight": the failed attempt let go
        assert isinstance(call, public_models.Call)
        flavour.close_client(client)
    keys = [req.headers["Idempotency-Key"] for req, _ in httpserver.log]
    assert keys == ["retry-me", "retry-me"]


def test_without_business_key_the_ledger_is_not_used(
    flavour: Flavour, server: CallServer, tmp_path: Path
) -> None:
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        client = _voice(flavour, server.base_url, ledger)
        _place(flavour, client, None)
        _place(flavour, client, None)
        flavour.close_client(client)
    assert server.posts == 2
    assert server.keys[0] != server.keys[1]


def test_response_info_says_when_the_ledger_answered(
    flavour: Flavour, server: CallServer, tmp_path: Path
) -> None:
    """A call the ledger returns from its record shows ``from_ledger`` (and no request ID, no
    attempts); the next request made in the same block clears it again."""
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        client = _voice(flavour, server.base_url, ledger)
        with response_info() as live:
            first = _place(flavour, client, "info-1")
        with response_info() as replay:
            again = _place(flavour, client, "info-1")
        assert (live.from_ledger, live.replayed, live.attempts) == (False, False, 1)
        assert live.request_id is not None
        assert live.status_code == 201
        assert again.call_id == first.call_id
        assert server.posts == 1
        assert (replay.from_ledger, replay.replayed, replay.attempts) == (True, True, 0)
        assert (replay.request_id, replay.status_code, replay.attempt_records) == (None, None, ())
        assert replay.idempotency_key == "info-1"
        with response_info() as both:
            _place(flavour, client, "info-1")
            assert both.from_ledger
            _place(flavour, client, "info-2")
        flavour.close_client(client)
    assert (both.from_ledger, both.attempts, both.idempotency_key) == (False, 1, "info-2")
    assert server.posts == 2


def test_wait_for_in_flight_returns_the_recorded_call(
    flavour: Flavour, server: CallServer, tmp_path: Path
) -> None:
    with SqliteLedger(tmp_path / "calls.db") as ledger:
        scope = ledger_scope(base_url=server.base_url, credential=KEY)  # the client's
        holder = ledger.begin("waited", fingerprint=_fingerprint(), scope=scope)
        assert isinstance(holder, LedgerEntry)
        sleeps: list[float] = []

        def sleep(seconds: float) -> None:  # the holder finishes while we "sleep"
            sleeps.append(seconds)
            holder.record(json.dumps(_call_body()).encode())

        client = _voice(flavour, server.base_url, ledger, reliability=_reliability(sleep))
        call = _place(flavour, client, "waited", wait_for_in_flight=5)
        flavour.close_client(client)
        assert call.call_id == _call_body()["call_id"]
        assert sleeps
        assert server.posts == 0


def test_async_tasks_race_one_post(server: CallServer, tmp_path: Path) -> None:
    n = 20
    server.release.clear()

    async def main(ledger: IdempotencyLedger) -> list[object]:
        done = 0

        async def one(voice: AsyncVoiceClient) -> object:
            nonlocal done
            try:
                result: object = await voice.calls.create(
                    to=TO, from_=FROM, agent_key=AGENT, idempotency_key="async-key"
                )
            except DuplicateCallInFlightError as exc:
                result = exc
            done += 1
            if done >= n - 1:
                server.release.set()
            return result

        async with AsyncVoiceClient(
            KEY, base_url=server.base_url, ledger=ledger, reliability=_reliability()
        ) as voice:
            outcomes = list(await asyncio.gather(*(one(voice) for _ in range(n))))
            again = await voice.calls.create(
                to=TO, from_=FROM, agent_key=AGENT, idempotency_key="async-key"
            )
            assert isinstance(again, public_models.Call)
            with pytest.raises(IdempotencyConflictError):
                await voice.calls.create(
                    to=TO, from_=FROM, agent_key="other_agent", idempotency_key="async-key"
                )
        return outcomes

    with SqliteLedger(tmp_path / "calls.db") as ledger:
        try:
            outcomes = asyncio.run(main(ledger))
        finally:
            server.release.set()
    assert server.posts == 1
    assert sum(isinstance(o, public_models.Call) for o in outcomes) == 1
    assert sum(isinstance(o, DuplicateCallInFlightError) for o in outcomes) == n - 1
