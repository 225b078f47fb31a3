"""The event codec (``domain.event_codec``) against eventsourcing's own transcoder, both
ways: record events written by orjson are byte for byte what the transcoder writes (the
ledger's integrity chain hashes those bytes, and replays decode them), and what the
projection reads back without the transcoder is the transcoder's reading, as text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from uuid import UUID

import orjson
from eventsourcing.domain import datetime_now_with_tzinfo
from eventsourcing.persistence import JSONTranscoder, Transcoder
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.event_codec import encode_plain_state, plain_state
from domain.ledger import RECORD_TOPIC


def transcoder() -> Transcoder:
    from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, UUIDAsHex

    out = JSONTranscoder()
    out.register(UUIDAsHex())
    out.register(DecimalAsStr())
    out.register(DatetimeAsISO())
    return out


TRANSCODER = transcoder()
values = st.one_of(
    st.text(),  # every code point orjson and json may escape differently
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(), st.none(),
)


def state_of(fields: dict, timestamp: dt.datetime | None = None) -> dict:
    return {"timestamp": timestamp or datetime_now_with_tzinfo(), "originator_topic": RECORD_TOPIC,
            "kind": "payroll", "key": "B1|1", "fields": fields, "actor": "clerk 张",
            "business_date": "2025-03-01", "source": "payroll.csv#2"}


MOMENTS = st.datetimes(timezones=st.sampled_from(
    [dt.UTC, dt.timezone(dt.timedelta(hours=8)), dt.timezone(dt.timedelta(hours=-5))]))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=12), MOMENTS)
def test_orjson_writes_the_transcoders_bytes_and_the_plain_fields_they_decode_to(
        fields: dict, timestamp: dt.datetime) -> None:
    state = state_of(fields, timestamp)
    encoded = encode_plain_state(state)
    assert encoded is not None
    written, plain = encoded
    assert written == TRANSCODER.encode(state)
    stored = orjson.loads(written)["fields"]
    assert plain == {name: value["_data_"] if isinstance(value, dict) else value
                     for name, value in stored.items()}
    assert list(plain) == list(stored)


def test_what_orjson_cannot_write_is_left_to_the_transcoder() -> None:
    assert encode_plain_state(state_of({"n": 2**70})) is None
    assert encode_plain_state(state_of({"d": dt.date(2025, 1, 1)})) is None
    assert encode_plain_state(state_of({"amount": Decimal("1.50")})) is not None


@settings(max_examples=300, deadline=None)
@given(MOMENTS)
def test_the_projections_iso_text_of_a_moment_is_isoformat(moment: dt.datetime) -> None:
    from projections.facts import _iso

    assert _iso(moment) == moment.isoformat()


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20), values, max_size=12), MOMENTS)
def test_the_plain_reading_of_stored_bytes_is_the_transcoders_reading_as_text(
        fields: dict, timestamp: dt.datetime) -> None:
    state = state_of(fields, timestamp)
    stored = TRANSCODER.encode(state)
    assert TRANSCODER.decode(stored) == state  # the library's own round trip
    plain = plain_state(stored)
    assert plain is not None
    assert plain["timestamp"] == timestamp.isoformat()
    assert plain["fields"] == {name: str(value) if isinstance(value, Decimal) else value
                               for name, value in fields.items()}
    assert {k: v for k, v in plain.items() if k not in ("timestamp", "fields")} == {
        k: v for k, v in state.items() if k not in ("timestamp", "fields")}


def test_what_the_plain_reading_cannot_read_is_left_to_the_transcoder() -> None:
    uuid_wrapped = TRANSCODER.encode(state_of({"u": UUID(int=7)}))  # wrapped otherwise
    assert plain_state(uuid_wrapped) is None
    big = TRANSCODER.encode(state_of({"n": 2**70}))  # orjson refuses the integer
    assert plain_state(big) is None
