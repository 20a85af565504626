"""s1x: the s1 pipeline (select -> sft -> evaluate -> analysis) as Hydra-configured experiments.

One package per concern, in floor order (a package imports itself and lower floors;
``tests/core/test_layout.py``); docs/architecture.md has the map and how to add things:

| package | what | config groups |
|---|---|---|
| ``s1x.cache`` | the verified stage cache | ``cache``, ``paths`` |
| ``s1x.world`` | the embedded tiny world and its pretrain stage | ``model=tiny``, ``setting=tiny`` |
| ``s1x.data`` | dataset rows, benchmarks as questions | ``benchmark.<name>.kind/path`` |
| ``s1x.models`` | loading, where a base model comes from | ``model`` |
| ``s1x.grading`` | graders and the LLM judge protocol | ``benchmark.<name>.grader`` |
| ``s1x.engines`` | inference engines and their registry | ``engine`` |
| ``s1x.selection`` | select (featurize, probe, funnel, strategy) | ``pool``, ``selection`` |
| ``s1x.sft`` | sft (training, distributed launch) | ``sft``, ``distributed`` |
| ``s1x.evaluate`` | evaluate (method kinds, controllers, grading of samples) | ``method``, ``benchmark``, ``judge`` |
| ``s1x.analysis`` | tables, figures, statistics (reads run dirs) | (none) |
| ``s1x.config`` | schemas, registration, the checks dispatcher | all |

Leaves at the top: ``errors``, ``records``, ``batching``, ``progress``, ``formatting`` (the s1
chat format), ``tracking``; entries: ``pipeline`` (the stages in order), ``run`` (CLI), ``serve``.
Import rules (tests/core/test_import_rules.py): nothing imports ``s1x.run``; ``s1x.analysis`` never
imports torch, transformers, engines, methods, sft or world; ``s1x.grading`` never imports
engines or evaluation; engines never import evaluation or the pipeline.
"""
