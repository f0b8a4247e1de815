"""A graph file: the trained graph of `train -o FILE.yaml` (its large params in .npy files beside it), or a bundled
example as it is (`examples NAME -o FILE.yaml`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import UsageError, shortened
from ..files import check_not_overwriting, check_output, destination
from . import Settings


def train(result, settings: Settings) -> dict[str, bytes]:
    """{path: content}: the graph file with the first run's trained params, its large values in .npy files
    beside it (written first, so the YAML never names a file that is not there yet)."""
    import io

    from ...fileformat.writer import to_files

    graph = result.graph
    out = str(destination("-o", settings.path))
    text, arrays = to_files(graph, {**graph.leaf_values, **result.runs[0].params}, out)
    files = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array), allow_pickle=False)
        files[str(Path(out).parent / name)] = buffer.getvalue()
    return {**files, out: text.encode("utf-8")}


def example(result, settings: Settings) -> str:
    return result


def check_trained(graph, out: str | None, force: bool, output) -> None:
    """Before training: the .npy files -o writes beside the YAML do not replace someone else's files (unless
    force), its plugin modules stay reachable, and none of the run's files is one it reads."""
    from ..files import check_distinct, check_not_inputs, inputs_of

    beside = _beside(graph, out, force) if out is not None else []
    files = [(option, path) for option, path, _ in output.files] + beside
    check_distinct(files)
    check_not_inputs(files, inputs_of(graph))


def _beside(graph, out: str, force: bool) -> list[tuple[str, str]]:
    from ...fileformat.writer import to_files

    out = str(destination("-o", out))  # a link: the file it names, and the .npy files beside that file
    _, arrays = to_files(graph, graph.leaf_values, out, frozenset(graph.params))  # refuses modules left behind
    owned = _named_by(out)  # .npy files an existing -o graph file names are its own: replaced
    beside = []
    for name in arrays:
        path = str(Path(out).parent / name)
        if len(name.encode("utf-8", "surrogateescape")) > 255:  # what file systems allow in one name
            raise UsageError(
                f"-o {shortened(out, 100)}: a leaf's values go to {shortened(name, 60)}, longer than the 255 "
                "bytes of a file name; give -o a shorter name, or the leaf a shorter one"
            )
        if name not in owned:
            check_not_overwriting(f"-o {out}", path, force)
        check_output("-o", path)
        beside.append(("-o", path))
    return beside


def _named_by(out: str) -> set[str]:
    """The data files an existing graph file at out refers to (`w: {file: t.w.npy}`), as it was written by
    an earlier `train -o`: a .npy of that name beside it is provably its own. Nothing for another file."""
    import re

    try:
        with open(out, "rb") as stream:
            text = stream.read(32 * 2**20).decode("utf-8", "replace")
    except OSError:
        return set()
    return {m.group(2) for m in re.finditer(r"""\bfile: (['"]?)([^'"\s,}]+)\1""", text)}
