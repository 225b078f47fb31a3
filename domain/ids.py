"""Resident ID numbers (GB 11643-1999): check character, birth date, 15-to-18 conversion.

An invalid number is evidence (finding E07), never a reason to reject a file, so nothing
here raises on bad input: callers ask ``is_valid`` or ``problem``.
"""

from __future__ import annotations

import datetime as dt

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
BIRTH_YEAR_MIN = 1890


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def to18(number: str) -> str:
    """Upper-case, and widen a 15-digit legacy number; anything else comes back as given."""
    number = number.strip().upper()
    if len(number) == 15 and number.isdigit():
        first17 = number[:6] + "19" + number[6:]
        return first17 + check_char(first17)
    return number


def birth_date(number: str) -> dt.date | None:
    number = to18(number)
    try:
        return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def problem(number: str, today: dt.date | None = None) -> str | None:
    """Why the number is not a valid resident ID, or None when it is."""
    number = to18(number)
    if not number:
        return "empty ID number"
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return f"malformed ID number (length {len(number)})"
    born = birth_date(number)
    if born is None:
        return f"impossible birth date {number[6:14]}"
    if born.year < BIRTH_YEAR_MIN or (today is not None and born > today):
        return f"impossible birth date {number[6:14]}"
    if check_char(number[:17]) != number[17]:
        return f"check character {number[17]} should be {check_char(number[:17])}"
    return None


def is_valid(number: str, today: dt.date | None = None) -> bool:
    return problem(number, today) is None
