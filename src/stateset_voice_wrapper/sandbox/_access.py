"""Access requests: the one thing anyone may store in a sandbox, so it is bounded and expires."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any


class AccessRequests:
    """The newest ``max_requests`` access requests younger than ``ttl_seconds``.

    Each keeps its record (id, status, time) and, of the request body, only the fields the
    contract declares (``fields``): an anonymous caller cannot make the sandbox keep anything
    else. ``clock`` is the sandbox clock.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        max_requests: int = 1_000,
        ttl_seconds: float = 24 * 3600.0,
        fields: Iterable[str] = (),
    ) -> None:
        self._clock = clock
        self.ttl_seconds = ttl_seconds
        self.fields = frozenset(fields)
        self._items: deque[tuple[float, dict[str, Any]]] = deque(maxlen=max_requests)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (record for _, record in self._items)

    def add(self, record: dict[str, Any], request: Any) -> None:
        """Keep ``record`` with the declared fields of ``request``; drop what has expired."""
        now = self._clock()
        while self._items and now - self._items[0][0] > self.ttl_seconds:
            self._items.popleft()
        fields = request if isinstance(request, dict) else {}
        kept = {k: v for k, v in fields.items() if k in self.fields}
        self._items.append((now, {**record, "request": kept}))
