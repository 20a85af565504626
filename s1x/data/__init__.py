"""Datasets the stages read: rows of a dataset by hub id or local file (:mod:`~s1x.data.rows`,
with what identifies the data in cache keys) and benchmarks as questions
(:mod:`~s1x.data.benchmarks`, read by evaluation and by selection's decontamination). Pools,
which only selection reads, are :mod:`s1x.selection.pools`. May import the shared core, the
stage cache and the tiny world's generator only."""
