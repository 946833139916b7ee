"""Import times, as ``python -X importtime`` reports them: median of 7 runs per statement.

    .venv/bin/python benchmarks/importtime.py [--python PATH] [--runs 7]

Each statement runs in a fresh interpreter. Its time is the sum of the cumulative times of the
top-level imports it caused (the interpreter's own start-up imports, read from a ``pass`` run,
are left out), so ``from stateset_voice_wrapper import VoiceClient`` counts the package and
the client modules it loads lazily. ``import httpx`` is measured in the same runs, interleaved,
because on a shared machine only the difference is stable.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

STATEMENTS = (
    "import httpx",
    "import stateset_voice_wrapper",
    "from stateset_voice_wrapper import VoiceClient",
)


def _top_level(python: str, statement: str) -> dict[str, int]:
    """Cumulative microseconds of each top-level import ``statement`` caused."""
    done = subprocess.run(
        [python, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "0"},
    )
    found: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line.split("|")
        name = name[1:].rstrip()
        if not name.startswith(" "):
            found[name] = int(cumulative)
    return found


def import_times(python: str = sys.executable, runs: int = 7) -> dict[str, float]:
    """Median milliseconds of each of :data:`STATEMENTS`, measured in interleaved runs."""
    startup = set(_top_level(python, "pass"))
    samples: dict[str, list[float]] = {statement: [] for statement in STATEMENTS}
    for _ in range(runs):
        for statement in STATEMENTS:
            found = _top_level(python, statement)
            total = sum(us for name, us in found.items() if name not in startup)
            samples[statement].append(total / 1000)
    return {statement: statistics.median(values) for statement, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for statement, ms in import_times(args.python, args.runs).items():
        print(f"{ms:7.1f} ms  {statement}")


if __name__ == "__main__":
    main()
