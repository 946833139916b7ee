"""A yardstick: the least a transport keeping the layer's promises does for a request that
succeeds at its first attempt.

:class:`FloorTransport` does, inline and with no bookkeeping, only the steps that
``ReliableTransport``'s promises require of such a request, using the layer's own pieces:

- a new client request ID and the attempt number in the headers (one identity per request);
- every header value checked before anything is sent (h11 would quote a bad one, secret and
  all, in its error and its DEBUG log);
- the attempt's timeouts capped at the time left, and the deadline guard in place for the
  guarded httpcore streams;
- the body read inside the transport, with the size cap and the deadline checked at each
  chunk (a truncated body is a typed, retryable failure, not an error in the caller's
  ``.json()``);
- the answer's headers read once (the server's request ID, an HTML page, a Content-Encoding);
- the retry budget refunded, the request's header encoding settled, and the response handed on
  with its body.

It retries nothing, records nothing, and answers anything but a plain 2xx with a
``RuntimeError``: it is not a transport to use. It measures how far below ``ReliableTransport``'s
cost any implementation of the same promises could go (``benchmarks/instructions.py``).
"""

from __future__ import annotations

import time

import httpx

from stateset_voice_wrapper._reliability import guard
from stateset_voice_wrapper._reliability.bodies import close_inner, raw_chunks, rebuild
from stateset_voice_wrapper._reliability.identity import AnswerHead, settle_encoding, stamp_identity
from stateset_voice_wrapper._reliability.options import ReliabilityConfig, current_overrides
from stateset_voice_wrapper._reliability.policy import capped_timeouts, phase_timeouts
from stateset_voice_wrapper._shared.defaults import MAX_RESPONSE_BODY
from stateset_voice_wrapper._shared.telemetry import instruments

__all__ = ["FloorTransport"]


class FloorTransport(httpx.BaseTransport):
    """The promised steps of a first-attempt success, and nothing else (see the module)."""

    def __init__(self, inner: httpx.BaseTransport, config: ReliabilityConfig) -> None:
        if config.deadline is None:
            raise ValueError("the yardstick measures a request with a deadline")
        self.inner = inner
        self.config = config

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        config = self.config
        clock = config.clock
        options = current_overrides()
        expires = clock() + config.deadline  # type: ignore[operator]  # checked in __init__
        stamp_identity(config, request, options)
        if instruments(config.telemetry) is not None:
            raise RuntimeError("the yardstick measures a request with telemetry off")
        phases = phase_timeouts(config.timeout, request.extensions.get("timeout"))
        remaining = expires - clock()
        request.extensions["timeout"] = capped_timeouts(phases, remaining)
        token = guard.enter(guard.AttemptGuard(time.monotonic() + remaining))
        try:
            response = self.inner.handle_request(request)
            chunks = []
            size = 0
            for chunk in raw_chunks(response):
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_RESPONSE_BODY or clock() >= expires:
                    raise RuntimeError("the yardstick reads small bodies in time only")
            body = b"".join(chunks)
            close_inner(response)
        finally:
            guard.leave(token)
        head = AnswerHead(response.headers)
        if not 200 <= response.status_code < 300 or head.html or head.content_encoding:
            raise RuntimeError("the yardstick measures a plain 2xx only")
        config.budget.record_success()
        settle_encoding(request.headers)
        return rebuild(response, body, request, body)
