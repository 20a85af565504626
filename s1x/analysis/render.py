"""A table of strings rendered as Markdown, LaTeX and CSV, each escaped for its format.

Cells hold anything a label can hold (``|A|``, ``gpqa_diamond``, ``50%``, a
model path), so every renderer escapes what its format treats as syntax: pipes
in Markdown (a header ``|A|`` must stay one cell), the ten LaTeX specials, and
CSV quoting (the ``csv`` module).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
          "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "|": r"\textbar{}"}


def markdown_cell(text: str) -> str:
    """One Markdown table cell: pipes escaped (a bare one starts a new cell), line breaks as spaces."""
    return " ".join(str(text).split("\n")).replace("\\", "\\\\").replace("|", "\\|")


def latex_text(text: str) -> str:
    """Text with every LaTeX special escaped; the set size ``|A|`` is set in math as the paper does."""
    parts = str(text).split("|A|")
    return "$|A|$".join("".join(_LATEX.get(ch, ch) for ch in part) for part in parts)


@dataclass
class Table:
    """A table of strings with a title; renders to Markdown, LaTeX and CSV."""

    title: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str]

    def markdown(self) -> str:
        lines = [f"**{markdown_cell(self.title)}**", "", "| " + " | ".join(map(markdown_cell, self.header)) + " |",
                 "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(map(markdown_cell, r)) + " |" for r in self.rows]
        return "\n".join(lines + [""] + [f"- {markdown_cell(n)}" for n in self.notes]) + "\n"

    def latex(self) -> str:
        lines = [r"\begin{table}[t]", r"\centering", r"\begin{tabular}{l" + "c" * (len(self.header) - 1) + "}",
                 r"\toprule", " & ".join(map(latex_text, self.header)) + r" \\", r"\midrule"]
        lines += [" & ".join(map(latex_text, r)) + r" \\" for r in self.rows]
        lines += [r"\bottomrule", r"\end{tabular}", rf"\caption{{{latex_text(self.title)}}}", r"\end{table}"]
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(self.header)
        w.writerows(self.rows)
        return buf.getvalue()

    def write(self, out_dir: Path, stem: str) -> list[Path]:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for ext, text in (("md", self.markdown()), ("tex", self.latex()), ("csv", self.csv())):
            p = out_dir / f"{stem}.{ext}"
            p.write_text(text)
            paths.append(p)
        return paths
