"""Inference engines behind one request interface (``base.py``): ``hf`` (transformers) and
``vllm``. May import the shared core only; never methods or the pipeline."""
