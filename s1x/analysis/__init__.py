"""Analysis of run dirs: statistics, test-time metrics, paper tables and figures (``python -m s1x.analysis``).

Reads only run dirs (``results.json``, the samples it points to, the Hydra
record) and lm-evaluation-harness sample logs (:mod:`~s1x.analysis.lm_eval_import`).
``inputs`` checks what is read (malformed input: :class:`AnalysisInputError`,
one line naming the file and the field); ``cells`` gives every results row one
identity and aggregates the seeds of a cell; ``tables``/``figures`` draw from
those cells. May import the shared core and grading; never torch,
transformers, engines, methods, sft or world, so it runs on a laptop without
the training stack.

    from s1x.analysis import paired_bootstrap_ci, control, scaling, performance, collect, table2, table3
"""

from s1x.analysis.cells import Cell, RowKey, SeriesKey, group_cells
from s1x.analysis.collect import Collection, Run, collect
from s1x.analysis.inputs import AnalysisInputError
from s1x.analysis.metrics import RunPoint, auto_compute_unit, control, performance, scaling, scaling_with_reason
from s1x.evaluate.votes import maj_at_k
from s1x.analysis.stats import paired_bootstrap_ci, paired_bootstrap_cis, pass_at_k
from s1x.analysis.tables import Table, table2, table3

__all__ = ["AnalysisInputError", "Cell", "Collection", "RowKey", "Run", "RunPoint", "SeriesKey", "Table",
           "auto_compute_unit", "collect", "control", "group_cells", "maj_at_k", "paired_bootstrap_ci",
           "paired_bootstrap_cis", "pass_at_k", "performance", "scaling", "scaling_with_reason", "table2", "table3"]
