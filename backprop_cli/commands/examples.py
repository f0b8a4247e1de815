"""`backprop examples`: the bundled example graphs."""

from __future__ import annotations

import click

from .options import reports_errors

SCHEMA = "backprop.examples"


@click.command()
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON object (schema backprop.examples, version 1): name, file, about."
)
@reports_errors
def examples(as_json: bool) -> None:
    """List the bundled example graphs, one line each."""
    from ..errors import printable
    from ..examples import bundled
    from ..fileformat import load

    items = []
    for path in bundled():
        about = load(path).about
        items.append({"name": path.stem, "file": str(path), "about": about})
    if as_json:
        from ..outputs.json_document import VERSION
        from ..outputs.json_output import emit_json as write

        write({"schema": SCHEMA, "version": VERSION, "examples": items})
        return
    width = max((len(i["name"]) for i in items), default=0)
    for item in items:
        click.echo(f"{item['name']:<{width}}  {printable(item['about'])}")


command = examples
