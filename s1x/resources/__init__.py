"""Data files that config options point at (``${s1x.resource:NAME}``): the smol setting's pool and benchmark."""
