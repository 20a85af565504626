"""Old name of the seed report: ``python -m s1x.selection_report`` runs ``python -m s1x.selection.report``."""

import sys

from s1x.selection.report import main

if __name__ == "__main__":
    print("s1x: s1x.selection_report is now s1x.selection.report (python -m s1x.selection.report)", file=sys.stderr)
    sys.exit(main())
