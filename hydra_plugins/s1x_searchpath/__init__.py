"""Hydra plugin: puts the repository's ``launchers/`` on Hydra's config search path."""
