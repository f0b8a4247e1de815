"""`backprop examples`: the bundled example graphs."""

from __future__ import annotations

import json

import click

from .options import reports_errors


@click.command()
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {name, file, about}.")
@reports_errors
def examples(as_json: bool) -> None:
    """List the bundled example graphs, one line each."""
    from ..examples import bundled
    from ..fileformat import load

    items = []
    for path in bundled():
        about = load(path).about
        items.append({"name": path.stem, "file": str(path), "about": about})
    if as_json:
        click.echo(json.dumps(items, indent=2))
        return
    width = max((len(i["name"]) for i in items), default=0)
    for item in items:
        click.echo(f"{item['name']:<{width}}  {item['about']}")


command = examples
