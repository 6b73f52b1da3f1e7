"""spectramind.tracking."""
