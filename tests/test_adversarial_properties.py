"""Property-based fault schedules: whatever the server does, the promises hold.

hypothesis draws a schedule, one scripted behaviour per connection (so per attempt): a valid
answer (at once or late, Content-Length or chunked), or a fault in any phase (the request read
in part or not at all; interim ``1xx`` responses repeated or trickled; the status line, a
header line or the body cut at any byte), followed by a reset, a clean close, a stall, garbage
or a trickle; a call created and its answer lost; error statuses with ``Retry-After`` whose
messages echo the call's phone numbers; 2xx bodies that are not the contract's. It also draws
the deadline, ``max_retries``, whether the caller has a business key, the operation
(``calls.create`` or ``call_logs.get``) and the way in (sync or async; raw
``ReliableTransport`` or the typed clients). After each run :func:`check_invariants` checks
the invariants of docs/reliability.md, and the process's open file descriptors are counted.

Profiles: ``make check`` runs ``adversarial-ci`` (fixed seed, ``derandomize=True``);
``make adversarial`` runs ``HYPOTHESIS_PROFILE=adversarial``, many more examples. Deadlines are
real (0.3-0.6 s): the property about them is a wall-clock bound. Backoff sleeps are recorded,
not slept.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from tests.adversarial import MODES, check_invariants, open_fds, run_one
    from tests.faultserver import (
        Behaviour,
        CallApp,
        Close,
        Commit,
        FaultServer,
        Repeat,
        ResetNow,
        Respond,
        Script,
        Send,
        SendAnswer,
        Stall,
        Step,
        Wait,
        json_response,
    )
else:
    from adversarial import MODES, check_invariants, open_fds, run_one
    from faultserver import (
        Behaviour,
        CallApp,
        Close,
        Commit,
        FaultServer,
        Repeat,
        ResetNow,
        Respond,
        Script,
        Send,
        SendAnswer,
        Stall,
        Step,
        Wait,
        json_response,
    )

settings.register_profile(
    "adversarial-ci",
    max_examples=int(os.environ.get("ADVERSARIAL_EXAMPLES", "120")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "adversarial",
    max_examples=int(os.environ.get("ADVERSARIAL_EXAMPLES", "3000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "adversarial-ci")
PROFILE = settings.get_profile(_PROFILE if _PROFILE.startswith("adversarial") else "adversarial-ci")

INTERIM = b"HTTP/1.1 100 Continue\r\n\r\n"
#: The answers are about 120 bytes of head, then the body: byte offsets that cut each part.
STATUS_CUT = st.integers(1, 15)
HEADER_CUT = st.integers(18, 100)
BODY_CUT = st.integers(-60, -1)

endings: st.SearchStrategy[tuple[Step, ...]] = st.one_of(
    st.just((ResetNow(),)),
    st.just((Close(),)),
    st.just((Stall(),)),
    st.binary(min_size=1, max_size=64).map(lambda junk: (Send(junk), Close())),
    st.floats(0.01, 0.08).map(lambda every: (SendAnswer(start=0, every=every, size=3),)),
)


def _cut(end: int, then: tuple[Step, ...]) -> Script:
    if isinstance(then[0], SendAnswer):  # trickle the rest of the answer from the cut
        return Script(SendAnswer(end=end), SendAnswer(start=end, every=then[0].every, size=3))
    return Script(SendAnswer(end=end), *then)


phone_error = st.builds(
    lambda status, retry_after: json_response(
        status,
        {"code": "refused", "message": "cannot call +15555550123 from (555) 555-9876"},
        headers=(("Retry-After", retry_after),) if retry_after else (),
    ),
    st.sampled_from([400, 409, 422, 429, 500, 502, 503, 504]),
    st.sampled_from(["", "0", "1", "30"]),
)

behaviours: st.SearchStrategy[Behaviour] = st.one_of(
    st.just(Script(SendAnswer())),
    st.floats(0.0, 0.4).map(lambda delay: Script(Wait(delay), SendAnswer())),
    # before the request is processed
    st.builds(lambda then: Script(*then, read="none"), endings),
    st.builds(lambda n, then: Script(*then, read=n), st.integers(1, 200), endings),
    st.builds(lambda then: Script(*then), endings),
    # the call is created, then the answer is lost or mangled in any phase
    st.builds(lambda then: Script(Commit(), *then), endings),
    st.builds(lambda end, then: _cut(end, then), STATUS_CUT, endings),
    st.builds(lambda end, then: _cut(end, then), HEADER_CUT, endings),
    st.builds(lambda end, then: _cut(end, then), BODY_CUT, endings),
    # interim responses, repeated or trickled, then an answer or a stall
    st.builds(
        lambda n, every, answer: Script(
            Repeat(INTERIM, every=every, times=n), SendAnswer() if answer else Stall()
        ),
        st.integers(1, 30),
        st.floats(0.0, 0.05),
        st.booleans(),
    ),
    st.builds(
        lambda every: Script(Send(INTERIM * 3, every=every), SendAnswer()), st.floats(0.0, 0.01)
    ),
    # header lines forever
    st.floats(0.01, 0.05).map(
        lambda every: Script(Send(b"HTTP/1.1 200 OK\r\n"), Repeat(b"X-Pad: 1\r\n", every=every))
    ),
    # status answers
    phone_error,
    st.sampled_from(
        [
            Respond(200, headers=(("Content-Type", "application/json"),), body=b"not json"),
            Respond(201, headers=(("Content-Type", "application/json"),), body=b'{"call_id": 5}'),
            Respond(200, headers=(("Content-Type", "text/html"),), body=b"<html>portal</html>"),
            Respond(200, headers=(("Content-Encoding", "gzip"),), body=b"\x1f\x8b garbage"),
            Script(Send(b"HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\n{}"), Close()),
            Script(Send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n"), Close()),
        ]
    ),
)


@st.composite
def runs(draw: st.DrawFn) -> dict[str, object]:
    flavour, via = draw(st.sampled_from(MODES))
    return {
        "schedule": draw(st.lists(behaviours, min_size=1, max_size=4)),
        "flavour": flavour,
        "via": via,
        "op": draw(st.sampled_from(["create", "create", "get"])),
        "key": draw(st.sampled_from([None, "appt-A-123-confirm"])),
        "deadline": draw(st.sampled_from([0.3, 0.45, 0.6])),
        "max_retries": draw(st.integers(0, 3)),
        "chunked": draw(st.booleans()),
    }


@PROFILE
@given(run=runs())
def test_every_fault_schedule_keeps_every_promise(run: dict[str, object]) -> None:
    schedule = run["schedule"]
    assert isinstance(schedule, list)
    deadline = run["deadline"]
    assert isinstance(deadline, float)
    fds_before = open_fds()
    server = FaultServer(*schedule, app=CallApp(chunked=bool(run["chunked"]))).start()
    try:
        out = run_one(
            server,
            flavour=str(run["flavour"]),
            via=str(run["via"]),
            op=str(run["op"]),
            key=run["key"] if isinstance(run["key"], str) else None,
            deadline=deadline,
            max_retries=int(str(run["max_retries"])),
        )
    finally:
        server.stop()
    check_invariants(out, server, deadline=deadline)
    # A success of a create returned the call the server made for that key.
    if out.error is None and out.op == "create" and out.via == "typed":
        made = {call["call_id"] for call in server.app.calls.values()}
        assert getattr(out.result, "call_id", None) in made
    if out.error is None and out.op == "create" and out.via == "raw":
        body = out.result
        if isinstance(body, dict) and isinstance(body.get("call_id"), str):
            made = {call["call_id"] for call in server.app.calls.values()}
            assert body["call_id"] in made, json.dumps(body)
    assert open_fds() <= fds_before, "a socket or file was left open"
