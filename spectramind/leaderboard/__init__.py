"""spectramind.leaderboard."""
