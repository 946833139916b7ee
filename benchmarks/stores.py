"""The ledger's stores at fleet scale: sizing, purges, fairness, round trips, eviction.

    .venv/bin/python benchmarks/stores.py sizing      # bytes per key, Redis and SQLite
    .venv/bin/python benchmarks/stores.py purge [--rows 1000000]
    .venv/bin/python benchmarks/stores.py fairness [--processes 2 8 32] [--seconds 5] [--think-ms 0]
    .venv/bin/python benchmarks/stores.py roundtrips [--creates 2000]
    .venv/bin/python benchmarks/stores.py eviction
    .venv/bin/python benchmarks/stores.py all         # make bench-stores

Redis runs are against private redis-servers on loopback (started and stopped here); SQLite
files go to a temporary directory. Each section prints a Markdown table; docs/idempotency-
ledger.md ("Sizing and operations") records a run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis

if TYPE_CHECKING:
    from benchmarks.redis_server import CountingRedis, redis_server
else:  # the sibling module: this script's directory is sys.path[0]
    from redis_server import CountingRedis, redis_server

from stateset_voice_wrapper.stores import (
    IdempotencyLedger,
    LedgerEntry,
    RedisLeaseStore,
    RedisLedger,
    SqliteLeaseStore,
    SqliteLedger,
    ledger_scope,
)

REPO = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000.0
#: The scope a client's entries live in (36 characters), as calls.create passes it.
SCOPE = ledger_scope(base_url="https://voice.stateset.app", credential="sk_live_bench")


def _call_body() -> bytes:
    """The make-call answer the ledger records: the contract's example (238 bytes)."""
    contract = json.loads((REPO / "api-contracts" / "stateset-voice-public.json").read_text())
    op = contract["paths"]["/api/v1/make-call"]["post"]
    value = op["responses"]["201"]["content"]["application/json"]["examples"]["default"]["value"]
    return json.dumps(value).encode()


def _fingerprint(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()  # a parameter fingerprint's shape


def _percentiles(values: list[float], *qs: float) -> list[float]:
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in qs]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _create(ledger: IdempotencyLedger, key: str, body: bytes) -> None:
    entry = ledger.begin(key, fingerprint=_fingerprint(key), scope=SCOPE)
    assert isinstance(entry, LedgerEntry)
    entry.record(body)


def _redis_key(key: str) -> str:
    return f"stateset_voice:calls:{len(SCOPE)}:{SCOPE}:{key}"  # RedisLedger's default namespace


# --- sizing ------------------------------------------------------------------------------------


def _redis_sizes(url: str, n: int, body: bytes) -> dict[str, Any]:
    client = redis.Redis.from_url(url)
    client.flushall()
    before = int(client.info("memory")["used_memory"])
    with RedisLedger(client) as ledger:
        for i in range(n):
            _create(ledger, f"appt-{i:08d}-confirm", body)
        completed = [client.memory_usage(_redis_key(f"appt-{i:08d}-confirm")) for i in range(50)]
        after = int(client.info("memory")["used_memory"])
        for i in range(50):
            ledger.begin(f"inflight-{i:08d}", fingerprint=_fingerprint(str(i)), scope=SCOPE)
        claimed = [client.memory_usage(_redis_key(f"inflight-{i:08d}")) for i in range(50)]
    encoding = client.object("encoding", _redis_key("appt-00000000-confirm"))
    client.close()
    return {
        "memory_usage_completed": statistics.mean(int(v or 0) for v in completed),
        "used_memory_per_key": (after - before) / n,
        "memory_usage_claimed": statistics.mean(int(v or 0) for v in claimed),
        "encoding": encoding.decode() if isinstance(encoding, bytes) else str(encoding),
    }


def _sqlite_size(n: int, body: bytes) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.db"
        SqliteLedger(path).close()  # the schema, as the store creates it
        with sqlite3.connect(path) as db:  # n completed records in one transaction (fast)
            db.executemany(
                "INSERT INTO stateset_voice_leases (namespace, key, fingerprint, token,"
                " lease_expires_at, forget_at, result) VALUES ('calls', ?, ?, ?, ?, ?, ?)",
                [
                    (
                        f"{len(SCOPE)}:{SCOPE}:appt-{i:08d}-confirm",
                        _fingerprint(str(i)),
                        os.urandom(16).hex(),
                        *(T0, T0 + 86_400, body),
                    )
                    for i in range(n)
                ],
            )
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return path.stat().st_size / n


def sizing(args: argparse.Namespace) -> None:
    body, n = _call_body(), args.keys
    print(f"\n### Sizing: {n:,} completed ledger keys, a {len(body)}-byte recorded call\n")
    print("| store | bytes per key | how measured |")
    print("| --- | --- | --- |")
    for label, extra in (
        ("Redis, default settings", ()),
        ("Redis, hash-max-listpack-value 512", ("--hash-max-listpack-value", "512")),
    ):
        with redis_server(*extra) as url:
            sizes = _redis_sizes(url, n, body)
        print(
            f"| {label} ({sizes['encoding']}) | {sizes['memory_usage_completed']:.0f} "
            f"(in flight: {sizes['memory_usage_claimed']:.0f}) | MEMORY USAGE, mean of 50 keys |"
        )
        print(f"| {label} | {sizes['used_memory_per_key']:.0f} | used_memory growth / keys |")
    print(f"| SQLite | {_sqlite_size(n * 10, body):.0f} | file size / rows, {n * 10:,} rows |")
    with redis_server() as url:
        limiter_sizes = _limiter_sizes(url)
    print("\nA call limiter's keys (RedisCallLimiter, name `tenant-42`), MEMORY USAGE:\n")
    print("| key | bytes | how many |")
    print("| --- | --- | --- |")
    for label, (size, count) in limiter_sizes.items():
        print(f"| {label} | {size:.0f} | {count} |")


def _limiter_sizes(url: str) -> dict[str, tuple[float, str]]:
    from stateset_voice_wrapper import RedisCallLimiter

    client = redis.Redis.from_url(url)
    with RedisCallLimiter(client, name="tenant-42", concurrency=10, rate=5) as limiter:
        limiter.acquire().attach("call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M")
        limiter.acquire()
        limiter.release_for_call("call_01JD4Z9K2P7W3X8Y5V6T4R2Q1N")  # a call that ended
        for _ in range(3):
            limiter.acquire().release()
        keys = {k.decode(): int(client.memory_usage(k) or 0) for k in client.scan_iter("*")}
    client.close()

    def size(part: str) -> float:
        return statistics.mean(v for k, v in keys.items() if part in k)

    return {
        "a held permit (a slot: taken or attached)": (
            size("slot:"),
            "one per call in progress (`concurrency` at most)",
        ),
        "a call's link to its slot": (
            size("call:call_01JD4Z9K2P7W3X8Y5V6T4R2Q1M"),
            "one per call in progress",
        ),
        "an ended call's mark": (
            size("call:call_01JD4Z9K2P7W3X8Y5V6T4R2Q1N"),
            "one per call ended in the last `lease_seconds`",
        ),
        "the rate window (5 admissions)": (size(":rate"), "one per limiter"),
    }


# --- purge -------------------------------------------------------------------------------------


def _fill_expired(path: Path, rows: int, body: bytes) -> None:
    SqliteLeaseStore(path, namespace="calls").close()
    with sqlite3.connect(path) as db:
        batch = 100_000
        for start in range(0, rows, batch):
            db.executemany(
                "INSERT INTO stateset_voice_leases (namespace, key, fingerprint, token,"
                " lease_expires_at, forget_at, result) VALUES ('calls', ?, 'f', 't', 0, 1, ?)",
                ((f"old-{i:09d}", body) for i in range(start, min(rows, start + batch))),
            )
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _writer(path: Path, stop: threading.Event, latencies: list[float]) -> None:
    """Another worker's claims, 2 ms apart, while the purge runs."""
    with SqliteLeaseStore(path, namespace="other", clock=lambda: T0) as store:
        while not stop.is_set():
            start = time.perf_counter()
            store.claim(uuid.uuid4().hex, fingerprint="f", lease_seconds=30)
            latencies.append(time.perf_counter() - start)
            time.sleep(0.002)


def _one_delete(path: Path) -> float:
    """The purge as it was: every expired row in one transaction; the time the lock is held."""
    db = sqlite3.connect(path, isolation_level=None, timeout=600)
    db.execute("BEGIN IMMEDIATE")
    start = time.perf_counter()  # from the moment the lock is ours
    db.execute(
        "DELETE FROM stateset_voice_leases WHERE namespace = 'calls' AND forget_at <= ?", (T0,)
    )
    db.execute("COMMIT")
    held = time.perf_counter() - start
    db.close()
    return held


def _batched(path: Path, pause: float = 0.0) -> list[float]:
    """The purge as it is: writes (``pause`` apart) until the backlog is gone; their durations."""
    writes: list[float] = []
    with SqliteLeaseStore(path, namespace="calls", clock=lambda: T0) as store:
        while True:
            before = time.perf_counter()
            store.claim(uuid.uuid4().hex, fingerprint="f", lease_seconds=30)
            writes.append(time.perf_counter() - before)
            if store._next_purge_at > T0:  # the backlog is gone: the next purge is later
                return writes
            time.sleep(pause)


def _paced(path: Path) -> list[float]:
    # A worker placing 50 calls a second; back to back, its writes would starve the other
    # writer (SQLite's lock is not fair: see the fairness section), whatever they purge.
    return _batched(path, pause=0.02)


def _while_another_writes(path: Path, purge: Callable[[Path], object]) -> list[float]:
    """Another worker's claims, one after another, during ``purge``: their waits."""
    waits: list[float] = []
    stop = threading.Event()
    other = threading.Thread(target=_writer, args=(path, stop, waits))
    other.start()
    time.sleep(0.2)  # the other writer is running before the purge starts
    purge(path)
    time.sleep(0.2)
    stop.set()
    other.join()
    return waits


def purge(args: argparse.Namespace) -> None:
    body, rows = _call_body(), args.rows
    print(f"\n### Purge: {rows:,} expired rows of {len(body)} bytes\n")
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / f"calls-{i}.db" for i in range(4)]
        _fill_expired(paths[0], rows, body)
        for path in paths[1:]:
            shutil.copy(paths[0], path)
        held = _one_delete(paths[0])
        writes = _batched(paths[1])
        old_waits = _while_another_writes(paths[2], _one_delete)
        new_waits = _while_another_writes(paths[3], _paced)
        plain: list[float] = []
        with SqliteLeaseStore(paths[1], namespace="calls", clock=lambda: T0) as store:
            for _ in range(200):
                before = time.perf_counter()
                store.claim(uuid.uuid4().hex, fingerprint="f", lease_seconds=30)
                plain.append(time.perf_counter() - before)
        with sqlite3.connect(paths[1]) as check:
            (left,) = check.execute(
                "SELECT count(*) FROM stateset_voice_leases WHERE forget_at <= ?", (T0,)
            ).fetchone()
    assert left == 0, left
    p50, p99 = _percentiles(writes, 0.5, 0.99)
    q50, q99 = _percentiles(plain, 0.5, 0.99)
    print("| | before: one DELETE | now: 500 rows per write |")
    print("| --- | --- | --- |")
    print(
        f"| write lock held by one purge | {_ms(held)} | {_ms(p50)} p50, {_ms(p99)} p99, {_ms(max(writes))} max (the whole write) |"
    )
    print(f"| a write with nothing to purge, p50 / p99 | | {_ms(q50)} / {_ms(q99)} |")
    cells = []
    for waits in (old_waits, new_waits):
        w50, w99 = _percentiles(waits, 0.5, 0.99)
        slow = sum(w > 0.1 for w in waits)
        cells.append(f"{_ms(w50)} / {_ms(w99)} / {_ms(max(waits))}; {slow} of {len(waits):,}")
    print(
        f"| another worker's writes meanwhile: p50 / p99 / max; over 100 ms | {cells[0]} | {cells[1]} |"
    )
    print(f"| writes to clear the backlog | 1 | {len(writes):,} ({_ms(sum(writes))} in all) |")


# --- fairness and round trips ------------------------------------------------------------------


def _fairness_worker(
    kind: str, location: str, seconds: float, think: float, start: Any, results: Any
) -> None:
    body = _call_body()
    ledger: IdempotencyLedger = (
        SqliteLedger(location) if kind == "sqlite" else RedisLedger(location)
    )
    latencies: list[float] = []
    pid = os.getpid()
    start.wait(timeout=600)  # every process is up: all start together, and stop together
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        start = time.perf_counter()
        _create(ledger, f"{pid}-{len(latencies)}", body)
        latencies.append(time.perf_counter() - start)
        if think:
            time.sleep(think)  # the rest of a worker's call: the request, its own work
    ledger.close()
    results.put(latencies)


def _fleet(
    kind: str, location: str, processes: int, seconds: float, think: float
) -> list[list[float]]:
    ctx = multiprocessing.get_context("spawn")
    results, start = ctx.Queue(), ctx.Barrier(processes)
    workers = [
        ctx.Process(target=_fairness_worker, args=(kind, location, seconds, think, start, results))
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    per_process = [results.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    return per_process


def fairness(args: argparse.Namespace) -> None:
    think = args.think_ms / 1000
    pace = f", each pausing {args.think_ms:g} ms after each create" if think else ", back to back"
    print(f"\n### Fairness: N processes creating for {args.seconds:g} s on one store{pace}\n")
    print(
        "| store | processes | creates/s | p50 | p99 | p99.9 | creates per process, min–max (spread) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp, redis_server() as url:
        for kind in ("sqlite", "redis"):
            for n in args.processes:
                location = str(Path(tmp) / f"fair-{n}.db") if kind == "sqlite" else url
                per_process = _fleet(kind, location, n, args.seconds, think)
                every = [x for one in per_process for x in one]
                counts = [len(one) for one in per_process]
                p50, p99, p999 = _percentiles(every, 0.5, 0.99, 0.999)
                spread = max(counts) / max(1, min(counts))
                print(
                    f"| {kind} | {n} | {len(every) / args.seconds:.0f} | {_ms(p50)} | {_ms(p99)} "
                    f"| {_ms(p999)} | {min(counts)}–{max(counts)} ({spread:.1f}×) |"
                )


def roundtrips(args: argparse.Namespace) -> None:
    body, n = _call_body(), args.creates
    print(f"\n### Round trips: {n:,} creates, then a replay of each, one process\n")
    print("| store | operation | round trips | p50 | p99 |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp, redis_server() as url:
        client = CountingRedis.connect(url)
        stores: list[tuple[str, IdempotencyLedger, CountingRedis | None]] = [
            ("Redis", IdempotencyLedger(RedisLeaseStore(client)), client),
            ("SQLite", SqliteLedger(Path(tmp) / "rt.db"), None),
        ]
        for label, ledger, counter in stores:
            _create(ledger, "warm-up", body)  # the script is loaded once
            for operation in ("create", "replay"):
                times, trips = [], []
                for i in range(n):
                    before = counter.round_trips if counter else 0
                    start = time.perf_counter()
                    if operation == "create":
                        _create(ledger, f"k-{i}", body)
                    else:
                        ledger.begin(f"k-{i}", fingerprint=_fingerprint(f"k-{i}"), scope=SCOPE)
                    times.append(time.perf_counter() - start)
                    trips.append((counter.round_trips if counter else 0) - before)
                p50, p99 = _percentiles(times, 0.5, 0.99)
                trip = f"{statistics.mean(trips):g}" if counter else "— (1 transaction each)"
                print(f"| {label} | {operation} | {trip} | {_ms(p50)} | {_ms(p99)} |")
            ledger.close()
        client.close()


# --- eviction ----------------------------------------------------------------------------------


def eviction(args: argparse.Namespace) -> None:
    body, n = _call_body(), 2000
    print(f"\n### Eviction: {n:,} completed ledger keys, then 64 MiB of other writes into 32 MiB\n")
    print("| maxmemory-policy | the check says | ledger keys left | other writes refused |")
    print("| --- | --- | --- | --- |")
    for policy in ("allkeys-lru", "volatile-lru", "noeviction"):
        with redis_server("--maxmemory", "32mb", "--maxmemory-policy", policy) as url:
            try:
                RedisLedger(url).close()
                verdict = "opens"
            except Exception as exc:
                verdict = f"refuses ({type(exc).__name__})"
            client = redis.Redis.from_url(url)
            with RedisLedger(client, namespace="ev", eviction_policy="ignore") as ledger:
                for i in range(n):
                    _create(ledger, f"appt-{i}", body)
            refused = 0
            for i in range(64 * 1024):  # 1 KiB values without a TTL: a cache sharing the server
                try:
                    client.set(f"cache:{i}", b"x" * 1024)
                except redis.ResponseError:
                    refused += 1
            left = sum(1 for _ in client.scan_iter("ev:*", count=1000))
            client.close()
        print(f"| {policy} | {verdict} | {left:,} of {n:,} | {refused:,} |")


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "sizing": sizing,
    "purge": purge,
    "fairness": fairness,
    "roundtrips": roundtrips,
    "eviction": eviction,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", choices=[*SECTIONS, "all"])
    parser.add_argument("--keys", type=int, default=2000, help="sizing: keys per store")
    parser.add_argument("--rows", type=int, default=1_000_000, help="purge: expired rows")
    parser.add_argument("--processes", type=int, nargs="+", default=[2, 8, 32])
    parser.add_argument("--seconds", type=float, default=5.0, help="fairness: run time")
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="fairness: pause after each create"
    )
    parser.add_argument("--creates", type=int, default=2000, help="roundtrips: creates")
    args = parser.parse_args(argv)
    print(f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for name, section in SECTIONS.items():
        if args.section in (name, "all"):
            section(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
