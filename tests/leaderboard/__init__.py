"""Tests of spectramind.leaderboard (a package, so its conftest never shadows another test folder's)."""
