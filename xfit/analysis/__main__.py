"""``python -m xfit.analysis``: print the schema tables of docs/inference.md."""
from .schema import schema_markdown

print(schema_markdown(), end="")
