"""The one home of "which call statuses are final" agrees with the public contract.

The contract states the rule in ``CallStatus``'s description ("queued -> ringing ->
in-progress -> completed, or an early end (no-answer, busy, failed, canceled)"); a status it
adds fails here until it is placed in ``_shared/call_status.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import stateset_voice_facts as facts
from stateset_voice_public.models import CallStatus

from stateset_voice_wrapper._shared.call_status import (
    FINAL_CALL_STATUSES,
    IN_PROGRESS_CALL_STATUSES,
    is_final_call_status,
)

CONTRACT = Path(__file__).resolve().parents[1] / "api-contracts" / "stateset-voice-public.json"


def test_every_status_of_the_contract_is_placed_once() -> None:
    enum = set(facts.SCHEMAS["public"]["CallStatus"]["enum"])
    assert enum == FINAL_CALL_STATUSES | IN_PROGRESS_CALL_STATUSES
    assert not FINAL_CALL_STATUSES & IN_PROGRESS_CALL_STATUSES


def test_the_sets_are_the_lifecycle_the_contract_describes() -> None:
    schema = json.loads(CONTRACT.read_text("utf-8"))["components"]["schemas"]["CallStatus"]
    found = re.fullmatch(
        r"Lifecycle of a call: (?P<path>[a-z >-]+?) -> (?P<done>[a-z-]+), "
        r"or an early end \((?P<early>[a-z, -]+)\)\.",
        schema["description"],
    )
    assert found, schema["description"]
    assert set(found["path"].split(" -> ")) == IN_PROGRESS_CALL_STATUSES
    early = set(found["early"].split(", "))
    assert {found["done"], *early} == FINAL_CALL_STATUSES


def test_the_generated_enum_and_unknown_values() -> None:
    for status in CallStatus:
        assert is_final_call_status(status) is (status.value in FINAL_CALL_STATUSES)
        assert is_final_call_status(status.value) is is_final_call_status(status)
    for unknown in ("scheduled", "", None, 3, "COMPLETED"):
        assert is_final_call_status(unknown) is False  # a newer server's status is not an end
