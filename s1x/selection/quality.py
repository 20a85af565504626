"""Quality flags of pool problems (PAPER.md 1.2).

Each flag is a named reason to drop a problem; a problem passes the quality
filter when no flag is set. The patterns follow the paper's list: API errors
or missing traces, ASCII art (``[asy]``) unless the source is AIME (AIME
problems often carry an Asymptote figure whose text still states the problem),
references to images that are not there, ``p1.``-style numbering left over
from scraped problem sets, and bold-number patterns from scraped markdown.
"""

from __future__ import annotations

import re

_ASY = re.compile(r"\[asy\]", re.IGNORECASE)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[image\]|\[img\]|<img\b", re.IGNORECASE)
_P_NUMBERING = re.compile(r"(?:^|\n)\s*p\d+\.\s", re.IGNORECASE)  # "p1. " opening a line
_BOLD_NUMBER = re.compile(r"\*\*\s*\(?\d+[.)]?\s*\*\*")
_GENERATION_ERROR = re.compile(r"^\s*(?:error|exception|rate limit|internal server error)\b", re.IGNORECASE)

FLAGS = ("missing_trace", "generation_error", "asy", "image", "numbering", "bold_number")


def quality_flags(question: str, trace: str, attempt: str, source: str) -> dict[str, bool]:
    """Every flag of :data:`FLAGS` for one problem (True = drop it)."""
    return {
        "missing_trace": not trace.strip(),
        "generation_error": bool(_GENERATION_ERROR.match(trace) or _GENERATION_ERROR.match(attempt or "")),
        "asy": bool(_ASY.search(question)) and "aime" not in source.lower(),
        "image": bool(_IMAGE.search(question)),
        "numbering": bool(_P_NUMBERING.search(question)),
        "bold_number": bool(_BOLD_NUMBER.search(question)),
    }
