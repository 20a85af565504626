"""The errors s1x reports as one line, exit 2, no traceback (``s1x.run`` catches them).

A leaf: every layer raises these, so this module imports nothing of s1x.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A config value that s1x refuses before starting any stage."""


class InputError(ConfigError):
    """An input (a file, a row of it, a model path) that s1x refuses, named with the fix."""


def require(ok: bool, key: str, value, allowed: str) -> None:
    """Raise :class:`ConfigError` ``key=value is invalid: allowed`` unless ``ok``.

    Every config check words its refusal this way, so the message names the key, the
    bad value and what to give instead."""
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid: {allowed}")
