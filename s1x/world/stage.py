"""The pretrain stage: the tiny world's base model (``model=tiny``), built once and cached.

Its probe checkpoints (``model.pretrain.checkpoints``) serve as the difficulty
probes of the tiny pool (``base@<step>``); the probes key on the base entry's
content digest, so selection builds (or finds) the base model first.

On a cache miss the stage installs the entry shipped in the package
(:mod:`s1x.world.shipped_assets`) when it is the entry for this key, and pretrains
otherwise (~2 min on 2 cores). ``model.pretrain.from_scratch=true`` always
pretrains, under a key of its own: that model, and everything built on it,
comes from this machine's pretraining and never mixes with the shipped one.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import OmegaConf

from s1x.cache import StageRunner, stable_hash
from s1x.world.tasks import WORLD_VERSION

PRETRAIN_VERSION = 3  # 2: keeps probe checkpoints; 3: half the corpus as chat turns

log = logging.getLogger("s1x")


def tiny_tokenizer():
    """The tiny world's tokenizer and its identity for cache keys."""
    from s1x.world.tokenizer import build_tokenizer, vocabulary

    return build_tokenizer(), stable_hash({"tiny_vocab": vocabulary()})


def pretrain_spec(cfg) -> dict:
    """What determines the tiny base model: architecture, pretraining recipe, world version.

    ``from_scratch`` enters the spec only when true, so the default key is the one
    entries had before the flag existed (and the one the shipped entry carries)."""
    pretrain = OmegaConf.to_container(cfg.model.pretrain, resolve=True)
    from_scratch = pretrain.pop("from_scratch", False)
    spec = {"arch": OmegaConf.to_container(cfg.model.arch, resolve=True), "pretrain": pretrain, "world": WORLD_VERSION}
    return {**spec, "from_scratch": True} if from_scratch else spec


def pretrain_key(cfg, runner: StageRunner, tok_id: str) -> str:
    """The tiny base model's cache key, computable without building it."""
    return runner.cache.key("pretrain", PRETRAIN_VERSION, pretrain_spec(cfg), {"tokenizer": tok_id})


def pretraining_corpus(pretrain_cfg, tokenizer) -> tuple[list, str]:
    """The generated pretraining problems and the sha256 of their texts as the model reads them."""
    from s1x.world.shipped_assets import corpus_sha256
    from s1x.world.pretrain import pretrain_text
    from s1x.world.tasks import generate

    p = pretrain_cfg
    corpus = generate(p.problems, p.seed, choice_share=p.choice_share, split="train")
    return corpus, corpus_sha256([pretrain_text(q, tokenizer) for q in corpus])


def pretrain_into(cfg, tokenizer, corpus: list, out: Path) -> dict:
    """Pretrain the tiny base model of ``cfg`` on ``corpus`` into ``out`` (model, probe
    checkpoints, tokenizer, log); return the training stats."""
    from s1x.world.pretrain import pretrain

    p = cfg.model.pretrain
    stats = pretrain(corpus, tokenizer, out, OmegaConf.to_container(cfg.model.arch, resolve=True), p.steps,
                     p.batch_size, p.lr, p.warmup_steps, p.seed, tuple(p.checkpoints))
    tokenizer.save_pretrained(str(out / "tokenizer"))
    return stats


def pretrained_base(cfg, runner: StageRunner, tokenizer, tok_id: str) -> tuple[str, str]:
    """Path and content digest of the tiny base model: cached, else installed from the package, else pretrained."""
    from s1x.world.shipped_assets import install_shipped

    spec = pretrain_spec(cfg)
    key = pretrain_key(cfg, runner, tok_id)

    def build(tmp: Path) -> dict:
        corpus, corpus_hash = pretraining_corpus(cfg.model.pretrain, tokenizer)
        if spec.get("from_scratch"):
            log.info("[pretrain] pretraining the tiny base model here (model.pretrain.from_scratch=true)")
        else:
            shipped = install_shipped(key, corpus_hash, tmp)
            if shipped.meta is not None:
                log.info("[pretrain] installed the tiny base model shipped in the package (sha256 verified; "
                         "model.pretrain.from_scratch=true pretrains it here instead)")
                return {"source": "package", **shipped.meta}
            log.log(logging.WARNING if shipped.damaged else logging.INFO,
                    "[pretrain] pretraining the tiny base model (~2 min on 2 cores): %s", shipped.why)
        return {"source": "pretrained", "corpus_sha256": corpus_hash, **pretrain_into(cfg, tokenizer, corpus, tmp)}

    entry = runner.stage("pretrain", key, build, {"config": spec})
    return str(entry.path), entry.digest
