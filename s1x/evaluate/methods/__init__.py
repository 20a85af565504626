"""Test-time method kinds: one object per ``method.kind`` (:mod:`~s1x.evaluate.methods.kinds`,
the registry), the budget-forcing kinds (:mod:`~s1x.evaluate.methods.forced`) and the sampled
ones (:mod:`~s1x.evaluate.methods.sampled`); a cell is one results row (:mod:`~s1x.evaluate.methods.cell`)."""
