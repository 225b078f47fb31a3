"""A made-up county's contract files, with planted irregularities and their ground truth."""

from api.sample_county.model import CountyTruth, Planted, generate_county, id_number, write_bulk_month

__all__ = ["CountyTruth", "Planted", "generate_county", "id_number", "write_bulk_month"]
