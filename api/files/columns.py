"""A batch of raw cell texts turned into typed columns, a whole column at a time.

The common spellings of a column (ASCII text, '1234.50', '007') are converted by Arrow
compute kernels; every other cell goes to the scalar reader of ``api.files.cells`` once per
distinct text (a million payroll lines hold a few dozen amounts and dates), which gives
either the same value the row parser gave or the same message. So the vector pass decides
nothing a person reads: it only skips Python for the cells whose meaning is plain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from api.files import cells, limits
from api.files.model import arrow_type, table_schema
from api.files.problems import Problems
from domain.catalogue import Column, RecordKind
from domain.money import format_fen, to_fen

# What str.strip() and str.split() take for whitespace, as one string of characters
# (none lies above U+3000): Arrow's own trim follows another definition.
PY_WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_ASCII_WHITESPACE = "".join(c for c in PY_WHITESPACE if c.isascii())
_ASCII_WHITESPACE_RE = "[" + "".join(f"\\x{ord(c):02x}" for c in _ASCII_WHITESPACE) + "]"
# Text NFKC leaves as it is: printable ASCII and the CJK ideographs of the basic block and
# extension A have no decomposition and compose with nothing (test_files checks each one),
# so such a cell only needs its spaces trimmed: names, townships, programs in Chinese.
NFKC_STABLE_RE = "^[\\x20-\\x7e\\x{3400}-\\x{4dbf}\\x{4e00}-\\x{9fff}]*$"
NFKC_STABLE_RANGES = ((0x20, 0x7E), (0x3400, 0x4DBF), (0x4E00, 0x9FFF))
_MONEY_RE = r"^(?P<yuan>[0-9]{1,12})(?:\.(?P<fen>[0-9]{1,2}))?$"
_PLAIN_LINE_NO_RE = r"^[0-9]+(?:\.0+)?$"


@dataclass(frozen=True)
class Present:
    """A column of the kind found in the header: its cell index and header as written."""

    column: Column
    index: int
    written: str
    place: int  # position in the kind: a row's problems are listed in this order


@dataclass
class Converted:
    """One batch converted: the valid rows as a table of the kind's schema."""

    table: pa.Table
    rows: int  # rows read (with a value), valid or not


def convert_batch(kind: RecordKind, present: list[Present], conditional: list[Present],
                  rows: np.ndarray, texts: dict[str, pa.Array], problems: Problems,
                  amount_max_fen: int | None = None) -> Converted:
    """Typed columns of the batch; every bad cell a problem; only valid rows kept.
    ``amount_max_fen``: the kind's ceiling on one amount (``domain.amount_limits``)."""
    length = len(rows)
    values: dict[str, pa.Array] = {}
    failed: dict[str, np.ndarray] = {}
    for item in present:
        typed, reasons = convert_column(item.column, texts[item.column.name])
        if item.column.is_money and amount_max_fen is not None:
            reasons = _above_ceiling(kind.name, typed, reasons, texts[item.column.name],
                                     amount_max_fen)
        values[item.column.name] = typed
        failed[item.column.name] = _report(problems, rows, reasons, item)
    for column in kind.columns:
        if column.name not in values:
            values[column.name] = _empty(column, length)
    bad = np.zeros(length, dtype=bool)
    for mask in failed.values():
        bad |= mask
    for item in conditional:
        reasons = _conditional_reasons(item.column, values, failed.get(item.column.name))
        bad |= _report(problems, rows, reasons, item)
    keep = pa.array(~bad)
    arrays = [values[c.name].filter(keep) for c in kind.columns]
    arrays.append(pa.array(rows, pa.int64()).filter(keep))
    return Converted(pa.Table.from_arrays(arrays, schema=table_schema(kind.name)), length)


def _report(problems: Problems, rows: np.ndarray, reasons: pa.Array | None,
            item: Present) -> np.ndarray:
    """Add the column's problems (at most MAX_ERRORS_LISTED described); their rows."""
    if reasons is None or reasons.null_count == len(reasons):
        return np.zeros(len(rows), dtype=bool)
    failed = reasons.is_valid().to_numpy(zero_copy_only=False)
    where = np.flatnonzero(failed)
    listed = where[:limits.MAX_ERRORS_LISTED]
    for index, reason in zip(listed.tolist(), reasons.take(pa.array(listed)).to_pylist(),
                             strict=True):
        problems.add(int(rows[index]), item.written, reason, item.place)
    problems.add_uncounted_listing(len(where) - len(listed))
    return failed


def _above_ceiling(kind: str, fen: pa.Array, reasons: pa.Array | None, raw: pa.Array,
                   amount_max_fen: int) -> pa.Array | None:
    """Amounts that read well but exceed the kind's ceiling: a problem naming it."""
    above = pc.fill_null(pc.greater(pc.abs(fen), amount_max_fen), False)
    if reasons is not None:
        above = pc.and_(above, pc.is_null(reasons))
    if not pc.any(above).as_py():
        return reasons
    ceiling = format_fen(amount_max_fen)
    why = [f"amount above the {kind} ceiling of {ceiling} yuan ([limits] {kind} in "
           f"policy.toml): {text!r}" for text in raw.filter(above).to_pylist()]
    base = reasons if reasons is not None else pa.nulls(len(fen), pa.string())
    return pc.replace_with_mask(base, above, pa.array(why, pa.string()))


def _empty(column: Column, length: int) -> pa.Array:
    empty = cells.empty_value(column)
    return pa.array([empty], arrow_type(column)).take(pa.array(np.zeros(length, np.int64)))


def _conditional_reasons(column: Column, values: dict[str, pa.Array],
                         failed: np.ndarray | None) -> pa.Array:
    """'required value is empty' where a condition makes the value required (a successful
    bank line's value date; a reserve amount except on a settlement), on cells that did
    not already fail to read."""
    when = column.required_when or column.optional_when
    assert when is not None
    holds = pc.fill_null(pc.is_in(values[when.column], value_set=pa.array(when.values)), False)
    required = holds if column.required_when is not None else pc.invert(holds)
    value = values[column.name]
    empty = pc.equal(value, "") if value.type == pa.string() else pc.is_null(value)
    missing = pc.and_(required, empty)
    if failed is not None:
        missing = pc.and_(missing, pa.array(~failed))
    reason = "required value is empty" + ("" if column.required_when is None
                                          else f" when {column.required_when}")
    return pc.if_else(missing, pa.scalar(reason), pa.scalar(None, pa.string()))


# ------------------------------------------------------------------------------ columns

def convert_column(column: Column, raw: pa.Array) -> tuple[pa.Array, pa.Array | None]:
    """(typed values, reason per cell or null): the scalar reader's result for every cell."""
    norm = normalise_column(raw)
    empty = pc.equal(norm, "")
    typed, reasons = _typed(column, norm, empty)
    if cells.value_always_required(column) and pc.any(empty).as_py():
        required = pc.if_else(empty, pa.scalar("required value is empty"), reasons
                              if reasons is not None else pa.scalar(None, pa.string()))
        reasons = required
    if reasons is not None:
        failed = pc.is_valid(reasons)
        typed = pc.if_else(failed, pa.scalar(cells.empty_value(column), typed.type), typed)
    return typed, reasons


def normalise_column(raw: pa.Array) -> pa.Array:
    """``cells.normalise`` of every cell: plain ASCII and Chinese by a kernel, the others
    (full-width digits, tabs, rare scripts) through Python once per distinct text."""
    trimmed = pc.utf8_trim(raw, characters=_ASCII_WHITESPACE)
    other = pc.invert(pc.match_substring_regex(raw, NFKC_STABLE_RE))
    if not pc.any(other).as_py():
        return trimmed
    return _patch(trimmed, other, raw, cells.normalise, pa.string())[0]


def _typed(column: Column, norm: pa.Array, empty: pa.Array
           ) -> tuple[pa.Array, pa.Array | None]:
    parse = cells.type_parser(column)
    out = arrow_type(column)
    filled = pc.if_else(empty, pa.scalar(cells.empty_value(column), out),
                        pa.scalar(None, out))
    if parse is None:  # plain text
        return norm, None
    plain = _plain(column, norm, out)
    if plain is None:
        todo = pc.invert(empty)
        base = filled
    else:
        fast, ok = plain
        todo = pc.and_(pc.invert(empty), pc.invert(ok))
        base = pc.if_else(ok, fast, filled)
    if not pc.any(todo).as_py():
        return base, None
    convert: Callable[[object], object] = _to_fen if column.is_money else _same
    typed, reasons = _patch(base, todo, norm, lambda text: convert(parse(text)), out)
    return typed, reasons


def _plain(column: Column, norm: pa.Array, out: pa.DataType
           ) -> tuple[pa.Array, pa.Array] | None:
    """(values, where they hold) for the spellings a kernel converts exactly."""
    type_ = column.type
    ascii_ = pc.string_is_ascii(norm)
    if column.is_money:
        parts = pc.extract_regex(norm, pattern=_MONEY_RE)
        ok = pc.fill_null(pc.is_valid(parts), False)
        yuan = pc.cast(pc.if_else(ok, pc.struct_field(parts, "yuan"), "0"), pa.int64())
        fen = pc.utf8_rpad(pc.if_else(ok, pc.struct_field(parts, "fen"), "0"), width=2,
                           padding="0")
        value = pc.add(pc.multiply(yuan, 100), pc.cast(fen, pa.int64()))
        return value, ok
    if type_ == "line_no":
        plain = pc.match_substring_regex(norm, _PLAIN_LINE_NO_RE)
        bare = pc.replace_substring_regex(norm, pattern=r"\.0+$", replacement="")
        bare = pc.replace_substring_regex(bare, pattern=r"^0+([0-9])", replacement=r"\1")
        return pc.if_else(plain, bare, norm), pa.array(np.ones(len(norm), bool))
    if type_ in ("id_number", "account"):
        dropped = _ASCII_WHITESPACE_RE[:-1] + ("-]" if type_ == "account" else "]")
        value = pc.replace_substring_regex(norm, pattern=dropped, replacement="")
        return (pc.ascii_upper(value) if type_ == "id_number" else value), ascii_
    return None


def _same(value: object) -> object:
    return value


def _to_fen(value: object) -> int:
    assert isinstance(value, Decimal)
    return to_fen(value)


def _patch(base: pa.Array, mask: pa.Array, texts: pa.Array,
           parse: Callable[[str], object], out: pa.DataType
           ) -> tuple[pa.Array, pa.Array | None]:
    """``base`` with the cells under ``mask`` replaced by ``parse`` of their text, called once
    per distinct text; a CellError becomes that cell's reason (value: null)."""
    chosen = texts.filter(mask)
    distinct = pc.unique(chosen)
    parsed: list[object] = []
    reasons: list[str | None] = []
    for text in distinct.to_pylist():
        try:
            parsed.append(parse(text))
            reasons.append(None)
        except cells.CellError as exc:
            parsed.append(None)
            reasons.append(str(exc))
    where = pc.index_in(chosen, value_set=distinct)
    values = pa.array(parsed, out).take(where)
    patched = pc.replace_with_mask(base, mask, values)
    if all(r is None for r in reasons):
        return patched, None
    why = pa.array(reasons, pa.string()).take(where)
    nothing = pa.nulls(len(base), pa.string())
    return patched, pc.replace_with_mask(nothing, mask, why)

