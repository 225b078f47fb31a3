"""Every limit a county file is read under, named once (docs/hardening.md, "Limits").

A file past a limit is refused with a message naming the limit, before it costs more than
the stated memory and time: the zip directory of a workbook is checked before any XML is
read, every row while streaming, and the whole parse runs in a child process whose address
space and CPU time are capped (``api.files.isolate``).
"""

from __future__ import annotations

MIB = 1 << 20

# -- any file
MAX_FILE_BYTES: int = 1 << 30  # 1 GiB: beyond that a county file is a mistake, not data
MAX_ROWS: int = 5_000_000
MAX_ERRORS_LISTED: int = 200
MAX_COLUMNS: int = 16_384  # Excel's own column limit
MAX_CELL_CHARS: int = 32_767  # Excel's own cell limit; a longer cell is not county data
HEADER_SEARCH_ROWS_MAX = 10  # title rows ('2025年3月低保发放花名册') may sit above the header

# -- CSV
MAX_ROW_BYTES: int = 4 * MIB  # one record (a county row is a few hundred bytes)
ENCODING_GUESS_BYTES_MAX: int = 4 * MIB  # what an unknown encoding is guessed from
DELIMITER_SNIFF_CHARS = 8192

# -- XLSX: checked on the zip directory before any XML is parsed
MAX_ZIP_ENTRIES: int = 1_000  # a workbook of one sheet holds about a dozen parts
MAX_XLSX_UNPACKED_BYTES: int = 400 * MIB  # every part together
MAX_SHEET_UNPACKED_BYTES: int = 200 * MIB  # one worksheet's XML (≈ 1M rows of 10 cells)
MAX_SHARED_STRINGS_BYTES: int = 64 * MIB  # the workbook's table of texts
# Unpacked / packed size of one part. Sheet XML packs 5-20 fold; a bomb packs 500-1000 fold.
MAX_COMPRESSION_RATIO: int = 100
RATIO_CHECKED_FROM_BYTES: int = 1 * MIB  # tiny parts have odd ratios and cost nothing
# A shared-string cell takes at least this many bytes of sheet XML (<c t="s"><v>1</v></c>):
# a table holding more texts than the sheets could ever use is a bomb, not a workbook.
SHARED_STRING_CELL_BYTES_MIN: int = 20
# Bytes of cell text between two tags (XML text of MAX_CELL_CHARS characters at 4 bytes
# each, and escapes): a longer run is one enormous cell, refused while streaming.
MAX_CELL_XML_BYTES: int = 8 * MAX_CELL_CHARS

# -- the child process that parses (api.files.isolate)
PARSE_MEMORY_BYTES_MAX: int = 512 * MIB  # address space above the parent's, per file
PARSE_CPU_SECONDS_BASE: int = 30  # CPU seconds any file may take ...
PARSE_CPU_SECONDS_PER_MIB: int = 2  # ... plus this per MiB of a CSV file (it takes ~0.05)
# ... or of a workbook: openpyxl reads 2-3 MB of sheet XML a CPU second, twice (once to
# size the sheet), and a sheet packs up to 10-fold (a 100,000-line payroll of 4.7 MiB: 29 s)
PARSE_CPU_SECONDS_PER_MIB_XLSX: int = 15
