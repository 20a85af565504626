"""The pretrain stage: the tiny world's base model (``model=tiny``), built once and cached.

Its probe checkpoints (``model.pretrain.checkpoints``) serve as the difficulty
probes of the tiny pool (``base@<step>``), so selection asks for the base
model's cache key before (or without) building it.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from s1x.cache import StageRunner, stable_hash
from s1x.world.tasks import WORLD_VERSION

PRETRAIN_VERSION = 3  # 2: keeps probe checkpoints; 3: half the corpus as chat turns


def tiny_tokenizer():
    """The tiny world's tokenizer and its identity for cache keys."""
    from s1x.world.tokenizer import build_tokenizer, vocabulary

    return build_tokenizer(), stable_hash({"tiny_vocab": vocabulary()})


def pretrain_spec(cfg) -> dict:
    """What determines the tiny base model: architecture, pretraining recipe, world version."""
    return {"arch": OmegaConf.to_container(cfg.model.arch, resolve=True),
            "pretrain": OmegaConf.to_container(cfg.model.pretrain, resolve=True), "world": WORLD_VERSION}


def pretrain_key(cfg, runner: StageRunner, tok_id: str) -> str:
    """The tiny base model's cache key, computable without building it (probe identities use it)."""
    return runner.cache.key("pretrain", PRETRAIN_VERSION, pretrain_spec(cfg), {"tokenizer": tok_id})


def pretrained_base(cfg, runner: StageRunner, tokenizer, tok_id: str) -> tuple[str, str]:
    """Path and content digest of the tiny base model, pretrained if not cached."""
    from s1x.world.pretrain import pretrain
    from s1x.world.tasks import generate

    spec = pretrain_spec(cfg)
    m = cfg.model

    def build(tmp: Path) -> dict:
        p = m.pretrain
        corpus = generate(p.problems, p.seed, choice_share=p.choice_share, split="train")
        stats = pretrain(corpus, tokenizer, tmp, spec["arch"], p.steps, p.batch_size, p.lr, p.warmup_steps, p.seed,
                         tuple(p.checkpoints))
        tokenizer.save_pretrained(str(tmp / "tokenizer"))
        return stats

    entry = runner.stage("pretrain", pretrain_key(cfg, runner, tok_id), build, {"config": spec})
    return str(entry.path), entry.digest
