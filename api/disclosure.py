"""``aidledger disclose``: the public disclosure of a period (docs/formats.md).

What the public sees is what the bank confirmed it paid: payroll lines of the period with
a successful bank-return line, at the bank's amount (``domain.money_facts``). Privacy
decides the rest: names are masked, households marked ``disclosure_exempt`` (minors,
patients whose illness is private, ...) are left out, small township/program cells are
withheld, and nothing in the output directory carries an ID number, a bank account or a
household id.

Files in DIR:
- ``disclosure.csv`` and ``summary.csv``: for machines, UTF-8 without BOM;
- ``index.html``: the county page (per township and program, same withholding);
- ``notice_<n>.html``: one printable notice-board page per village, numbered rather than
  named, because a village name in a file name can point at a person.

Supervision contacts come from ``DisclosureSettings`` (environment variables
``AIDLEDGER_SUPERVISION_PHONE``, ``AIDLEDGER_SUPERVISION_OFFICE``,
``AIDLEDGER_REPORT_TO``, ``AIDLEDGER_COUNTY_NAME``), with placeholders when unset.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from api.wiring import Store
from domain import money_facts
from domain.catalogue import PROGRAMS
from domain.errors import DomainError
from domain.money import format_fen
from projections import facts
from projections.frames import load_frames
from reconciliation.cells import FORMULA_STARTS, fit_value
from reconciliation.common import Frames

ROW_COLUMNS = ["township", "village", "name_masked", "program", "household_size", "amount",
               "period"]
SUMMARY_COLUMNS = ["township", "program", "households", "amount"]
# A township/program cell of fewer households than this shows neither count nor amount.
SMALL_CELL_HOUSEHOLDS_MIN = 10
SMALL_CELL_TEXT = f"<{SMALL_CELL_HOUSEHOLDS_MIN}"
MASK = "*"
PERIOD_RE = re.compile(r"(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])")
NOTICE_NAME_RE = re.compile(r"notice_\d+\.html")
# Spreadsheet programs run a cell starting with one of these as a formula.
PLAIN_NUMBER_RE = re.compile(r"-?\d+(\.\d+)?")
# Private values shorter than this are not searched for in published text: a household
# id like '12' would match every other village name ('12组') and stop every disclosure.
GUARD_CHARS_MIN = 5
TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class DisclosureSettings:
    """Who the public calls and where they report; placeholders until the county sets them."""

    supervision_phone: str = "12345"
    supervision_office: str = "县民政局"
    report_to: str = "县民政局社会救助股（来信来访）或12345政务服务便民热线"
    county_name: str = ""

    @classmethod
    def from_env(cls) -> DisclosureSettings:
        defaults = cls()
        return cls(
            supervision_phone=os.environ.get("AIDLEDGER_SUPERVISION_PHONE",
                                             defaults.supervision_phone),
            supervision_office=os.environ.get("AIDLEDGER_SUPERVISION_OFFICE",
                                              defaults.supervision_office),
            report_to=os.environ.get("AIDLEDGER_REPORT_TO", defaults.report_to),
            county_name=os.environ.get("AIDLEDGER_COUNTY_NAME", defaults.county_name))


# -- the tables (pure) ------------------------------------------------------------------
def mask_name(name: str) -> str:
    """'张' -> '*', '张三' -> '张*', '张三明' -> '张*明', '欧阳三明' -> '欧**明'."""
    name = name.strip()
    if len(name) <= 1:
        return MASK if name else ""
    if len(name) == 2:
        return name[0] + MASK
    return name[0] + MASK * (len(name) - 2) + name[-1]


def check_period(period: str) -> tuple[int, int]:
    """(year, month) of a 'YYYY-MM' period; anything else is the caller's mistake."""
    match = PERIOD_RE.fullmatch(period)
    if match is None:
        raise DomainError(f"not a period YYYY-MM: {period!r}")
    return int(match["year"]), int(match["month"])


def paid_in_period(frames: Frames, period: str) -> pd.DataFrame:
    """Per household and program: what the bank paid for the period's payroll lines
    (``domain.money_facts``), with the household record joined (``_merge`` says whether
    it exists)."""
    payroll = frames.payroll
    payroll = payroll.loc[payroll["period"] == period,
                          ["batch_id", "line_no", "household_id", "program", "period",
                           "amount_fen"]]
    bank = frames.bank_return[["batch_id", "line_no", "status", "amount_fen", "value_date"]]
    paid = money_facts.paid_in_period(money_facts.payments(payroll, bank), period)
    paid = paid.groupby(["household_id", "program"], as_index=False)["paid_fen"].sum()
    paid = paid.rename(columns={"paid_fen": "amount_fen"})
    households = frames.households[["household_id", "township", "village", "head_name",
                                    "members", "disclosure_exempt"]]
    return paid.merge(households, on="household_id", how="left", indicator=True)


def disclosure_tables(frames: Frames, period: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, summary) exactly as the CSVs carry them: text cells, money as '1234.50'."""
    check_period(period)
    paid = paid_in_period(frames, period)
    public = paid[(paid["_merge"] == "both") & ~paid["disclosure_exempt"].fillna(False)
                  .astype(bool)].copy()
    public["name_masked"] = [mask_name(str(n)) for n in public["head_name"]]
    public = public.sort_values(["township", "village", "program", "name_masked",
                                 "household_id"], kind="stable")
    return _rows_table(public, period), _summary_table(public)


def _rows_table(public: pd.DataFrame, period: str) -> pd.DataFrame:
    return pd.DataFrame({
        "township": public["township"].astype(str).tolist(),
        "village": public["village"].astype(str).tolist(),
        "name_masked": public["name_masked"].tolist(),
        "program": public["program"].astype(str).tolist(),
        "household_size": [int(m) for m in public["members"]],
        "amount": [format_fen(int(f)) for f in public["amount_fen"]],
        "period": [period] * len(public),
    }, columns=ROW_COLUMNS)


def _summary_table(public: pd.DataFrame) -> pd.DataFrame:
    """Per township and program; small cells withheld and, deliberately, no totals: a
    total next to one withheld cell would give that cell away by subtraction."""
    cells = public.groupby(["township", "program"], as_index=False).agg(
        households=("household_id", "nunique"), amount_fen=("amount_fen", "sum"))
    small = cells["households"] < SMALL_CELL_HOUSEHOLDS_MIN
    return pd.DataFrame({
        "township": cells["township"].astype(str).tolist(),
        "program": cells["program"].astype(str).tolist(),
        "households": [SMALL_CELL_TEXT if s else str(int(h))
                       for s, h in zip(small, cells["households"], strict=True)],
        "amount": ["" if s else format_fen(int(f))
                   for s, f in zip(small, cells["amount_fen"], strict=True)],
    }, columns=SUMMARY_COLUMNS)


def left_out_counts(frames: Frames, period: str) -> dict[str, int]:
    """How many paid household/program pairs the rows leave out, and why (for the operator,
    never for DIR): exempt households, and households missing from the register, whose
    exemption cannot be known."""
    paid = paid_in_period(frames, period)
    registered = paid["_merge"] == "both"
    exempt = registered & paid["disclosure_exempt"].fillna(False).astype(bool)
    return {"exempt": int(exempt.sum()), "unregistered": int((~registered).sum())}


def private_values(frames: Frames) -> set[str]:
    """Every ID number, bank account and household id of the input: none may be published."""
    sources = {
        "households": ("household_id", "head_id_number", "bank_account"),
        "enrolments": ("household_id",),
        "payroll": ("household_id", "payee_id_number", "bank_account"),
        "bank_return": ("bank_account",),
        "reserve": ("household_id",),
        "deaths": ("id_number",),
        "officials": ("official_id_number", "relative_id_number"),
        "holdings": ("id_number",),
    }
    values: set[str] = set()
    for kind, names in sources.items():
        frame = getattr(frames, kind)
        for name in names:
            values.update(str(v).strip() for v in frame[name] if str(v).strip())
    return values


# -- the pages ------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    file_name: str
    text: str


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                       autoescape=select_autoescape(["html"]), keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True)


def _period_zh(period: str) -> str:
    year, month = check_period(period)
    return f"{year}年{month}月"


def _program_zh(code: str) -> str:
    return PROGRAMS.get(code, code)


def render_pages(rows: pd.DataFrame, summary: pd.DataFrame, period: str,
                 settings: DisclosureSettings, digest_text: str | None) -> list[Page]:
    """index.html and one notice per village (numbered in township, village order)."""
    env = _environment()
    common = {"period_zh": _period_zh(period), "period": period, "settings": settings,
              "digest_text": digest_text, "small_cell_min": SMALL_CELL_HOUSEHOLDS_MIN}
    villages = list(rows.groupby(["township", "village"], sort=True))
    notices = []
    for number, ((township, village), lines) in enumerate(villages, start=1):
        notices.append(Page(f"notice_{number}.html", env.get_template(
            "disclosure_notice.html").render(
                township=township, village=village, lines=_notice_lines(lines), **common)))
    links = [{"file_name": page.file_name, "township": t, "village": v}
             for page, ((t, v), _) in zip(notices, villages, strict=True)]
    index = env.get_template("disclosure_index.html").render(
        cells=_summary_cells(summary), links=links, small_cell_text=SMALL_CELL_TEXT,
        **common)
    return [Page("index.html", index), *notices]


def _notice_lines(lines: pd.DataFrame) -> list[dict[str, object]]:
    return [{"number": i, "name_masked": r["name_masked"],
             "program_zh": _program_zh(r["program"]), "household_size": r["household_size"],
             "amount": r["amount"]}
            for i, r in enumerate(lines.to_dict("records"), start=1)]


def _summary_cells(summary: pd.DataFrame) -> list[dict[str, object]]:
    return [{"township": r["township"], "program_zh": _program_zh(r["program"]),
             "households": r["households"], "amount": r["amount"],
             "withheld": r["households"] == SMALL_CELL_TEXT}
            for r in summary.to_dict("records")]


# -- files ----------------------------------------------------------------------------
def neutralise(cell: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) \
            and not PLAIN_NUMBER_RE.fullmatch(cell):
        return "'" + cell
    return cell


def csv_text(frame: pd.DataFrame) -> str:
    """UTF-8 text without BOM (for machines), '\\n' line ends, formulas neutralised, no
    cell longer than a spreadsheet cell holds."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(frame.columns)
    for record in frame.itertuples(index=False, name=None):
        writer.writerow([fit_value(neutralise(cell)) for cell in record])
    return buffer.getvalue()


def published_free_text(rows: pd.DataFrame, pages: list[Page],
                        settings: DisclosureSettings, digest_text: str | None) -> list[str]:
    """The published text that comes from input or settings as written: file names,
    townships, villages, contacts, digest. Masked names keep at most two characters of a
    name, and amounts, counts and periods are numbers we format ourselves."""
    places = pd.concat([rows["township"], rows["village"]]).drop_duplicates().tolist()
    contacts = [settings.supervision_phone, settings.supervision_office,
                settings.report_to, settings.county_name, digest_text or ""]
    return [*(p.file_name for p in pages), *places, *contacts]


def check_nothing_private(texts: list[str], private: set[str]) -> None:
    """Refuse to publish when a private value appears in published free text: e.g. a
    shifted input column that put account numbers where village names belong."""
    private = {value for value in private if len(value) >= GUARD_CHARS_MIN}
    longest = max((len(value) for value in private), default=0)
    # Every substring of the (short) published texts, looked up in the set: fast for a
    # county's hundreds of thousands of private values.
    pieces = {text[start:start + size] for text in texts
              for size in range(GUARD_CHARS_MIN, min(len(text), longest) + 1)
              for start in range(len(text) - size + 1)}
    leaked = len(private & pieces)
    if leaked:
        raise DomainError(f"disclosure refused: {leaked} ID numbers, bank accounts or "
                          "household ids of the input would appear in the published files; "
                          "check the township and village columns of the households file")


def _write(out: Path, pages: list[Page]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():  # notices of an earlier run, perhaps of more villages
        if NOTICE_NAME_RE.fullmatch(stale.name):
            stale.unlink()
    for page in pages:
        (out / page.file_name).write_text(page.text, encoding="utf-8", newline="")


def disclose_store(store: Store, period: str, out: Path, digest_text: str | None = None,
                   settings: DisclosureSettings | None = None) -> list[str]:
    """Write the period's disclosure files into ``out``; return the lines to print."""
    check_period(period)
    facts.catch_up(store.ledger, store.db)
    return write_disclosure(load_frames(store.db), period, out, digest_text, settings)


def write_disclosure(frames: Frames, period: str, out: Path, digest_text: str | None = None,
                     settings: DisclosureSettings | None = None) -> list[str]:
    """Every file of DIR from frames, after checking nothing private would be published."""
    rows, summary = disclosure_tables(frames, period)
    settings = settings if settings is not None else DisclosureSettings.from_env()
    pages = [Page("disclosure.csv", csv_text(rows)), Page("summary.csv", csv_text(summary)),
             *render_pages(rows, summary, period, settings, digest_text)]
    check_nothing_private(published_free_text(rows, pages, settings, digest_text),
                          private_values(frames))
    _write(out, pages)
    return _report_lines(rows, summary, period, out, left_out_counts(frames, period))


def _report_lines(rows: pd.DataFrame, summary: pd.DataFrame, period: str, out: Path,
                  left_out: dict[str, int]) -> list[str]:
    if rows.empty:
        lines = [f"disclosure {period}: no payments confirmed by the bank in this period; "
                 f"disclosure.csv and summary.csv have headers only -> {out}"]
    else:
        withheld = int((summary["households"] == SMALL_CELL_TEXT).sum())
        villages = rows[["township", "village"]].drop_duplicates().shape[0]
        lines = [f"disclosure {period}: {len(rows)} rows -> {out / 'disclosure.csv'}",
                 f"summary: {len(summary)} township/program cells, {withheld} withheld "
                 f"(fewer than {SMALL_CELL_HOUSEHOLDS_MIN} households) -> "
                 f"{out / 'summary.csv'}",
                 f"county page -> {out / 'index.html'}; {villages} village notices "
                 f"notice_1.html .. notice_{villages}.html"]
    if left_out["exempt"]:
        lines.append(f"left out: {left_out['exempt']} payments to households marked "
                     "disclosure_exempt")
    if left_out["unregistered"]:
        lines.append(f"left out: {left_out['unregistered']} payments to households not in "
                     "the households register (their exemption cannot be checked)")
    return lines
