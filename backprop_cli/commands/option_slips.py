"""Slips on the command line, for every command: an option given twice, both sides of a pair, an empty
value, an option that another choice makes pointless. click would keep the last value, or ignore it."""

from __future__ import annotations

import click


def check_given_once(command: click.Command, args: list[str]) -> None:
    """Before click reads the options (it keeps the last of two): an option that takes one value given twice
    (`--steps 5 --steps 10`), both sides of a pair (`--pretty --compact`), or an empty value (`--compare ""`)
    is a usage error naming the option. Repeatable options (--at, --wrt) check their own values."""
    options = {name: p for p in command.params if isinstance(p, click.Option) for name in p.opts + p.secondary_opts}
    seen: dict[str, tuple[str, str | None]] = {}
    at = 0
    while at < len(args):
        token = args[at]
        at += 1
        if token == "--":
            return
        if token.startswith("--"):
            name, attached, value = token.partition("=")
        else:  # -o FILE, or -oFILE
            name, attached, value = token[:2], "", token[2:]
        option = options.get(name) if token.startswith("-") else None
        if option is None or (option.is_flag and value):  # not ours to check (an argument, -qv)
            continue
        given: str | None = value if attached or value else None
        if not option.is_flag and given is None and at < len(args):
            optional = getattr(option, "_flag_needs_value", False)  # --collapse alone: all groups
            if not (optional and args[at].startswith("-") and len(args[at]) > 1):
                given, at = args[at], at + 1
        if not option.is_flag and given is not None and not given.strip():
            raise click.UsageError(f"{name} {given!r}: the value is empty; give one, or leave {name} out")
        if option.multiple or option.count:
            continue
        if option.name in seen:
            first, before = seen[option.name]
            if option.is_flag and (first in option.secondary_opts) != (name in option.secondary_opts):
                raise click.UsageError(f"{first} and {name} contradict each other: give one of them")
            if not option.is_flag and before != given:
                raise click.UsageError(f"{name} is given twice ({before!r}, {given!r}): give it once")
        seen[option.name] = (name, given)


def refuse_unused(pairs: dict[str, str]) -> None:
    """Options given on the command line that another choice makes pointless: {param: why} -> usage error."""
    given = click.get_current_context().get_parameter_source
    for name, why in pairs.items():
        if given(name) is click.core.ParameterSource.COMMANDLINE:
            from ..errors import UsageError

            raise UsageError(f"--{name.replace('_', '-')} {why}")
