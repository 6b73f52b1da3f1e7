"""spectramind.models."""
