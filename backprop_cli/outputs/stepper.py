"""The buttons and keys of a page that steps through a list (`render -o page.html`, `render --steps`): first,
previous, next, last; the arrow keys, Home and End. Plain text spliced into each page's template."""

from __future__ import annotations


def nav_html(unit: str, hint: str) -> str:
    """The row of buttons (unit: what one step is called), the counter, and the hint."""
    return f"""<nav>
  <button id="first" title="first {unit} (Home)">|&lt;</button>
  <button id="prev" title="previous {unit} (left arrow)">&lt; prev</button>
  <span id="counter"></span>
  <button id="next" title="next {unit} (right arrow)">next &gt;</button>
  <button id="last" title="last {unit} (End)">&gt;|</button>
  <span class="hint">{hint}</span>
</nav>
"""


def nav_script(last: str) -> str:
    """The buttons' and keys' moves, for a script with `at` and `show(k)` (last: the last index, in JavaScript)."""
    return (
        """document.getElementById("first").onclick = () => show(0);
document.getElementById("prev").onclick = () => show(at - 1);
document.getElementById("next").onclick = () => show(at + 1);
document.getElementById("last").onclick = () => show(LAST);
document.addEventListener("keydown", (e) => {
  const moves = {ArrowLeft: at - 1, ArrowRight: at + 1, Home: 0, End: LAST};
  if (e.key in moves) { show(moves[e.key]); e.preventDefault(); }
});
"""
    ).replace("LAST", last)
