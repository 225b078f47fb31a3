"""A made-up county's contract files, with planted irregularities and their ground truth.

Why: ``aidledger demo`` needs a county to show, and every test and benchmark needs data
whose correct findings are known in advance. ``generate_county`` writes the contract input
files (docs/formats.md) of one county, the way a county office would hand them over
(Chinese headers, a GBK bank file, spreadsheets, a little mess), plants at least one true
case of every finding code and at least one legitimate look-alike of each, and returns the
truth: the exact (code, subject_id) pairs a correct reconcile reports at ``as_of``, per the
rule book ``docs/rules/``.

Everything random comes from one ``random.Random(seed)``: the same seed gives the same
bytes. The generator uses only csv and openpyxl so the demo stays light.

One module per part of the county (each builds its records on ``model.County``):
``households`` (households, enrolments), ``payroll`` (payroll and bank lines), ``funds``
(allocations, budgets, standards; B01), ``reference`` (officials, deaths, holdings),
``planted`` (the E and P cases), ``reserve`` (R codes, D01), ``assets`` (A codes),
``writer`` (the files and their mess), ``generate`` (the order it is all built in) and
``bulk`` (one large clean month for the benchmarks).
"""

from api.sample_county.bulk import write_bulk_month
from api.sample_county.generate import generate_county
from api.sample_county.model import CountyTruth, Planted, id_number

__all__ = ["CountyTruth", "Planted", "generate_county", "id_number", "write_bulk_month"]
