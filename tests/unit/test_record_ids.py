"""A record's id is ``uuid5(ID_NAMESPACE, kind + US + key)``: the fast construction gives
that very UUID (equal, same text, same hash, version 5), whatever the key."""

from __future__ import annotations

from uuid import UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.records import ID_NAMESPACE, record_id


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=12), st.text(max_size=60))
def test_record_id_is_the_uuid5_of_kind_and_key(kind: str, key: str) -> None:
    try:
        expected = uuid5(ID_NAMESPACE, f"{kind}\x1f{key}")
    except UnicodeEncodeError:  # a lone surrogate: no id either way
        with pytest.raises(UnicodeEncodeError):
            record_id(kind, key)
        return
    got = record_id(kind, key)
    assert type(got) is UUID
    assert (got, str(got), hash(got), got.version, got.variant) == (
        expected, str(expected), hash(expected), 5, expected.variant)
