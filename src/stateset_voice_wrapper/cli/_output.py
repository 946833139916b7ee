"""How ``stateset-voice`` prints: JSON, JSON lines or a table on stdout; notes on stderr.

stdout carries only the data, so ``stateset-voice ... -o json | jq`` always works; progress,
notes (the idempotency key of a create, "25 of 1,204 shown") and errors go to stderr.

Tables are for people and mask phone numbers (``+***01``), because terminal output ends
up in tickets and chat; JSON is the API's data unchanged. ``--show-numbers`` unmasks tables.

Text the server controls never reaches the terminal raw: table cells, field names, notes and
error lines go through :func:`~stateset_voice_wrapper._shared.untrusted.escape_untrusted`
(controls, bidi and other format characters become ``\x1b``, ``\u202e``, ...), and JSON is
written with ``ensure_ascii=True``, so it holds the exact strings while its bytes are plain
ASCII.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TextIO

from .._shared.redact import mask_number
from .._shared.untrusted import escape_untrusted

FORMATS: Final = ("auto", "json", "jsonl", "table")

#: Fields holding a phone number, masked in tables.
PHONE_FIELDS: Final = frozenset(
    {"to", "from", "phone_number", "fallback_number", "default_from_number", "forwarded_from"}
)
_MAX_CELL: Final = 72


def mask_phone(value: str) -> str:
    """``+15555550101`` -> ``+***01``: the package's one mask, as in its logs and errors."""
    return mask_number(value)


def _json(value: Any, *, indent: int | None) -> str:
    # ensure_ascii: C1 and bidi controls in the data become \u escapes too, not just C0 ones.
    return json.dumps(value, indent=indent, ensure_ascii=True, default=str)


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its header and the field of each row it shows."""

    header: str
    field: str


def columns(*spec: str) -> tuple[Column, ...]:
    """``columns("call_id", "status")`` -> headers ``CALL ID``, ``STATUS``."""
    return tuple(Column(name.upper().replace("_", " "), name) for name in spec)


class Output:
    """Writes results in the chosen format; created once per command invocation."""

    def __init__(
        self, *, fmt: str, stdout: TextIO, stderr: TextIO, show_numbers: bool = False
    ) -> None:
        if fmt == "auto":
            fmt = "table" if isatty(stdout) else "json"
        self.format = fmt
        self.stdout = stdout
        self.stderr = stderr
        self.show_numbers = show_numbers

    @property
    def is_json(self) -> bool:
        return self.format in ("json", "jsonl")

    # -- notes and errors (stderr) ------------------------------------------------------------

    def note(self, message: str) -> None:
        """One line on stderr; any server-supplied text in it is escaped."""
        print(escape_untrusted(message), file=self.stderr, flush=True)

    # -- one object ------------------------------------------------------------------------------

    def item(self, data: Mapping[str, Any], *, sections: Sequence[Section] = ()) -> None:
        """One resource: pretty JSON, one JSON line, or ``field  value`` rows and sub-tables."""
        if self.format == "json":
            print(_json(data, indent=2), file=self.stdout)
        elif self.format == "jsonl":
            print(_json(data, indent=None), file=self.stdout)
        else:
            self._item_table(data, sections)
        self.stdout.flush()

    def _item_table(self, data: Mapping[str, Any], sections: Sequence[Section]) -> None:
        nested = {section.field for section in sections}
        rows = [
            [escape_untrusted(name, max_length=_MAX_CELL), self._cell(name, value)]
            for name, value in data.items()
            if name not in nested and value is not None
        ]
        self.table([Column("FIELD", "field"), Column("VALUE", "value")], rows, header=False)
        for section in sections:
            entries = data.get(section.field) or []
            print(f"\n{section.title} ({len(entries)})", file=self.stdout)
            if entries:
                self.table(
                    section.columns,
                    [self.row(section.columns, entry) for entry in entries],
                )

    # -- many objects --------------------------------------------------------------------------

    def listing(self, cols: Sequence[Column]) -> Listing:
        """A sink for a listing: JSON streams item by item; a table is printed at the end."""
        return Listing(self, tuple(cols))

    # -- table machinery -----------------------------------------------------------------------

    def _cell(self, field: str, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, list):
            text = ", ".join(
                str(v) if not isinstance(v, dict) else _json(v, indent=None) for v in value
            )
        elif isinstance(value, dict):
            text = _json(value, indent=None)
        else:
            text = str(value)
        if field in PHONE_FIELDS and not self.show_numbers:
            text = mask_phone(text)
        # A transcript's text is shown whole; every other cell is cut to the column width.
        return escape_untrusted(text, max_length=None if field == "text" else _MAX_CELL)

    def row(self, cols: Sequence[Column], data: Mapping[str, Any]) -> list[str]:
        """The cells of one table row (masked and shortened)."""
        return [self._cell(col.field, _lookup(data, col.field)) for col in cols]

    def table(self, cols: Sequence[Column], rows: list[list[str]], *, header: bool = True) -> None:
        """Print aligned columns, with a header line unless ``header=False``."""
        lines = ([[col.header for col in cols]] if header else []) + rows
        widths = [max(len(line[i]) for line in lines) for i in range(len(cols))]
        for line in lines:
            cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=True)]
            print("  ".join(cells).rstrip(), file=self.stdout)


def _lookup(data: Mapping[str, Any], field: str) -> Any:
    """``field`` of ``data``; ``a.b`` reaches into a nested object, ``#name`` counts a list."""
    if field.startswith("#"):
        return len(data.get(field[1:]) or [])
    value: Any = data
    for part in field.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


@dataclass(frozen=True, slots=True)
class Section:
    """A list inside one resource shown as its own table (a session's transcript, say)."""

    title: str
    field: str
    columns: tuple[Column, ...]


class Listing:
    """Receives the items of a listing page by page and writes them in the chosen format.

    Nothing is written before the first item, so a listing whose first page fails leaves
    stdout empty (``| jq length`` cannot mistake a failure for zero items). A listing that fails
    after some items still ends validly: the JSON array is closed, the table printed with the
    rows it has; the command's exit code and a note on stderr say that it is incomplete.
    """

    def __init__(self, out: Output, cols: tuple[Column, ...]) -> None:
        self._out = out
        self._cols = cols
        self._rows: list[list[str]] = []
        self._count = 0
        self._opened = False

    @property
    def count(self) -> int:
        return self._count

    def __enter__(self) -> Listing:
        return self

    def _open(self) -> None:
        if self._out.format == "json":
            self._out.stdout.write("[")
        self._opened = True

    def add(self, data: Mapping[str, Any]) -> None:
        out = self._out
        if not self._opened:
            self._open()
        if out.format == "json":
            prefix = "\n" if self._count == 0 else ",\n"
            body = _json(data, indent=2).replace("\n", "\n  ")
            out.stdout.write(f"{prefix}  {body}")
        elif out.format == "jsonl":
            out.stdout.write(_json(data, indent=None) + "\n")
        else:
            self._rows.append(out.row(self._cols, data))
        self._count += 1

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        out = self._out
        if exc_type is not None and (self._count == 0 or issubclass(exc_type, BrokenPipeError)):
            return  # nothing to close, or no reader left to close it for
        if not self._opened:
            self._open()
        if out.format == "json":
            out.stdout.write("\n]\n" if self._count else "]\n")
        elif out.format == "table":
            out.table(self._cols, self._rows)
        out.stdout.flush()


class Progress:
    """``call logs: 400/1,204`` on stderr while a long listing is fetched.

    On a terminal one line is rewritten in place; elsewhere (``--progress`` into a file or CI
    log) each page adds a line.
    """

    def __init__(self, stream: TextIO, label: str, *, enabled: bool) -> None:
        self._stream = stream
        self._label = escape_untrusted(label)
        self._enabled = enabled
        self._tty = isatty(stream)
        self._width = 0

    def update(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        text = f"{self._label}: {done:,}/{total:,}"
        if self._tty:
            self._stream.write(f"\r{text}")
            self._width = max(self._width, len(text))
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def finish(self, *, completed: bool = True) -> None:
        """End the progress line: keep it when the listing completed, else wipe it, so what
        follows (a partial table, the error) starts on a clean line."""
        if self._enabled and self._tty and self._width:
            end = "\n" if completed else "\r" + " " * self._width + "\r"
            self._stream.write(end)
            self._stream.flush()
            self._width = 0


def isatty(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (False for anything without ``isatty``)."""
    check: Callable[[], bool] | None = getattr(stream, "isatty", None)
    return bool(check and check())
