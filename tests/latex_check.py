"""LaTeX that compiles: every character one pdflatex knows, and where pdflatex is installed, a clean run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

LATEX_PREAMBLE = (  # what the fragments need (booktabs where installed; its rules as \\hline where not)
    "\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath}\n"
    "\\IfFileExists{booktabs.sty}{\\usepackage{booktabs}}{\\newcommand{\\toprule}{\\hline}"
    "\\newcommand{\\midrule}{\\hline}\\newcommand{\\bottomrule}{\\hline}}\n\\begin{document}\n"
)


def latex_compiles(tex: str, folder: Path, name: str = "all") -> None:
    """Every character is one pdflatex knows (ASCII, or a Latin letter inputenc maps), and where pdflatex is
    installed the document compiles."""
    unknown = sorted({c for c in tex if ord(c) > 127 and not (ord(c) < 0x180 and c.isalpha())})
    assert not unknown, unknown  # raw σ, ⊙, ‖, ² stopped pdflatex: "Unicode character not set up for use with LaTeX"
    if shutil.which("pdflatex"):
        (folder / f"{name}.tex").write_text(tex)
        done = subprocess.run(
            ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
            cwd=folder,
            capture_output=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-3000:]
