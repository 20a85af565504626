"""s1x: the s1 pipeline (select -> sft -> evaluate -> analysis) as Hydra-configured experiments.

One package per stage, named after its config groups; the shared core sits at the top:

| package | stage | config groups |
|---|---|---|
| ``s1x.selection`` | select (featurize, probe, funnel, strategy) | ``pool``, ``selection`` |
| ``s1x.sft`` | sft (training, distributed launch) | ``model``, ``sft``, ``distributed`` |
| ``s1x.evaluate`` | evaluate (methods, engines, benchmarks) | ``method``, ``engine``, ``benchmark`` |
| ``s1x.grading`` | graders and the LLM judge | ``benchmark.<name>.grader`` |
| ``s1x.analysis`` | tables, figures, statistics (reads run dirs) | (none) |
| ``s1x.world`` | the embedded tiny world and its pretrain stage | ``model=tiny``, ``setting=tiny`` |

Core: ``run`` (CLI), ``cli_help`` (the groups part of ``--help``), ``pipeline``
(the stages in order), ``config`` (schemas), ``validation``, ``cache``,
``progress`` (bars on a terminal, lines in a log), ``records``, ``rows``,
``formatting`` (the s1 chat format), ``models``, ``tracking``. Import rules (tests/test_import_rules.py):
nothing imports ``s1x.run``; ``s1x.analysis`` never imports torch, transformers,
engines, methods, sft or world; ``s1x.grading`` never imports engines or
methods; engines never import methods or the pipeline.
"""
