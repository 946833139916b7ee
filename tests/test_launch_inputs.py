"""The launch check's inputs on their own: intents files, the plan of a run's calls, delivery
files and directories, the counting of deliveries, and the receiver's HTTP side."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from stateset_voice_wrapper.launch import (
    Delivery,
    DeliveryDirectory,
    DeliveryFile,
    DeliverySource,
    LaunchInputError,
    WebhookReceiver,
    load_intents,
    parse_intents,
    read_deliveries,
)
from stateset_voice_wrapper.launch._deliveries import tally_deliveries
from stateset_voice_wrapper.launch._place import plan_calls

if TYPE_CHECKING:
    from tests.launch_events import NOW, SECRET, event, signed
else:
    from launch_events import NOW, SECRET, event, signed


# -- intents ----------------------------------------------------------------------------------


def test_an_intents_file_reads_in_order(tmp_path: Path) -> None:
    path = tmp_path / "intents.json"
    path.write_text(
        json.dumps(
            {
                "intents": {
                    "reschedule": {"expected_outcome": "resolved", "expected_tags": ["reschedule"]},
                    "escalation": {"to": "+15555550106", "expected_outcome": "escalated"},
                }
            }
        )
    )
    first, second = load_intents(path)
    assert (first.name, first.expected_tags, first.to) == ("reschedule", ("reschedule",), None)
    assert (second.name, second.expected_outcome) == ("escalation", "escalated")
    assert "to" not in second.to_dict()  # a number never reaches the report


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"intent": {}}, '{"intents": {...}}'),
        ({"intents": {}}, "non-empty"),
        ({"intents": {"a": {"expected_outcom": "resolved"}}}, "unknown field 'expected_outcom'"),
        ({"intents": {"a": {}}}, "expected_outcome is required"),
        ({"intents": {"a": {"expected_outcome": "happy"}}}, "must be one of resolved"),
        (
            {"intents": {"a": {"expected_outcome": "resolved", "metadata": {"launch_key": "x"}}}},
            "may not set 'launch_key'",
        ),
        ({"intents": {"a": {"expected_outcome": "resolved", "expected_tags": "x"}}}, "list"),
        ({"intents": {"a": {"expected_outcome": "busy", "min_evaluation_score": 2}}}, "0 to 1"),
        ({"intents": {"bad name": {"expected_outcome": "busy"}}}, "intent name"),
    ],
)
def test_an_unusable_intents_document_names_its_problem(document: object, message: str) -> None:
    with pytest.raises(LaunchInputError, match=r"^intents: ") as caught:
        parse_intents(document)
    assert message in str(caught.value)


def test_an_intents_file_that_is_not_json_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "intents.json"
    path.write_text("intents:\n  a: resolved\n")
    with pytest.raises(LaunchInputError, match="is not JSON"):
        load_intents(path)
    with pytest.raises(LaunchInputError, match="cannot read"):
        load_intents(tmp_path / "missing.json")


def test_calls_take_intents_and_numbers_in_turn_and_every_number_is_checked_first() -> None:
    intents = parse_intents(
        {"intents": {"a": {"expected_outcome": "resolved"}, "b": {"expected_outcome": "busy",
                     "to": "+15555550109", "greeting": "Hello", "metadata": {"slot": 3}}}}
    )  # fmt: skip
    plan = plan_calls(run_id="r", calls=3, to=["+15555550101"], greeting="Hi", intents=intents)
    assert [(p.key, p.intent, p.to, p.greeting) for p in plan] == [
        ("launch-r-1", "a", "+15555550101", "Hi"),
        ("launch-r-2", "b", "+15555550109", "Hello"),
        ("launch-r-3", "a", "+15555550101", "Hi"),
    ]
    assert plan[1].metadata == {
        "slot": 3, "launch_run": "r", "launch_key": "launch-r-2", "launch_intent": "b"
    }  # fmt: skip
    with pytest.raises(LaunchInputError, match=r"^to must be an E\.164 number$"):
        plan_calls(run_id="r", calls=2, to=["+15555550101", "555-0199"], greeting=None, intents=())
    with pytest.raises(LaunchInputError, match="no number to call"):
        plan_calls(run_id="r", calls=1, to=[], greeting=None, intents=())


# -- delivery files ---------------------------------------------------------------------------


def test_deliveries_round_trip_through_json_lines(tmp_path: Path) -> None:
    text = signed(event(1))
    binary = Delivery(body=b"\xff\xfe not utf-8", headers={"X": "y"})
    path = tmp_path / "d.jsonl"
    lines = [json.dumps(d.to_json()) for d in (text, binary)]
    # A last line still being written (no newline yet) is left for the next read.
    path.write_text("\n".join(lines) + "\n\n" + lines[0][:20])
    assert read_deliveries(path) == [text, binary]
    assert "body_base64" in binary.to_json()
    source: DeliverySource = DeliveryFile(path)
    assert source.collect() == [text, binary]
    assert source.description.startswith("file ")


def test_a_bad_delivery_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text('{"body": "{}"}\n{"headers": {}}\nnot json\n')
    with pytest.raises(LaunchInputError, match="line 2: a delivery needs a body"):
        read_deliveries(path)


def test_a_directory_holds_one_delivery_per_json_file(tmp_path: Path) -> None:
    (tmp_path / "b.json").write_text(json.dumps(signed(event(2)).to_json()))
    (tmp_path / "a.jsonl").write_text(json.dumps(signed(event(1)).to_json()) + "\n")
    (tmp_path / "notes.txt").write_text("ignored")
    found = DeliveryDirectory(tmp_path).collect()
    assert [json.loads(d.body)["id"] for d in found] == ["evt_1", "evt_2"]
    with pytest.raises(LaunchInputError, match="does not exist"):
        DeliveryDirectory(tmp_path / "nowhere").collect()


# -- counting ---------------------------------------------------------------------------------


def test_deliveries_are_verified_deduplicated_and_attributed() -> None:
    unsigned = Delivery(body=json.dumps(event(3)).encode(), received_at=NOW)
    unreadable = Delivery(body=b"<html>", received_at=NOW)
    deliveries = [
        signed(event(1)),
        signed(event(1)),  # a repeat: same id
        signed(event(2, kind="call.queued")),
        signed(event(9, call_id="call_other")),  # not this run's: not counted
        unsigned,
        unreadable,
        signed(event(4), secret="whsec_old"),
    ]
    tally = tally_deliveries(
        deliveries, secrets=[SECRET], call_ids=["call_1"], now=lambda: float(NOW)
    )
    assert (tally.received, tally.considered, tally.other_calls) == (7, 6, 1)
    assert tally.verified == 3
    assert tally.failures == {"missing_signature": 2, "signature_mismatch": 1}
    assert (tally.distinct_events, tally.duplicates) == (5, 1)
    # Whether an event arrived is not whether it was genuine: the unsigned one counts here.
    assert tally.events_by_call == {"call_1": frozenset({"call.completed", "call.queued"})}


def test_a_signature_is_judged_at_the_time_its_delivery_arrived() -> None:
    old = signed(event(1), at=NOW - 86_400)  # received a day ago, one second after signing
    late = Delivery(body=old.body, headers=old.headers)  # no received_at: judged now
    tally = tally_deliveries(
        [old, late], secrets=[SECRET], call_ids=["call_1"], now=lambda: float(NOW)
    )
    assert tally.verified == 1
    assert tally.failures == {"timestamp_outside_tolerance": 1}


# -- the receiver -----------------------------------------------------------------------------


def _request(url: str, body: bytes | None, headers: dict[str, str], method: str = "POST") -> int:
    parts = urllib.parse.urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        connection.request(method, parts.path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return _request(url, body, headers)


def _port(url: str) -> int:
    port = urllib.parse.urlsplit(url).port
    assert port is not None
    return port


def test_the_receiver_records_what_it_is_sent_and_refuses_what_it_cannot_bound(
    tmp_path: Path,
) -> None:
    saved = tmp_path / "runs" / "r" / "deliveries.jsonl"
    with WebhookReceiver(path="/hooks", max_body_bytes=1000, save_to=saved) as receiver:
        assert receiver.url.startswith("http://127.0.0.1:")
        assert receiver.url.endswith("/hooks")
        delivery = signed(event(1))
        assert _post(receiver.url, delivery.body, dict(delivery.headers)) == 204
        assert _post(receiver.url, b"x" * 1001, {}) == 413
        assert _post(receiver.url.removesuffix("hooks") + "other", b"{}", {}) == 404
        assert _request(receiver.url, None, {}, method="GET") == 405
        # No Content-Length: refused rather than read until the sender stops.
        with socket.create_connection(("127.0.0.1", _port(receiver.url))) as raw:
            raw.sendall(b"POST /hooks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
            assert raw.recv(100).startswith(b"HTTP/1.0 411")
        [got] = receiver.collect()
        assert got.body == delivery.body
        assert got.headers["StateSet-Signature"] == delivery.headers["StateSet-Signature"]
        assert got.received_at is not None
    # A new receiver on the same file starts with what the first one saved.
    with WebhookReceiver(save_to=saved) as again:
        assert [d.body for d in again.collect()] == [delivery.body]


def test_an_idle_connection_does_not_hold_up_the_receiver() -> None:
    with WebhookReceiver(socket_timeout=0.5) as receiver:
        with socket.create_connection(("127.0.0.1", _port(receiver.url))) as idle:
            idle.sendall(b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n")  # never sends a body
            assert _post(receiver.url, b"{}", {}) == 204  # served meanwhile, on its own thread
        assert len(receiver.collect()) == 1
