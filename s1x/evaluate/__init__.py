"""The evaluate stage: test-time methods over inference engines on benchmarks
(config groups ``method``, ``engine``, ``benchmark``).

Owns benchmark loading (:mod:`~s1x.data.benchmarks`), the methods
(:mod:`~s1x.evaluate.methods`: budget forcing, its controllers and the cells
of every method), the engines (:mod:`~s1x.engines`), generation,
every method under the authors' protocol (:mod:`~s1x.evaluate.authors_eval`),
sample records and results rows, the sampled methods, the LLM judge over an
engine (:mod:`~s1x.evaluate.judge_engine`), and the stage wiring (:mod:`~s1x.evaluate.stage`). May import the shared core, grading and the
analysis statistics (maj@k); never selection or sft.

Add a test-time method: its cells in ``methods/plan.py`` (a kind), a driver in
``evaluator.py`` if it is not budget forcing with a prompt statement, and a
``conf/method`` option. Add an engine: a class in ``engines/`` with
``generate_requests`` (``engines/base.py``), and a branch in ``stage.make_engine``.
"""
