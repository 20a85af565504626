"""The sft stage: fine-tune the base model on the selected set (groups ``model``, ``sft``, ``distributed``).

Owns training (:mod:`~s1x.sft.train`), distributed launch commands
(:mod:`~s1x.sft.distributed`, :mod:`~s1x.sft.launch`, the per-process
:mod:`~s1x.sft.worker`) and the stage wiring (:mod:`~s1x.sft.stage`).
May import the shared core (the s1 format lives in :mod:`s1x.formatting`) and
the tiny world's batching helper; never selection, evaluate or analysis.
"""
