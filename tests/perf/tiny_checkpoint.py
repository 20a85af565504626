"""The tiny world's fine-tuned checkpoint for the engine benchmarks.

``--checkpoint PATH`` uses that model; otherwise the default pipeline runs
(``python -m s1x.run stages=[select,sft]`` semantics) and returns the SFT
checkpoint from the stage cache: seconds when cached, about 3 minutes on 2
cores from an empty cache (``S1X_CACHE_DIR`` is honoured).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def checkpoint_from_args(description: str) -> tuple[str, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--checkpoint", help="a fine-tuned tiny checkpoint (default: the default run's, from the cache)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--questions", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions; the best is reported")
    args = parser.parse_args()
    if args.checkpoint:
        return args.checkpoint, args
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import compose_config  # noqa: E402

    from s1x import pipeline

    cfg = compose_config(["stages=[select,sft]"])
    with tempfile.TemporaryDirectory() as run_dir:
        results = pipeline.run(cfg, run_dir)
    return results["model_path"], args


def tiny_engine_setup(description: str):
    """(engine, tokenizer, prompts, forcing tokens, args): the HF engine over the tiny checkpoint and
    ``--questions`` held-out tiny questions as generation prompts, "Wait" as the ignore string."""
    from s1x.engines.hf_generate import HFEngine
    from s1x.formatting import THINK_END, generation_prompt
    from s1x.evaluate.controllers.forcing import ForcingTokens
    from s1x.models import load_tokenizer
    from s1x.world import tasks

    ckpt, args = checkpoint_from_args(description)
    tok = load_tokenizer(ckpt)
    engine = HFEngine(ckpt, tok, batch_size=args.batch_size)
    qs = tasks.generate(args.questions, seed=3, split="test", choice_share=0.3)
    prompts = [tok(generation_prompt(tok, q.question), add_special_tokens=False)["input_ids"] for q in qs]
    return engine, tok, prompts, ForcingTokens.from_tokenizer(tok, THINK_END, "Answer:", "Wait"), args
