"""spectramind's configs (``pkg://spectramind.conf``). Loading them registers the resolvers they use."""

from spectramind.mixed_precision import register_resolver

register_resolver()
