"""Analysis of run dirs: statistics, test-time metrics, paper tables and figures (``python -m s1x.analysis``).

Reads only run dirs (``results.json`` and the samples it points to) and
lm-evaluation-harness sample logs (:mod:`~s1x.analysis.lm_eval_import`). May
import the shared core and grading; never torch, transformers, engines,
methods, sft or world, so it runs on a laptop without the training stack.

    from s1x.analysis import paired_bootstrap_ci, control, scaling, performance, collect, table2, table3
"""

from s1x.analysis.collect import Collection, Run, collect
from s1x.analysis.metrics import RunPoint, control, performance, scaling
from s1x.analysis.stats import maj_at_k, paired_bootstrap_ci, paired_bootstrap_cis, pass_at_k
from s1x.analysis.tables import Table, table2, table3

__all__ = ["Collection", "Run", "RunPoint", "Table", "collect", "control", "maj_at_k", "paired_bootstrap_ci",
           "paired_bootstrap_cis", "pass_at_k", "performance", "scaling", "table2", "table3"]
