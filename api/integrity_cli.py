"""Command-line faces of tamper evidence: ``verify``, ``digest``, ``receipt``, ``verify-receipt``.

Exit codes: 0 intact / valid, 3 tampered / invalid (``cli.py`` reserves 3 for this);
bad arguments (an unreadable digest, an unknown household) raise ``DomainError``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from projections import audit, integrity

EXIT_OK = 0
EXIT_TAMPERED = 3


def verify(store: Any, against: str | None) -> int:
    """Re-hash the whole log; print what was checked and, if broken, the first bad event."""
    result = audit.verify(store, against)
    for note in result.notes:
        print(note)
    if result.ok:
        print(f"verify: INTACT, {result.position} events and {result.rows} read-model rows "
              "checked")
        print(result.reason)
        if against is None:
            print(f"warning: {integrity.PUBLISH_ADVICE}")
        return EXIT_OK
    print(f"verify: TAMPERED, stopped after {result.position} events")
    print(f"reason: {result.reason}")
    if result.first_bad:
        print(f"first failing {'event' if result.first_bad.startswith('notification') else 'row'}"
              f": {result.first_bad}")
    if against is None:
        print(f"warning: {integrity.PUBLISH_ADVICE}")
    return EXIT_TAMPERED


def digest(store: Any) -> int:
    """Print the digest to publish as the last line (read-only: every write is chained)."""
    published = integrity.digest(store)
    print(f"{published.position} events chained; publish this digest "
          "(verify --against it later):")
    print(published.text)
    return EXIT_OK


def receipt_cli(store: Any, household_id: str, digest: str, out_path: str | Path) -> int:
    """Write the household's inclusion receipt (JSON) for a published digest."""
    document = integrity.receipt(store, household_id, digest)
    path = Path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    handle = integrity.issue_handle(store.db, household_id)
    print(f"receipt for household {household_id}: {len(document['events'])} events included "
          f"in {document['digest']} -> {path}")
    print(f"online, against the latest signed checkpoint: /public/receipt/{handle} "
          "(give the household this address; it names no household id)")
    return EXIT_OK


def verify_receipt_cli(path: str | Path, digest: str) -> int:
    """Check a receipt file against a digest with SHA-256 alone (no store needed)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"receipt INVALID: cannot read {path}: {error}")
        return EXIT_TAMPERED
    problem = (integrity.receipt_problem(document, digest) if isinstance(document, dict)
               else "the receipt is not a JSON object")
    if problem:
        print(f"receipt INVALID: {problem}")
        return EXIT_TAMPERED
    print(f"receipt VALID: {len(document['events'])} events of household "
          f"{document.get('household_id', '?')} are included in {digest.strip()}")
    return EXIT_OK
