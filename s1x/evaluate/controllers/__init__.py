"""The budget-forcing controllers: how a thinking budget is enforced over an engine.

``budget_forcing`` (``method.controller=one_pass``: a logits processor inside one HF
``generate``, KV cache kept; also the forcing tokens and sample accounting every controller
shares), ``rounds`` (s1x's exact-budget rounds over any engine's request interface) and
``authors`` + ``authors_rs`` (the authors' lm-eval loop and rejection sampling, token for
token). Method kinds (:mod:`s1x.evaluate.methods`) drive them; they know no method kind.
"""
