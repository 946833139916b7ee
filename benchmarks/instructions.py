"""Machine instructions per request, counted under valgrind: the layer's CPU cost, free of the
noise that timing has on a shared machine.

Each variant's GETs over the in-memory transport (the clients of ``opcodes.py``) run in a child
interpreter under ``valgrind --tool=cachegrind --cache-sim=no``, once with no request after the
warm-up and once with ``--requests``; the difference, divided, is what one GET executes. Two
runs of the same code agree to a few instructions, and 1,000 GETs with 2,000 to 0.02%
(timings of the same GET moved by half in one evening). Bytecodes (``opcodes.py``) say where
the layer's work is; instructions say what it costs, since a bytecode may be a dictionary
lookup or a system call.

    .venv/bin/python benchmarks/instructions.py              # plain, layered, telemetry, floor
    .venv/bin/python benchmarks/instructions.py --no-cookies # httpx's cookie jar left out

``floor`` is the yardstick of ``floor.py``: the promised steps of a first-attempt success done
inline, with no bookkeeping. ``--no-cookies`` switches off httpx's ``extract_cookies`` in every
variant: httpx copies the request's headers for its cookie jar on every response, at a cost
that grows with the square of their number, so part of what the layer's two headers cost is
paid there. Needs valgrind (Debian: ``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.opcodes import client_for
else:  # the sibling module: this script's directory is sys.path[0]
    from opcodes import client_for

VARIANTS = ("plain", "layered", "telemetry", "floor")
WARM_UP = 50
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def workload(variant: str, requests: int, *, cookies: bool = True) -> None:
    """The warm-up, then ``requests`` GETs of ``variant`` (what runs under valgrind)."""
    if not cookies:
        import httpx

        httpx.Cookies.extract_cookies = lambda self, response: None  # type: ignore[method-assign]
    client = client_for(variant)
    for _ in range(WARM_UP):
        client.get("/api/v1/call-logs/call_1").read()
    # What the warm-up left (modules, caches) is set aside from the cyclic collector: a full
    # collection traverses the whole heap, and whether one falls inside the counted requests
    # would otherwise move a variant's count by up to a sixth.
    gc.collect()
    gc.freeze()
    for _ in range(requests):
        client.get("/api/v1/call-logs/call_1").read()
    client.close()


def instruction_refs(valgrind_output: str) -> int:
    """The instructions executed, from cachegrind's summary (``I refs: 1,234,567``)."""
    found = _REFS.search(valgrind_output)
    if found is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{valgrind_output}")
    return int(found.group(1).replace(",", ""))


def _count(valgrind: str, variant: str, requests: int, cookies: bool) -> int:
    command = [
        valgrind,
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        variant,
        "--requests",
        str(requests),
    ]
    if not cookies:
        command.append("--no-cookies")
    # One hash seed for every child: string hashes decide the layout of sets and dictionaries,
    # and with it how many probes a lookup takes.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=environment)
    return instruction_refs(done.stderr)


def per_request(valgrind: str, variant: str, requests: int, cookies: bool) -> float:
    """Instructions one GET of ``variant`` executes."""
    base = _count(valgrind, variant, 0, cookies)
    return (_count(valgrind, variant, requests, cookies) - base) / requests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--no-cookies", action="store_true", help="leave httpx's cookie jar out")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cookies = not args.no_cookies
    if args.child:
        workload(args.child, args.requests, cookies=cookies)
        return 0
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    variants = [v for v in args.variants.split(",") if v]
    counts = {v: per_request(valgrind, v, args.requests, cookies) for v in variants}
    plain = counts.get("plain")
    print(f"instructions per GET ({args.requests} GETs{'' if cookies else ', no cookie jar'})")
    for variant, count in counts.items():
        added = "" if plain is None or variant == "plain" else f"  +{count - plain:,.0f}"
        print(f"{variant:10s} {count:12,.0f}{added}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
