"""Loading models and tokenizers by hub id or local path.

s1x checkpoints keep the tokenizer in its own ``tokenizer/`` folder: a
tokenizer folder that also holds a Qwen2 ``config.json`` makes
``AutoTokenizer`` silently build a Qwen2 tokenizer with Qwen's splitting rules
(TINY_WORLD.md pitfall), which would corrupt the tiny world's word-level one.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

from s1x.cache import HashMemo, content_identity, stable_hash

TOKENIZER_SUBDIR = "tokenizer"


def load_tokenizer(name_or_path: str):
    """The tokenizer of an s1x checkpoint (its ``tokenizer/`` folder) or of a hub id / HF folder."""
    sub = Path(name_or_path) / TOKENIZER_SUBDIR
    if sub.is_dir():
        return PreTrainedTokenizerFast.from_pretrained(str(sub), padding_side="left")
    return AutoTokenizer.from_pretrained(name_or_path, padding_side="left")


def load_model(name_or_path: str, dtype: str = "auto"):
    """A causal LM by hub id or local path; ``dtype`` is a torch dtype name or ``auto``."""
    torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
    return AutoModelForCausalLM.from_pretrained(name_or_path, dtype=torch_dtype)


def model_identity(name_or_path: str, memo: HashMemo | None = None) -> str:
    """A cache identity for a model: the hash of its files' bytes when it is a local path (a
    retrained or edited checkpoint is another model; a copied one is the same), its hub id
    otherwise."""
    p = Path(name_or_path)
    if p.exists():
        return stable_hash({"content": content_identity(p, memo)})
    return stable_hash({"hub_id": name_or_path})
