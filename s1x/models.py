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

from s1x.cache import stable_hash

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


def model_identity(name_or_path: str) -> str:
    """A cache identity for a model given by path (its files' names, sizes, mtimes) or hub id."""
    p = Path(name_or_path)
    if p.exists():
        files = sorted((str(f.relative_to(p)), f.stat().st_size, int(f.stat().st_mtime))
                       for f in p.rglob("*") if f.is_file())
        return stable_hash({"path": str(p.resolve()), "files": files})
    return stable_hash({"hub_id": name_or_path})
