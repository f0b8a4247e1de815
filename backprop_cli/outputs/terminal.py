"""What reaches a terminal: graph-file text verbatim (never read as markup or escape codes), tables that
fit the window (a block per row when they cannot), and ASCII for a stdout that cannot take Unicode."""

from __future__ import annotations

import codecs
import sys
from collections.abc import Sequence

from ..errors import printable

# ------------------------------------------------------------ ASCII for a stdout that cannot encode Unicode
ASCII = {
    "‖": "|", "·": "*", "→": "->", "←": "<-", "⇒": "=>", "≤": "<=", "≥": ">=", "≠": "!=", "≈": "~", "∂": "d",
    "⊙": "(*)", "ᵀ": "^T", "²": "^2", "³": "^3", "½": "1/2", "−": "-", "—": "-", "–": "-", "…": "...", "×": "x",
    "∈": " in ", "√": "sqrt", "Σ": "sum", "σ": "sigma", "α": "alpha", "β": "beta", "ε": "eps", "ρ": "rho",
    "θ": "theta", "∇": "grad", "✓": "ok", "✗": "X", "ṫ": "t'", "⌊": "floor(", "⌋": ")", "▁": "_", "█": "#",
    "\u00a0": " ",
}  # fmt: skip


def _ascii_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    text = err.object[err.start : err.end]
    return "".join(ASCII.get(c, f"\\u{ord(c):04x}") for c in text), err.end


class _Encoder(codecs.IncrementalEncoder):
    def encode(self, text: str, final: bool = False) -> bytes:
        return codecs.ascii_encode(text, "backprop-ascii")[0]


class _Decoder(codecs.IncrementalDecoder):
    def decode(self, data: bytes, final: bool = False) -> str:
        return codecs.ascii_decode(data, "replace")[0]


def _codec(name: str) -> codecs.CodecInfo | None:
    """ASCII with the fallbacks, under its own name: click would take a stream named "ascii" for a
    misconfigured one and write UTF-8 to it anyway."""
    if name != "backprop_ascii":
        return None
    return codecs.CodecInfo(
        name="backprop-ascii",
        encode=lambda text, errors="strict": (_Encoder().encode(text), len(text)),
        decode=lambda data, errors="strict": (_Decoder().decode(bytes(data)), len(data)),
        incrementalencoder=_Encoder,
        incrementaldecoder=_Decoder,
    )


def use_ascii_fallback() -> None:
    """stdout and stderr that cannot encode Unicode (PYTHONIOENCODING=ascii, LANG=C): symbols are written
    the ASCII way (‖·‖ as |*|, → as ->), any other character as its \\u escape, instead of failing."""
    codecs.register_error("backprop-ascii", _ascii_fallback)
    codecs.register(_codec)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(encoding="backprop_ascii", errors="strict")  # type: ignore[union-attr]
        except (AttributeError, ValueError, LookupError):
            pass


# ------------------------------------------------------------ rich text and tables
def stdout_is_terminal() -> bool:
    """Whether stdout is a terminal, as rich would decide (TTY_COMPATIBLE=1 or 0 overrides), without rich."""
    import os

    override = os.environ.get("TTY_COMPATIBLE", "")
    if override in ("0", "1"):
        return override == "1"
    return sys.stdout.isatty()


def terminal_width() -> int | None:
    """The terminal's columns when stdout is one (COLUMNS overrides), else None: piped output is never fitted."""
    import shutil

    return shutil.get_terminal_size().columns if stdout_is_terminal() else None


def cell(text: object, style: str | None = None):  # -> rich.text.Text
    """Text shown as written: `1[a > 0]` stays `1[a > 0]` (rich would read [a > 0] as markup)."""
    from rich.text import Text

    return Text("\n".join(printable(line) for line in str(text).split("\n")), style=style or "")


def console():  # -> rich.console.Console
    """A console on stdout. Piped or redirected output is never cut: its width is set per table. A closed
    pipe is an error as from any other write (rich would exit 1 on its own): the CLI ends it as cat does."""
    import errno

    from rich.console import Console

    class Piped(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    return Piped(highlight=False)


def _column_ranges(con, table) -> list[tuple[int, int]]:
    """Per column: the longest word (no narrower without breaking one) and the longest line."""
    from rich.measure import Measurement

    wide = con.options.update(width=10**6)
    ranges = []
    for column in table.columns:
        sizes = [Measurement.get(con, wide, c) for c in (column.header, *column.cells)]
        ranges.append((max(m.minimum for m in sizes), max(m.maximum for m in sizes)))
    return ranges


def fit_columns(con, table, width: int) -> bool:
    """Set the columns' widths so the table fits `width` without breaking a word or a number: every column
    at least its longest word, the room left shared by how much more each could use. False if it cannot."""
    from rich.measure import Measurement

    ranges = _column_ranges(con, table)
    natural = Measurement.get(con, con.options.update(width=10**6), table).maximum
    overhead = natural - sum(high for _, high in ranges)
    room = width - overhead - sum(low for low, _ in ranges)
    if room < 0:
        return False
    if natural <= width:
        return True
    wants = [high - low for low, high in ranges]
    total = sum(wants) or 1
    shares = [room * want // total for want in wants]
    for column, (low, _), share in zip(table.columns, ranges, shares, strict=True):
        column.width = low + share
    return True


def print_table(
    con, table, blocks: Sequence[tuple[str, Sequence[tuple[str, str]]]] | None = None, narrower: Sequence = ()
) -> None:
    """The table if it fits the terminal, else the first of the `narrower` tables (the same cells stacked
    into fewer columns) that does; else one block per row (`blocks`: a heading and label-value pairs per
    row). Piped output gets plain columns (no box, no padding), never cut."""
    from rich.text import Text

    if not con.is_terminal:
        con.print(Text(plain_table(table)), soft_wrap=True)
        return
    for candidate in (table, *narrower):
        if fit_columns(con, candidate, con.width):
            con.print(candidate)
            return
    if blocks is None:
        con.print(table)
    else:
        print_blocks(con, table.title, blocks)


def plain_table(table) -> str:
    """A rich table as plain text for pipes and files: the title, a header line, dashes, one line per row with
    columns two spaces apart (a cell's lines joined with "; "), the caption; no trailing spaces, nothing cut."""

    def plain(text: object) -> str:
        return "; ".join(getattr(text, "plain", str(text)).split("\n"))

    header = [plain(column.header) for column in table.columns]
    rows = [[plain(c) for c in column.cells] for column in table.columns]
    rows = [list(row) for row in zip(*rows, strict=True)] if rows else []
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    right = [column.justify == "right" for column in table.columns]

    def line(items: list[str]) -> str:
        return "  ".join(t.rjust(w) if r else t.ljust(w) for t, w, r in zip(items, widths, right, strict=True)).rstrip()

    lines = [plain(table.title)] if table.title else []
    lines += [line(header), line(["-" * w for w in widths]), *map(line, rows)]
    if table.caption:
        lines.append(plain(table.caption))
    return "\n".join(lines)


def print_blocks(con, title: object, blocks: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> None:
    """One block per row: a heading, then `label  value` lines, values wrapped at spaces under themselves."""
    from rich.table import Table

    if title:
        con.print(title if not isinstance(title, str) else cell(title), soft_wrap=False)
    for heading, pairs in blocks:
        con.print(heading if not isinstance(heading, str) else cell(heading, "bold"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in pairs:
            if value:
                grid.add_row(cell("  " + label), cell(value))
        con.print(grid)
