"""Test-time methods: budget forcing in one pass (logits processor) and in rounds (any engine),
and the plan of cells (results rows) of every method. May import the shared core and the engine
request types; never the pipeline or grading."""
