"""Request IDs and generated idempotency keys: RFC 4122 version-4 UUID strings, never repeated."""

from __future__ import annotations

import re
import uuid

from stateset_voice_wrapper._shared.ids import random_uuid

_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


def test_random_uuid_is_a_version_4_uuid() -> None:
    for _ in range(2000):
        value = random_uuid()
        assert _SHAPE.fullmatch(value), value
        parsed = uuid.UUID(value)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == value


def test_random_uuids_do_not_repeat_and_use_every_variant() -> None:
    values = [random_uuid() for _ in range(5000)]
    assert len(set(values)) == len(values)
    assert {v[19] for v in values} == set("89ab")
