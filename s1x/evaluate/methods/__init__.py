"""Test-time methods: budget forcing in one pass (logits processor), in s1x's exact-budget rounds
(any engine), the authors' loop token for token (``authors``, ``authors_rs``), and the plan of
cells (results rows) of every method. May import the shared core and the engine
request types; never the pipeline or grading."""
