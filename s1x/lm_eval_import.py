"""Old name of the lm-eval importer: ``python -m s1x.lm_eval_import`` runs ``python -m s1x.analysis.lm_eval_import``."""

import sys

from s1x.analysis.lm_eval_import import main

if __name__ == "__main__":
    print("s1x: s1x.lm_eval_import is now s1x.analysis.lm_eval_import (python -m s1x.analysis.lm_eval_import)",
          file=sys.stderr)
    sys.exit(main())
