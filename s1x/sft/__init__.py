"""The sft stage: fine-tune the base model on the selected set (groups ``sft``, ``distributed``).

Owns training (:mod:`~s1x.sft.train`), distributed launch commands
(:mod:`~s1x.sft.distributed`, :mod:`~s1x.sft.launch`, the per-process
:mod:`~s1x.sft.worker`), the config checks (:mod:`~s1x.sft.checks`) and the stage wiring
(:mod:`~s1x.sft.stage`). May import the shared core (the s1 format lives in
:mod:`s1x.formatting`, padding in :mod:`s1x.batching`) and models; never selection,
evaluate, analysis or the tiny world.
"""
