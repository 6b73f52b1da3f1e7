"""spectramind.data."""
