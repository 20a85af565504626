"""Precomputed features in a pool file: used as given; the featurize stage computes the rest.

A pool file may carry feature columns named as the authors' featurization
(``data/featurization.py``) writes them or as s1x names its features:

=================  =========================================  =================
feature            the authors' column                        s1x's column
=================  =========================================  =================
domain             ``domain``                                 ``domain``
trace_tokens       ``gemini_length``                          ``trace_tokens``
attempt_correct    ``isgeminicorrect``                        ``attempt_correct``
probe ``<name>``   the probe's ``column`` (``pool=59k``:      ``probe_<name>``
                   ``isqwen7bcorrect``, ``isqwen32bcorrect``)
=================  =========================================  =================

A feature is *given* when its column is present: its values are used as they
are, nulls included (the missing-value step drops a row with a null required
feature, as the notebook does), and nothing is loaded to compute it (no
tokenizer for lengths, no grader, no probe model, no classifier).
"""

from __future__ import annotations

import math
from typing import Any

FEATURE_COLUMNS = {
    "domain": ("domain",),
    "trace_tokens": ("gemini_length", "trace_tokens"),
    "attempt_correct": ("isgeminicorrect", "attempt_correct"),
}


def probe_feature(name: str) -> str:
    """The given-feature name of a probe's correctness."""
    return f"probe:{name}"


def feature_columns(probes=()) -> dict[str, tuple[str, ...]]:
    """Every feature a pool file can give, with the column names that give it (``probes``:
    the pool's probe configs, or dicts with ``name`` and ``column``)."""
    out = dict(FEATURE_COLUMNS)
    for pr in probes:
        out[probe_feature(pr["name"])] = tuple(c for c in (pr.get("column"), f"probe_{pr['name']}") if c)
    return out


def given_columns(columns, probes=()) -> dict[str, str]:
    """``{feature: column}`` for the features the file's ``columns`` give; a feature given by
    two columns at once (``gemini_length`` and ``trace_tokens``) is refused, naming both."""
    out = {}
    for feature, names in feature_columns(probes).items():
        found = [c for c in names if c in columns]
        if len(found) > 1:
            raise ValueError(f"pool columns {found} both give the feature {feature!r}; drop one of them from the file")
        if found:
            out[feature] = found[0]
    return out


def _is_null(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def given_value(feature: str, value) -> Any:
    """A given column value as the feature's type (int length, bool correctness, str domain), or
    None for a null (None, NaN, empty string)."""
    if _is_null(value):
        return None
    if feature == "trace_tokens":
        return int(value)
    if feature == "domain":
        return str(value)
    if isinstance(value, str):  # a CSV-ish "True"/"False"
        if value.strip().lower() not in ("true", "false"):
            raise ValueError(f"feature {feature!r}: {value!r} is not a boolean")
        return value.strip().lower() == "true"
    return bool(value)
