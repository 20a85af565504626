"""Models: loading by hub id or path (:mod:`~s1x.models.loading`), where a base model comes
from (:mod:`~s1x.models.source`: a local dir, a hub id, or a GGUF converted once into the stage
cache; ``python -m s1x.models.source OPTION``) and the ``model`` group's checks
(:mod:`~s1x.models.checks`). May import the shared core and the stage cache only.

``load_tokenizer``, ``load_model``, ``model_identity`` and ``TOKENIZER_SUBDIR`` are importable
from here; they load torch and transformers on first use, so the config checks stay light.
"""

from __future__ import annotations

_LOADING = ("TOKENIZER_SUBDIR", "load_model", "load_tokenizer", "model_identity")


def __getattr__(name: str):
    if name in _LOADING:
        from s1x.models import loading

        return getattr(loading, name)
    raise AttributeError(f"module 's1x.models' has no attribute {name!r}")


__all__ = list(_LOADING)
