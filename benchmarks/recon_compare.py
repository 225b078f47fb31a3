"""Reconcile one store with two source trees and diff what they write (issue 18).

    python -m benchmarks.recon_compare --db postgresql://postgres@127.0.0.1:5432/test \\
        --county /tmp/aidledger-county-20000-6 --as-of 2025-07-15 --base /tmp/recon-base
    python -m benchmarks.recon_compare --db sqlite:////tmp/rc/demo.db --demo 300 --base …
    python -m benchmarks.recon_compare --db postgresql://…?schema=kept --as-of 2025-03-31 …

The store is filled first (``--county DIR``: ``aidledger load`` of a folder; ``--demo N``:
a generated N-household county; ``--bulk N``: the bulk month of ``benchmarks.scale``;
none: the store as it is). Then each tree (``--base``, the checkout to compare against,
and this one) reconciles it in a fresh process whose ``PYTHONPATH`` is that tree, as
``aidledger reconcile`` does minus recording the findings in the ledger (the store stays
as it was, so the trees see the same books): ``load_frames``, the adjustments and
signatures, ``runner.run``, the findings and leads CSVs and their evidence files. Every
file written must be byte-identical; the times of ``load_frames`` and ``runner.run`` are
printed per round (``--rounds``, alternating trees) with their medians.

A PostgreSQL URL without ``?schema=`` gets a fresh schema, dropped at the end unless
``--keep``.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
from pathlib import Path
url, out, as_of = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
from api import findings_files
from api.reconcile import _policy
from api.wiring import Store
from projections import frames as frames_module
from projections.approvals import adjustments_frame, with_signatures
from reconciliation import runner
from reconciliation.cells import event_sources
store = Store(url, create=False)
try:
    policy = _policy(store, None)
    start = time.perf_counter()
    frames = frames_module.load_frames(store.db)
    loaded = time.perf_counter() - start
    frames.adjustments = adjustments_frame(store.ledger)
    frames.reserve = with_signatures(store.ledger, frames.reserve)
    start = time.perf_counter()
    findings, leads = runner.run(frames, policy, as_of)
    ran = time.perf_counter() - start
    sources = event_sources(frames, [*findings["evidence"], *leads["evidence"]])
    out.mkdir(parents=True, exist_ok=True)
    findings_files.write_findings_csv(findings, out / "findings.csv", sources)
    findings_files.write_findings_csv(leads, findings_files.leads_path(out / "findings.csv"),
                                      sources)
finally:
    store.close()
print(json.dumps({"load_frames": loaded, "run": ran, "findings": len(findings),
                  "leads": len(leads), "code": frames_module.__file__}))
"""


def fill(url: str, args: argparse.Namespace) -> None:
    from api.wiring import Store
    from projections import facts

    with Store(url) as store:
        if args.county or args.demo:
            from api.loader import load_directory

            folder = args.county
            if args.demo:
                from api.sample_county import generate_county

                folder = Path(tempfile.mkdtemp(prefix="recon_demo_"))
                generate_county(folder, households=args.demo)
            load_directory(store, folder, actor="benchmark")
        elif args.bulk:
            from api.sample_county import write_bulk_month
            from benchmarks import scale

            data = Path(tempfile.gettempdir()) / f"aidledger_month_{args.bulk}"
            if not (data / "households.csv").exists():
                write_bulk_month(data, households=args.bulk, period=scale.PERIOD)
            scale.load(store, data, scale.Report())
        facts.catch_up(store.ledger, store.db)


def reconcile_with(tree: Path, url: str, out: Path, as_of: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", CHILD, url, str(out), as_of], env=env,
                          cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["code"].startswith(str(tree)), (tree, result["code"])
    return result


def same_files(a: Path, b: Path) -> list[str]:
    """What differs between two output folders (an empty list: every file identical)."""
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    return [name for name in names
            if not ((a / name).exists() and (b / name).exists()
                    and filecmp.cmp(a / name, b / name, shallow=False))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--base", type=Path, required=True, help="source tree to compare with")
    parser.add_argument("--as-of", default=None)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--county", type=Path)
    source.add_argument("--demo", type=int, metavar="HOUSEHOLDS")
    source.add_argument("--bulk", type=int, metavar="HOUSEHOLDS")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)

    from benchmarks.scale import AS_OF, drop_schema, fresh_url

    url, schema = fresh_url(args.db)
    as_of = args.as_of or (AS_OF if args.bulk else None)
    if as_of is None and args.demo:
        as_of = "2025-04-15"  # generate_county's default: 3 months of 2025, as of +15 days
    if as_of is None:
        parser.error("--as-of is needed")
    out = args.out or Path(tempfile.mkdtemp(prefix="recon_compare_"))
    trees = {"base": args.base.resolve(), "new": HERE}
    times: dict[str, list[dict]] = {name: [] for name in trees}
    try:
        if args.county or args.demo or args.bulk:
            start = time.perf_counter()
            fill(url, args)
            print(f"filled in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        for round_ in range(args.rounds):
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for name in order:
                result = reconcile_with(trees[name], url, out / f"{name}_{round_}", as_of)
                times[name].append(result)
                print(f"round {round_} {name}: load_frames {result['load_frames']:.2f} s, "
                      f"run {result['run']:.2f} s ({result['findings']} findings, "
                      f"{result['leads']} leads)", flush=True)
    finally:
        if schema and not args.keep:
            drop_schema(url, schema)
    differ = [(r, same_files(out / f"base_{r}", out / f"new_{r}")) for r in range(args.rounds)]
    for name, runs in times.items():
        print(f"median {name}: load_frames "
              f"{statistics.median(r['load_frames'] for r in runs):.2f} s, run "
              f"{statistics.median(r['run'] for r in runs):.2f} s")
    files = sorted(p.name for p in (out / "base_0").iterdir())
    bad = [(r, d) for r, d in differ if d]
    print(f"outputs in {out}: {', '.join(files)}")
    print("byte-identical: " + ("NO " + str(bad) if bad else "yes, every file, every round"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
