"""Public disclosure pages (no login): county, township and village, month by month.

What the public sees is exactly what ``api.disclosure`` publishes, computed by its own
functions: the village lists are ``disclosure_tables`` rows (bank-confirmed payments,
masked names, exempt households left out), township cells are its summary cells (fewer
than ``SMALL_CELL_HOUSEHOLDS_MIN`` households: withheld), and a page is refused whole
when ``check_nothing_private`` finds an ID number, bank account or household id in its
free text (a shifted column). Beyond that file output, the pages add:

- county cells per program and month, summed over the township cells. A total next to
  withheld cells would give them away by subtraction, so a county cell is withheld too
  when the withheld township cells hold between 1 and ``SMALL_CELL_HOUSEHOLDS_MIN`` - 1
  households together (or the county cell itself is small);
- village cells per program and month, withheld under the same small-cell rule;
- charts of disclosed spending against allocations. Spending is the disclosed amount
  (exempt households excluded): the bank's total would reveal, by subtraction from the
  lists, what a handful of exempt households received. A withheld month is a gap, and the
  cumulative line stops at the first gap for the same reason as the county cells.

Everything is derived from the records once per state of the read model and kept on the
app (``PUBLIC_CACHE_ATTRIBUTE``): these pages take no login, so a busy day must not
reload the county's frames on every request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.disclosure import (
    SMALL_CELL_HOUSEHOLDS_MIN,
    SMALL_CELL_TEXT,
    TEMPLATES_DIR,
    DisclosureSettings,
    check_nothing_private,
    check_period,
    disclosure_tables,
    private_values,
    published_free_text,
)
from api.routers.deps import State
from domain.catalogue import PROGRAMS
from domain.errors import DomainError, Tampered
from domain.money import format_fen, parse_yuan, to_fen
from projections import audit, integrity
from projections.frames import load_frames
from reconciliation.common import Frames

router = APIRouter(prefix="/public", include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
TEMPLATES = Jinja2Templates(directory=TEMPLATES_DIR)
PUBLIC_CACHE_ATTRIBUTE = "aidledger_public_cache"
MONTH_FIRST, MONTH_LAST = 1, 12
# Chart.js needs no inline script or eval; styles may be inline (Chart.js sizes canvases).
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' "
                           "'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
                           "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
                    "X-Frame-Options": "DENY"}
WITHHELD_HOUSEHOLDS_TEXT = f"少于{SMALL_CELL_HOUSEHOLDS_MIN}户"
WITHHELD_AMOUNT_TEXT = "不公布"
_CACHE_LOCK = threading.Lock()  # one rebuild of the published tables at a time
# The rows behind the published tables are re-proven against their checksums whenever the
# records change, and otherwise at most this often (a full read of rm_facts each time).
PROOF_RECHECK_SECONDS = 60


# -- what is published ----------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    """Households and disclosed amount of one program in one month, or withheld."""

    households: int
    amount_fen: int
    withheld: bool

    @property
    def households_text(self) -> str:
        """'少于10户' for a small cell; a cell withheld only because the withheld cells
        under it are small says just '不公布' (its own count is not small)."""
        if not self.withheld:
            return str(self.households)
        return WITHHELD_AMOUNT_TEXT if self.households >= SMALL_CELL_HOUSEHOLDS_MIN \
            else WITHHELD_HOUSEHOLDS_TEXT

    @property
    def amount_text(self) -> str:
        return WITHHELD_AMOUNT_TEXT if self.withheld else format_fen(self.amount_fen)


def is_small(households: int) -> bool:
    """The disclosure module's rule: a cell of 1 .. MIN-1 households is withheld."""
    return 0 < households < SMALL_CELL_HOUSEHOLDS_MIN


@dataclass
class Published:
    """Everything the public pages show, for one state of the records."""

    periods: list[str]
    rows: dict[str, pd.DataFrame]
    summaries: dict[str, pd.DataFrame]
    allocations: pd.DataFrame
    refused: str | None = None
    townships: list[str] = field(default_factory=list)
    villages: dict[str, list[str]] = field(default_factory=dict)

    def year_periods(self, year: str) -> list[str]:
        return [p for p in self.periods if p.startswith(year + "-")]


def published(frames: Frames, settings: DisclosureSettings) -> Published:
    """Rows and summaries of every payroll period, through ``disclosure_tables``; the
    privacy safeguard of ``api.disclosure`` runs over all their free text."""
    periods = sorted({str(p) for p in frames.payroll["period"] if str(p)})
    rows, summaries = {}, {}
    for period in periods:
        rows[period], summaries[period] = disclosure_tables(frames, period)
    allocations = frames.allocations[["program", "township", "amount_fen", "date"]].copy()
    every_row = pd.concat(list(rows.values()) or [pd.DataFrame(
        columns=["township", "village"])], ignore_index=True)
    out = Published(periods, rows, summaries, allocations)
    free_text = published_free_text(every_row, [], settings, None)
    try:
        check_nothing_private([*free_text, *map(str, allocations["township"])],
                              private_values(frames))
    except DomainError as error:
        out.refused = str(error)
    places = every_row[["township", "village"]].drop_duplicates()
    out.townships = sorted(set(places["township"]) | set(map(str, allocations["township"])))
    for township, village in sorted(places.itertuples(index=False, name=None)):
        out.villages.setdefault(str(township), []).append(str(village))
    return out


def _facts_position(db: Any) -> int:
    """The last recorded fact: the published tables change only when it does."""
    if not db.table_exists("rm_facts"):
        return 0
    return int(db.query("SELECT MAX(notification_id) FROM rm_facts")[0][0] or 0)



def current(request: Request, state: Any) -> tuple[Published, str]:
    """The published tables (rebuilt when records changed) and the ledger's digest now.

    Raises ``Tampered`` (the page answers 503) when the log has outgrown its chain or the
    rows the tables come from no longer match their checksums (``projections.audit``)."""
    with state.caught_up() as store:
        position = _facts_position(store.db)
        digest_text = integrity.digest(store).text
        with _CACHE_LOCK:
            cached: tuple[int, Published, float] | None = getattr(
                request.app.state, PUBLIC_CACHE_ATTRIBUTE, None)
            fresh = cached is not None and cached[0] == position \
                and time.monotonic() - cached[2] <= PROOF_RECHECK_SECONDS
            if cached is None or not fresh:
                setattr(request.app.state, PUBLIC_CACHE_ATTRIBUTE, None)
                audit.check_published(store)
                tables = (cached[1] if cached is not None and cached[0] == position else
                          published(load_frames(store.db), DisclosureSettings.from_env()))
                cached = (position, tables, time.monotonic())
                setattr(request.app.state, PUBLIC_CACHE_ATTRIBUTE, cached)
    return cached[1], digest_text


# -- cells ----------------------------------------------------------------------------
def _fen(amounts: pd.Series) -> int:
    return sum(to_fen(parse_yuan(str(a))) for a in amounts)


def _in_scope(rows: pd.DataFrame, township: str | None, village: str | None) -> pd.DataFrame:
    if township is not None:
        rows = rows[rows["township"] == township]
    if village is not None:
        rows = rows[rows["village"] == village]
    return rows


def township_cell(pub: Published, period: str, township: str, program: str) -> Cell:
    """The disclosure summary's own cell (its withholding, its numbers)."""
    summary = pub.summaries[period]
    hit = summary[(summary["township"] == township) & (summary["program"] == program)]
    if hit.empty:
        return Cell(0, 0, False)
    households, amount = hit.iloc[0]["households"], hit.iloc[0]["amount"]
    if households == SMALL_CELL_TEXT:
        return Cell(0, 0, True)
    return Cell(int(households), to_fen(parse_yuan(amount)), False)


def county_cell(pub: Published, period: str, program: str) -> Cell:
    """The sum of the township cells, withheld when small or when the withheld township
    cells together are small (they could be had by subtraction)."""
    rows = pub.rows[period]
    rows = rows[rows["program"] == program]
    # Counted with value_counts, not groupby().agg: over no rows (a program nobody was
    # paid in that month) agg hands back '' where a number belongs.
    per_township = rows["township"].value_counts()
    households = int(per_township.sum())
    hidden = int(sum(int(c) for c in per_township if is_small(int(c))))
    withheld = is_small(households) or is_small(hidden)
    return Cell(households, 0 if withheld else _fen(rows["amount"]), withheld)


def village_cell(pub: Published, period: str, township: str, village: str,
                 program: str) -> Cell:
    rows = _in_scope(pub.rows[period], township, village)
    rows = rows[rows["program"] == program]
    withheld = is_small(len(rows))
    return Cell(len(rows), 0 if withheld else _fen(rows["amount"]), withheld)


def cell(pub: Published, period: str, program: str, township: str | None,
         village: str | None) -> Cell:
    if period not in pub.rows:
        return Cell(0, 0, False)
    if township is None:
        return county_cell(pub, period, program)
    if village is None:
        return township_cell(pub, period, township, program)
    return village_cell(pub, period, township, village, program)


# -- series and charts ----------------------------------------------------------------
def months_of(pub: Published, period: str) -> list[str]:
    """January of the period's year up to the last month with payments or allocations
    in that year (at least the period itself)."""
    year = period[:4]
    known = pub.year_periods(year)
    known += [str(d)[:7] for d in pub.allocations["date"] if str(d).startswith(year)]
    last = max([period, *known])
    return [f"{year}-{m:02d}" for m in range(MONTH_FIRST, int(last[5:7]) + 1)]


def allocated_by_month(pub: Published, program: str, months: list[str],
                       township: str | None) -> list[int]:
    """Cumulative allocations of the year up to the end of each month (fen)."""
    alloc = pub.allocations[pub.allocations["program"] == program]
    if township is not None:
        alloc = alloc[alloc["township"] == township]
    year = months[0][:4]
    dated = [(str(d)[:7], int(a)) for d, a in zip(alloc["date"], alloc["amount_fen"],
                                                   strict=True) if str(d).startswith(year)]
    return [sum(a for m, a in dated if m <= month) for month in months]


def programs_in(pub: Published, months: list[str], township: str | None,
                village: str | None) -> list[str]:
    """Programs with disclosed rows in these months, or allocations (county, township)."""
    seen: set[str] = set()
    for month in months:
        if month in pub.rows:
            seen |= set(_in_scope(pub.rows[month], township, village)["program"])
    if village is None:
        alloc = pub.allocations
        if township is not None:
            alloc = alloc[alloc["township"] == township]
        seen |= {str(p) for p, d in zip(alloc["program"], alloc["date"], strict=True)
                 if str(d)[:4] == months[0][:4]}
    return [p for p in PROGRAMS if p in seen] + sorted(seen - set(PROGRAMS))


def _yuan(fen: int | None) -> str | None:
    """Chart values are strings of yuan ('1234.50'): never a float on the way."""
    return None if fen is None else format_fen(fen)


def program_section(pub: Published, program: str, months: list[str], township: str | None,
                    village: str | None, number: int) -> dict[str, Any]:
    """One program's monthly table and chart data."""
    cells = [cell(pub, m, program, township, village) for m in months]
    paid = [None if c.withheld else c.amount_fen for c in cells]
    cumulative: list[int | None] = []
    running: int | None = 0
    for value in paid:
        running = None if running is None or value is None else running + value
        cumulative.append(running)
    chart: dict[str, Any] = {
        "id": f"chart-{number}", "labels": [f"{int(m[5:7])}月" for m in months],
        "paid": [_yuan(v) for v in paid], "paid_cumulative": [_yuan(v) for v in cumulative],
        "allocated_cumulative": None}
    if village is None:
        chart["allocated_cumulative"] = [
            _yuan(v) for v in allocated_by_month(pub, program, months, township)]
    return {"program": program, "program_zh": PROGRAMS.get(program, program),
            "months": [{"period": m, "label": f"{m[:4]}年{int(m[5:7])}月", "cell": c}
                       for m, c in zip(months, cells, strict=True)],
            "chart": chart}


# -- pages ----------------------------------------------------------------------------
def public_url(township: str | None = None, village: str | None = None,
               period: str | None = None) -> str:
    path = "/public/"
    if township is not None:
        path += f"townships/{quote(township, safe='')}"
        if village is not None:
            path += f"/villages/{quote(village, safe='')}"
    return path + (f"?{urlencode({'period': period})}" if period else "")


def period_zh(period: str) -> str:
    year, month = check_period(period)
    return f"{year}年{month}月"


def _chosen_period(pub: Published, asked: str | None) -> str | None:
    """The asked period, or the latest with disclosed rows (else the latest at all)."""
    if asked:
        check_period(asked)
        return asked
    with_rows = [p for p in pub.periods if not pub.rows[p].empty]
    periods = with_rows or pub.periods
    return periods[-1] if periods else None


def render(request: Request, name: str, context: dict[str, Any],
           status_code: int = 200) -> HTMLResponse:
    settings = DisclosureSettings.from_env()
    base = {"settings": settings, "small_cell_min": SMALL_CELL_HOUSEHOLDS_MIN}
    return TEMPLATES.TemplateResponse(request, name, {**base, **context},
                                      status_code=status_code, headers=SECURITY_HEADERS)


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(request, "public_error.html", {"message": message, "digest_text": None},
                  status_code=status_code)


def area_page(request: Request, state: Any, township: str | None, village: str | None,
              period: str | None) -> HTMLResponse:
    try:
        pub, digest_text = current(request, state)
    except Tampered as error:
        return error_page(request, 503, f"公示数据未通过账本核验，暂停公示。（{error}）")
    if pub.refused is not None:
        return error_page(request, 503, "公示数据正在核查中，暂停公示。")
    if township is not None and township not in pub.townships:
        return error_page(request, 404, "没有这个乡镇（街道）的公示。")
    if village is not None and village not in pub.villages.get(str(township), []):
        return error_page(request, 404, "没有这个村（社区）的公示。")
    try:
        chosen = _chosen_period(pub, period)
    except DomainError:
        return error_page(request, 400, "发放年月应为 YYYY-MM，例如 2025-03。")
    context = {"township": township, "village": village, "period": chosen,
               "digest_text": digest_text, "periods": list(reversed(pub.periods)),
               "period_zh": period_zh(chosen) if chosen else "", "sections": [],
               "summary": [], "places": [], "lines": [], "public_url": public_url,
               "period_label": period_zh}
    if chosen is not None:
        context.update(_area_context(pub, chosen, township, village))
    template = "public_village.html" if village is not None else "public_area.html"
    return render(request, template, context)


def _area_context(pub: Published, period: str, township: str | None,
                  village: str | None) -> dict[str, Any]:
    months = months_of(pub, period)
    sections = [program_section(pub, p, months, township, village, n)
                for n, p in enumerate(programs_in(pub, months, township, village), start=1)]
    rows = _in_scope(pub.rows.get(period, pd.DataFrame(columns=["township", "village"])),
                     township, village)
    summary = pub.summaries.get(period)
    cells = []
    if summary is not None and village is None:
        scoped = summary if township is None else summary[summary["township"] == township]
        cells = [{"township": r["township"], "program_zh": PROGRAMS.get(r["program"],
                                                                       r["program"]),
                  "cell": township_cell(pub, period, r["township"], r["program"])}
                 for r in scoped.to_dict("records")]
    places = ([(t, None) for t in pub.townships] if township is None
              else [(township, v) for v in pub.villages.get(township, [])])
    lines = [{"number": i, "name_masked": r["name_masked"],
              "program_zh": PROGRAMS.get(r["program"], r["program"]),
              "household_size": r["household_size"], "amount": r["amount"]}
             for i, r in enumerate(rows.to_dict("records"), start=1)] if village else []
    return {"sections": sections, "summary": cells, "places": places, "lines": lines,
            "charts": [s["chart"] for s in sections]}


@router.get("/", response_class=HTMLResponse)
def county_page(request: Request, state: State, period: str | None = None) -> HTMLResponse:
    """The county: per program and month, per township for the period, links below."""
    return area_page(request, state, None, None, period)


@router.get("/townships/{township}", response_class=HTMLResponse)
def township_page(township: str, request: Request, state: State,
                  period: str | None = None) -> HTMLResponse:
    return area_page(request, state, township, None, period)


@router.get("/townships/{township}/villages/{village}", response_class=HTMLResponse)
def village_page(township: str, village: str, request: Request, state: State,
                 period: str | None = None) -> HTMLResponse:
    """The village list of the period, as on the notice board, and its months."""
    return area_page(request, state, township, village, period)
