"""One process of a distributed SFT run: ``python -m s1x.sft.worker SPEC.json``.

Started by torchrun / accelerate launch (see :mod:`s1x.sft.distributed`), never by
hand; the spec is written by :func:`s1x.sft.launch.launch_sft`.
"""

import sys

from s1x.sft.launch import load_spec_and_train

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m s1x.sft.worker SPEC.json (written by s1x.sft.launch.launch_sft)")
    load_spec_and_train(sys.argv[1])
