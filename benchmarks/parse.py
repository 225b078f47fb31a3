"""Parse speed and peak memory of every file kind: the column-wise parser beside the row
parser it replaced (``tests/reference_parser.py``), in the same run, on the same files.

    python -m benchmarks.parse                      # 20,000-household county + 1M payroll
    python -m benchmarks.parse --households 2000 --bulk 100000   # a quick look

Each parse runs in a fresh Python process, so each peak is that parse's alone: the peak
resident set of the process tree (the largest of the process's own VmHWM and of the child
the new parser forks, as ``/usr/bin/time -v`` reports), and the baseline (the process
after its imports, before the parse). The data are generated once into ``--data`` and reused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARSERS = ("old", "new")
ONE_PARSE = """
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
from api import files
from tests import reference_parser
def rss():
    with open('/proc/self/statm') as handle:
        return int(handle.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
path, parser = sys.argv[1], sys.argv[2]
kind = files.kind_of(path)
baseline = rss()
start = time.perf_counter()
if parser == 'new':
    parsed = files.parse_file(path)
    rows, errors = parsed.table.num_rows, len(parsed.errors)
else:
    parsed = reference_parser.parse_file(path, kind)
    rows, errors = len(parsed.rows), len(parsed.errors)
seconds = time.perf_counter() - start
with open('/proc/self/status') as handle:  # VmHWM: ru_maxrss keeps the parent's
    own = [int(line.split()[1]) for line in handle if line.startswith('VmHWM')][0]
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) * 1024
print(json.dumps(dict(kind=kind, rows=rows, errors=errors, seconds=seconds,
                      baseline=baseline, peak=peak)))
"""


def measure(path: Path, parser: str) -> dict:
    done = subprocess.run([sys.executable, "-c", ONE_PARSE.format(root=str(ROOT)), str(path),
                           parser], capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def generate(call: str) -> None:
    """Data are made in another process: this one stays small, and a parse's process,
    started from it, does not inherit a large peak (Linux keeps ru_maxrss across exec)."""
    subprocess.run([sys.executable, "-c", f"from api.sample_county import *; {call}"], check=True,
                   cwd=ROOT)


def county_files(data: Path, households: int) -> list[Path]:
    from api.files import discover

    folder = data / f"county_{households}"
    if not folder.exists():
        generate(f"generate_county({str(folder)!r}, households={households})")
    return discover(folder)


def bulk_payroll(data: Path, lines: int) -> Path:
    folder = data / f"bulk_{lines}"
    if not folder.exists():
        generate(f"write_bulk_month({str(folder)!r}, households={lines}, period='2025-03')")
    return folder / "payroll_2025-03.csv"


def report(paths: list[Path]) -> list[dict]:
    out = []
    for path in paths:
        line = {"file": path.name, "bytes": path.stat().st_size}
        for parser in PARSERS:
            measured = measure(path, parser)
            line[parser] = measured
        assert line["old"]["rows"] == line["new"]["rows"], line  # the same rows, both ways
        out.append(line)
        print(_row(line), flush=True)
    return out


def _row(line: dict) -> str:
    cells = [f"{line['file']:<26}", f"{line['new']['rows']:>9,}"]
    for parser in PARSERS:
        m = line[parser]
        rate = m["rows"] / m["seconds"] if m["seconds"] else 0.0
        cells.append(f"{m['seconds']:7.2f} s {rate:>11,.0f} rows/s "
                     f"peak {m['peak'] / 2**20:5.0f} MiB (base {m['baseline'] / 2**20:.0f})")
    old, new = line["old"]["seconds"], line["new"]["seconds"]
    cells.append(f"{old / new:5.1f}x" if new else "")
    return " | ".join(cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--bulk", type=int, default=1_000_000, help="payroll lines")
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "aidledger_parse_bench")
    args = parser.parse_args(argv)
    args.data.mkdir(parents=True, exist_ok=True)
    print(f"{'file':<26} | {'rows':>9} | old (row parser) | new (column-wise) | speed-up")
    paths = county_files(args.data, args.households) + [bulk_payroll(args.data, args.bulk)]
    lines = report(paths)
    totals = {p: sum(line[p]["seconds"] for line in lines[:-1]) for p in PARSERS}
    rows = sum(line["new"]["rows"] for line in lines[:-1])
    print(f"county of {args.households} households: {rows:,} rows, old "
          f"{totals['old']:.2f} s ({rows / totals['old']:,.0f} rows/s), new "
          f"{totals['new']:.2f} s ({rows / totals['new']:,.0f} rows/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
