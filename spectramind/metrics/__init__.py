"""spectramind.metrics."""
