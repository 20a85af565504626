"""The evaluate stage: test-time methods over inference engines on benchmarks
(config groups ``method``, ``benchmark``, ``judge``; the engine is :mod:`s1x.engines`'s).

Owns the method kinds (:mod:`~s1x.evaluate.methods`: one object per kind, looked up by
name), the budget-forcing controllers (:mod:`~s1x.evaluate.controllers`), generation,
every method under the authors' protocol (:mod:`~s1x.evaluate.authors_eval`), sample
records and results rows (:mod:`~s1x.evaluate.sample_records`), majority's votes, the LLM
judge over an engine (:mod:`~s1x.evaluate.judge_engine`), re-grading of cached samples
(:mod:`~s1x.evaluate.regrade`), the config checks (:mod:`~s1x.evaluate.checks`) and the
stage wiring (:mod:`~s1x.evaluate.stage`). May import the shared core, data, models, grading
and engines; never selection, sft or analysis.

Add a test-time method: a :class:`~s1x.evaluate.methods.kinds.MethodKind` in one module
(registered) and a ``conf/method`` option. Add an engine: :mod:`s1x.engines`.
"""
