"""Names that identify: of users, townships and villages.

A name is a key: two names that look the same must be the same text, or one person can
hold two accounts that nobody can tell apart (``clerk1`` and ``clerk1`` + U+200C approving
each other's requests). So a name is NFC-normalised (composed characters, as people type
them; NFC, not NFKC, because NFKC would rewrite legitimate text such as full-width forms
that a county's own files carry) and refused when it holds a character that shows
nothing or reorders what is shown: format characters (Cf: zero-width joiners, bidi
controls, soft hyphen, BOM, tags), controls (Cc), line and paragraph separators (Zl, Zp),
surrogates (Cs), unassigned code points (Cn), private use (Co), spaces other than the
plain space, and the invisible letters and marks listed in ``INVISIBLE``.

The file parser uses the same function for townships and villages, so a name typed into
the API and the same name read from a file are one key.
"""

from __future__ import annotations

import unicodedata

from domain.errors import DomainError

REFUSED_CATEGORIES = frozenset({"Cf", "Cc", "Zl", "Zp", "Cs", "Cn", "Co"})
PLAIN_SPACE = " "
# Characters outside the refused categories that still show nothing: Hangul fillers,
# the braille blank, the combining grapheme joiner, variation selectors, Mongolian
# free variation selectors. (Most zero-width and bidi characters are Cf already:
# U+200B–U+200F, U+202A–U+202E, U+2060–U+2064, U+2066–U+2069, U+FEFF, U+00AD.)
INVISIBLE = frozenset(
    [chr(c) for c in (0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800, 0x034F, 0x180B, 0x180C,
                      0x180D, 0x180F)]
    + [chr(c) for c in range(0xFE00, 0xFE10)]
    + [chr(c) for c in range(0xE0100, 0xE01F0)])
PLACE_CHARS_MAX = 100  # a township or village name
SHOWN_MAX = 3  # offending characters named in a message


def hidden_characters(text: str) -> list[str]:
    """The characters of ``text`` a name may not hold, in order of appearance."""
    return [c for c in text if c in INVISIBLE
            or unicodedata.category(c) in REFUSED_CATEGORIES
            or (unicodedata.category(c) == "Zs" and c != PLAIN_SPACE)]


def describe(char: str) -> str:
    """'U+200C ZERO WIDTH NON-JOINER' (the code point alone when it has no name)."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def clean_name(text: str, what: str, chars_max: int) -> str:
    """The name as the ledger keys it: NFC, stripped, not empty, at most ``chars_max``
    characters, nothing hidden. ``DomainError`` naming ``what`` and the character if not."""
    name = unicodedata.normalize("NFC", text).strip()
    if not name:
        raise DomainError(f"{what} is empty")
    if len(name) > chars_max:
        raise DomainError(f"{what} is longer than {chars_max} characters")
    hidden = hidden_characters(name)
    if hidden:
        marked = "".join(f"<U+{ord(c):04X}>" if c in hidden else c for c in name)
        shown = ", ".join(describe(c) for c in dict.fromkeys(hidden[:SHOWN_MAX]))
        raise DomainError(f"{what} '{marked}' holds characters that show nothing or reorder "
                          f"text ({shown}); type the name again without them")
    return name


def name_key(text: str) -> str:
    """NFC and stripped, for looking a name up (no checks: a lookup refuses nothing)."""
    return unicodedata.normalize("NFC", text).strip()


def look_alike_key(name: str) -> str:
    """What a reader sees, roughly: compatibility forms folded (full-width ``ｃ`` is
    ``c``), case folded. Two users whose names share this key look like one person."""
    return unicodedata.normalize("NFKC", name).casefold()
