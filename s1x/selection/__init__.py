"""The select stage: from a candidate pool to the SFT set (config groups ``pool``, ``selection``).

Owns pools (:mod:`~s1x.selection.pools`), precomputed feature columns
(:mod:`~s1x.selection.given`), features and probes
(:mod:`~s1x.selection.featurize`, :mod:`~s1x.selection.msc`), quality rules
(:mod:`~s1x.selection.quality`), dedup and decontamination
(:mod:`~s1x.selection.decontam`), the curation funnel
(:mod:`~s1x.selection.funnel`), strategies (:mod:`~s1x.selection.strategies`),
the config checks (:mod:`~s1x.selection.checks`), the stage wiring
(:mod:`~s1x.selection.stage`) and the seed report (``python -m s1x.selection.report``).

May import the shared core, data (benchmarks for decontamination), models, grading and
engines (probes and the classifier run through :func:`s1x.engines.make_engine`); never sft,
evaluate or analysis. Add a quality flag in ``quality.py``, a filter in ``funnel.py``, a
strategy in ``strategies.py`` (plus a ``conf/selection`` option).
"""
