"""The command reference, generated from the commands: per command, its usage line and a table of every option
(names, value, default, help), written between the markers of docs/commands/<command>.md. The prose around the
markers is written by hand and kept.

    python tools/docs_reference.py           # rewrite the tables of every command
    python tools/docs_reference.py --check   # exit 1, naming the commands whose tables differ (what the tests run)

It reads whatever options click reports, so a new option (or a shared decorator's) needs only a rerun. The CLI never
imports this file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "docs" / "commands"
BEGIN = "<!-- options:begin: generated from the commands by `python tools/docs_reference.py`; edit the help texts -->"
END = "<!-- options:end -->"
HEADER = ("option", "value", "default", "what it does")
REGENERATE = "python tools/docs_reference.py"


def commands() -> dict[str, click.Command]:
    """Every command of `backprop`, by name, in the order --help lists them."""
    from backprop_cli.cli import main

    ctx = _context(main, "backprop")
    return {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}


def _context(command: click.Command, name: str) -> click.Context:
    """The context the command runs in under `backprop` (the group's settings: -h as well as --help)."""
    from backprop_cli.cli import main

    if command is main:
        return click.Context(main, info_name=name, **main.context_settings)
    return click.Context(command, info_name=name, parent=_context(main, "backprop"))


def page(name: str) -> Path:
    return PAGES / f"{name}.md"


# ------------------------------------------------------------------ the generated region
def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _names(param: click.Parameter) -> str:
    names = ", ".join(f"`{n}`" for n in param.opts)
    return names + "".join(f" / `{n}`" for n in param.secondary_opts)


def _value(param: click.Parameter, ctx: click.Context) -> str:
    if getattr(param, "is_flag", False) and not getattr(param, "count", False):
        return "flag"
    kind = param.type
    if isinstance(kind, click.Choice):
        text = " | ".join(f"`{choice}`" for choice in kind.choices)
    else:
        text = param.metavar or (kind.name.upper() if kind.name else "VALUE")  # as --help writes it
        if isinstance(kind, click.IntRange | click.FloatRange):
            text = f"{text.replace(' RANGE', '')} {_bounds(kind)}".strip()
    if param.multiple:
        text += ", repeatable"
    return _cell(text)


def _bounds(kind: click.IntRange | click.FloatRange) -> str:
    """x ≥ 0, 0 < x ≤ 1; a bound past 2**53 (an int64's end) is no bound to a reader."""
    low = None if kind.min is None else (kind.min, "<" if kind.min_open else "≤")
    high = None if kind.max is None or abs(kind.max) > 2**53 else (kind.max, "<" if kind.max_open else "≤")
    if low and high:
        return f"{low[0]} {low[1]} x {high[1]} {high[0]}"
    if low:
        return f"x {'>' if low[1] == '<' else '≥'} {low[0]}"
    return f"x {high[1]} {high[0]}" if high else ""


def _default(param: click.Parameter, ctx: click.Context) -> str:
    default = param.get_default(ctx, call=False)
    if callable(default):
        return "(computed)"
    if getattr(param, "is_flag", False):
        if getattr(param, "secondary_opts", None) and default is not None:  # --legend/--no-legend
            return f"`{param.opts[0] if default else param.secondary_opts[0]}`"
        return ""  # off unless given
    if default is None or default == () or default == "" or type(default).__name__ == "Sentinel":
        return ""
    return f"`{default}`"


def _help(param: click.Parameter) -> str:
    return _cell(getattr(param, "help", None) or "")


def rows(name: str, command: click.Command) -> list[tuple[str, str, str, str]]:
    """One row per visible option, in --help's order, --help included (the arguments are in the usage line)."""
    ctx = _context(command, name)
    return [
        (_names(p), _value(p, ctx), _default(p, ctx), _help(p))
        for p in command.get_params(ctx)
        if isinstance(p, click.Option) and not p.hidden
    ]


def usage(name: str, command: click.Command) -> str:
    ctx = _context(command, name)
    return " ".join(["backprop", name, *command.collect_usage_pieces(ctx)])


def region(name: str, command: click.Command) -> str:
    """The text between (and with) the markers."""
    about = (command.help or "").split("\n\n", 1)[0]
    lines = [BEGIN, "", "```text", usage(name, command), "```", "", _cell(about), ""]
    lines.append("| " + " | ".join(HEADER) + " |")
    lines.append("|" + "---|" * len(HEADER))
    lines += ["| " + " | ".join(row) + " |" for row in rows(name, command)]
    return "\n".join([*lines, "", END])


# ------------------------------------------------------------------ pages
_REGION = re.compile(re.escape(BEGIN.split(":", 1)[0]) + r".*?" + re.escape(END), re.S)


def current(text: str) -> str | None:
    found = _REGION.search(text)
    return found.group(0) if found else None


def updated(name: str, command: click.Command, text: str | None) -> str:
    """The page with its region regenerated; a page without one gets it after its title; a missing page a title."""
    new = region(name, command)
    if text is None:
        return f"# `backprop {name}`\n\n{new}\n"
    if current(text) is not None:
        return _REGION.sub(lambda _: new, text, count=1)
    title, _, rest = text.partition("\n")
    return f"{title}\n\n{new}\n{rest}"


def documented(text: str) -> dict[str, tuple[str, ...]]:
    """The rows of a page's generated table, by their first cell."""
    table = {}
    for line in (current(text) or "").splitlines():
        cells = tuple(c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1])
        if len(cells) == len(HEADER) and cells != HEADER and not set(cells[0]) <= {"-"}:
            table[cells[0]] = cells
    return table


def differences(name: str, command: click.Command) -> list[str]:
    """What the page of one command says that the command does not do (empty when they agree)."""
    path = page(name)
    if not path.exists():
        return [f"{path.relative_to(ROOT)} is missing"]
    text = path.read_text()
    if current(text) is None:
        return [f"{path.relative_to(ROOT)} has no generated options table"]
    if current(text) == region(name, command):
        return []
    shown, actual = documented(text), {row[0]: row for row in rows(name, command)}
    found = (
        [f"not documented: {', '.join(k for k in actual if k not in shown)}"] if actual.keys() - shown.keys() else []
    )
    if shown.keys() - actual.keys():
        found.append(f"documented but no longer an option: {', '.join(k for k in shown if k not in actual)}")
    for key in actual.keys() & shown.keys():
        for column, was, now in zip(HEADER[1:], shown[key][1:], actual[key][1:], strict=True):
            if was != now:
                found.append(f"{key}: {column} is {now or '(none)'} (the page says {was or '(none)'})")
    return found or ["the usage line or the table's layout changed"]


def check() -> list[str]:
    """One line per command whose page disagrees with it, saying how to regenerate."""
    return [
        f"backprop {name}: {'; '.join(found)}. Regenerate docs/commands/{name}.md with `{REGENERATE}`"
        for name, command in commands().items()
        if (found := differences(name, command))
    ]


def write() -> list[Path]:
    """Regenerate every command's table; the pages that changed."""
    changed = []
    for name, command in commands().items():
        path = page(name)
        before = path.read_text() if path.exists() else None
        after = updated(name, command, before)
        if after != before:
            path.write_text(after)
            changed.append(path)
    return changed


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:] == ["--check"]:
        problems = check()
        print("\n".join(problems) or "the command reference matches the commands")
        sys.exit(1 if problems else 0)
    if sys.argv[1:]:
        sys.exit(f"usage: {REGENERATE} [--check]")
    for path in write():
        print(f"wrote {path.relative_to(ROOT)}")
