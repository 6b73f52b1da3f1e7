"""The light-curve simulator: the planet population, the physics of a planet and its transits, and
the staged writer of the light-curve layout."""
