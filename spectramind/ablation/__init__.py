"""spectramind.ablation."""
