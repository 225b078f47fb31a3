"""The stored form of a record event, written and read without the mapper: one place.

eventsourcing's mapper turns a ``Record.Recorded``/``Corrected`` event into JSON through its
``JSONTranscoder`` (a Decimal as ``{"_type_":"decimal_str","_data_":…}``, the timestamp as
``{"_type_":"datetime_iso",…}``) and back into objects. Loading a million rows, that is most
of the time, so the ledger writes new records' events itself (``encode_plain_state``: the
transcoder's very bytes, by orjson) and the projection reads them itself (``plain_state``:
decimals and the timestamp kept as their text, which is what the read models store).
Anything unusual (a value the transcoder would wrap otherwise, an integer beyond 64 bits,
which orjson refuses to write and reads back as a float) goes through the mapper both
ways. ``tests/unit/test_event_encoding.py`` holds both directions to the library's
transcoder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from eventsourcing.persistence import StoredEvent

# eventsourcing transcodings whose data is already the text the read models store
PLAIN_TRANSCODINGS = frozenset({"decimal_str", "datetime_iso"})


@dataclass(frozen=True)
class RecordedEvent(StoredEvent):
    """A new record's stored ``Recorded`` event as ``record_file`` writes it, with what
    its ``state`` says in plain values: the fields with money as decimal text, and the
    timestamp. Whoever projects the events just written reads these instead
    of decoding ``state`` again (the recorder reads only the four stored attributes)."""

    kind: str = ""
    key: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    timestamp: dt.datetime = dt.datetime.min
    business_date: str = ""
    actor: str = ""
    source: str = ""



_JSON_NATIVE = frozenset({str, int, bool, type(None)})


def encode_plain_state(state: dict[str, Any]) -> tuple[bytes, dict[str, Any]] | None:
    """The bytes eventsourcing's ``JSONTranscoder`` writes for a record event's state
    (compact JSON, non-ASCII kept, a Decimal as ``{"_type_":"decimal_str",…}``, the
    timestamp as ``{"_type_":"datetime_iso",…}``), written by orjson, about ten times
    faster, with the fields in plain values (a Decimal as its text: what decoding those
    bytes and unwrapping the decimals gives back). None when a field holds anything else
    (or what orjson refuses, such as an integer beyond 64 bits): the transcoder encodes
    that event."""
    fields = {}
    plain = {}
    for name, value in state["fields"].items():
        kind = type(value)
        if kind is Decimal:
            text = str(value)
            plain[name] = text
            value = {"_type_": "decimal_str", "_data_": text}
        elif kind not in _JSON_NATIVE:
            return None
        else:
            plain[name] = value
        fields[name] = value
    timestamp = state["timestamp"]
    if type(timestamp) is not dt.datetime:
        return None
    # orjson writes a UTC datetime exactly as isoformat() does, in C (property-tested)
    moment = timestamp if timestamp.tzinfo is dt.UTC else timestamp.isoformat()
    try:
        return orjson.dumps({**state, "timestamp": {"_type_": "datetime_iso", "_data_": moment},
                             "fields": fields}), plain
    except orjson.JSONEncodeError:
        return None


new_object = object.__new__  # builds a RecordedEvent without its dataclass __init__


def plain_state(stored: bytes) -> dict[str, Any] | None:
    """A record event's stored state with its wrapped values unwrapped: each decimal and
    the timestamp as their text (plain JSON parsing, no per-object hook; a record's fields
    are flat, so only their values need a look). None for anything else: a value wrapped
    otherwise, nested, or a float (the codec never writes one; orjson reads an integer
    beyond 64 bits as one); the mapper reads those, exactly."""
    try:
        state = orjson.loads(stored)
    except orjson.JSONDecodeError:
        return None
    timestamp = state.get("timestamp")
    timestamp = _plain_text(timestamp) if type(timestamp) is dict else _NOT_PLAIN
    fields = state.get("fields")
    if timestamp is _NOT_PLAIN or type(fields) is not dict:
        return None
    for name, value in fields.items():
        kind = type(value)
        if kind is dict:
            value = _plain_text(value)
            if value is _NOT_PLAIN:
                return None
            fields[name] = value
        elif kind is list or kind is float:  # nested, or a number orjson may have read
            return None                      # inexactly (it reads a 70-bit integer as float)
    state["timestamp"] = timestamp
    return state


def _plain_text(value: dict[str, Any]) -> Any:
    """The text inside an eventsourcing ``{"_type_": …, "_data_": …}`` wrapper of a
    decimal or a moment; ``_NOT_PLAIN`` for any other wrapped or nested value."""
    if len(value) == 2 and value.get("_type_") in PLAIN_TRANSCODINGS \
            and isinstance(value.get("_data_"), str):
        return value["_data_"]
    return _NOT_PLAIN


_NOT_PLAIN = object()
