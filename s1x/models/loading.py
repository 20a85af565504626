"""Loading models and tokenizers by hub id or local path.

s1x checkpoints keep the tokenizer in its own ``tokenizer/`` folder: a
tokenizer folder that also holds a Qwen2 ``config.json`` makes
``AutoTokenizer`` silently build a Qwen2 tokenizer with Qwen's splitting rules
(TINY_WORLD.md pitfall), which would corrupt the tiny world's word-level one.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

from s1x.cache import HashMemo, content_identity, stable_hash
from s1x.cache.store import entry_digest
from s1x.errors import InputError

TOKENIZER_SUBDIR = "tokenizer"


def _hub(load, name_or_path: str, what: str):
    """``load()``, with a hub miss (offline, unreachable, a wrong or gated id) said in one line."""
    try:
        return load()
    except OSError as e:
        if Path(name_or_path).exists():
            raise
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
        why = ("HF_HUB_OFFLINE is set and the local Hugging Face cache does not have it" if offline
               else f"the hub did not give it ({str(e).splitlines()[0][:160]})")
        raise InputError(f"{what} {name_or_path!r}: {why}; check the id, run `huggingface-cli login` for a gated "
                         "model, download it on a connected machine, or give a local path") from None


def load_tokenizer(name_or_path: str):
    """The tokenizer of an s1x checkpoint (its ``tokenizer/`` folder) or of a hub id / HF folder."""
    sub = Path(name_or_path) / TOKENIZER_SUBDIR
    if sub.is_dir():
        return PreTrainedTokenizerFast.from_pretrained(str(sub), padding_side="left")
    return _hub(lambda: AutoTokenizer.from_pretrained(name_or_path, padding_side="left"), name_or_path, "tokenizer")


def load_model(name_or_path: str, dtype: str = "auto"):
    """A causal LM by hub id or local path; ``dtype`` is a torch dtype name or ``auto``."""
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    return _hub(lambda: AutoModelForCausalLM.from_pretrained(name_or_path, dtype=torch_dtype), name_or_path, "model")


def model_identity(name_or_path: str, memo: HashMemo | None = None) -> str:
    """A cache identity for a model: the hash of its files' bytes when it is a local path (a
    retrained or edited checkpoint is another model; a copied one is the same), its hub id
    otherwise. A directory with the stage cache's ``manifest.json`` is named by its entry digest."""
    p = Path(name_or_path)
    if p.is_dir() and (digest := entry_digest(p, memo)) is not None:
        return digest  # a stage-cache entry (an sft checkpoint) or a copy of one: the pipeline's own name for it
    if p.exists():
        return stable_hash({"content": content_identity(p, memo)})
    return stable_hash({"hub_id": name_or_path})
