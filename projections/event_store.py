"""Queries of the event store the library's recorders do not offer, behind one adapter.

``existing_ids``: which of many aggregate ids have events, one query per chunk of ids
instead of one read per id (a new month's file asks it for every row). The ledger is given
it by ``api.wiring.Store`` (``Ledger.existing_ids``), so the domain runs no SQL of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

EXISTS_CHUNK_MAX = 500  # ids per existence query (SQLite: bound parameters)
EXISTS_CHUNK_MAX_PG = 20_000  # ids per existence query on PostgreSQL (one text parameter)


def existing_ids(recorder: Any, ids: Sequence[UUID]) -> set[UUID]:
    """Which of ``ids`` have events in the recorder's table (SQLite or PostgreSQL)."""
    found: set[UUID] = set()
    table = recorder.events_table_name
    postgres = hasattr(recorder.datastore, "schema")
    if postgres:
        table = f'"{recorder.datastore.schema}"."{table}"'
    chunk_max = EXISTS_CHUNK_MAX_PG if postgres else EXISTS_CHUNK_MAX
    for start in range(0, len(ids), chunk_max):
        chunk = ids[start:start + chunk_max]
        params: list[Any]
        if postgres:  # one text parameter: adapting a list of UUIDs costs more
            cast = "uuid" if recorder.datastore.originator_id_type == "uuid" else "text"
            where = f"originator_id = ANY(string_to_array(%s, ',')::{cast}[])"
            params = [",".join(map(str, chunk))]
        else:
            where = f"originator_id IN ({', '.join(['?'] * len(chunk))})"
            params = [i.hex for i in chunk]
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT DISTINCT originator_id FROM {table} "  # noqa: S608
                           f"WHERE {where}", params)
            for row in cursor.fetchall():
                value = row["originator_id"]
                found.add(value if isinstance(value, UUID) else UUID(value))
    return found

