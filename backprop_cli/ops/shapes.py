"""Shape rules: every gate's output shape is known before any array is allocated."""

from __future__ import annotations

from ..errors import ShapeError

Shape = tuple[int, ...]
MAX_DIMS = 32  # NumPy 1.x's limit (2.x allows 64): more dimensions fail inside NumPy


def fmt(shape: Shape) -> str:
    return "scalar" if shape == () else "(" + "×".join(map(str, shape)) + ")"


def same(x: Shape, **_: object) -> Shape:
    return x


def scalar(*_: Shape, **__: object) -> Shape:
    return ()


def broadcast(*shapes: Shape, broadcast: bool = False, **_: object) -> Shape:
    """NumPy broadcasting, refusing a result that expands every operand, like (n,1) with (n,)."""
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"shapes {' and '.join(fmt(s) for s in shapes)} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    result = tuple(out)
    if not broadcast and result != () and all(s != result and s != () for s in shapes):
        raise ShapeError(
            f"shapes {' and '.join(fmt(s) for s in shapes)} would both be expanded to "
            f"{fmt(result)}, which is usually a bug (a column against a row); "
            "write the op with broadcast=true if you mean it"
        )
    return result


def axes_of(axis: object, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in items:
        if not isinstance(a, int) or isinstance(a, bool) or not -ndim <= a < max(ndim, 1):
            raise ShapeError(f"axis {a} is out of range for a {ndim}-d operand")
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ShapeError(f"axis {axis} names an axis twice")
    return tuple(sorted(set(out)))


def reduction(x: Shape, axis: object = None, keepdims: bool = False, **_: object) -> Shape:
    axes = axes_of(axis, len(x))
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(x))
    return tuple(n for i, n in enumerate(x) if i not in axes)


def along_axis(x: Shape, axis: int = -1, **_: object) -> Shape:
    (normalized,) = axes_of(axis, len(x))
    if x == ():
        raise ShapeError("needs at least a 1-d operand")
    if x[normalized] == 0:
        raise ShapeError(f"axis {axis} of {fmt(x)} is empty: there is nothing to normalize")
    return x


def selection(x: Shape, axis: object = None, keepdims: bool = False, **attrs: object) -> Shape:
    """A reduction that picks an element (max, min): the reduced axes must not be empty."""
    if any(x[a] == 0 for a in axes_of(axis, len(x))):
        raise ShapeError(f"the max or min over an empty axis of {fmt(x)} does not exist")
    return reduction(x, axis, keepdims)


def matmul(a: Shape, b: Shape, **_: object) -> Shape:
    if a == () or b == ():
        raise ShapeError("@ needs operands with at least one dimension; use * for scalars")
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ShapeError(f"cannot multiply {fmt(a)} @ {fmt(b)}: inner sizes {a2[-1]} and {b2[-2]} differ")
    batch = broadcast(a2[:-2], b2[:-2], broadcast=True) if len(a2) > 2 or len(b2) > 2 else ()
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def transpose(x: Shape, axes: object = None, **_: object) -> Shape:
    if axes is None:
        return tuple(reversed(x))
    if (
        not isinstance(axes, (list, tuple))
        or sorted(axes_of(list(axes), len(x))) != list(range(len(x)))
        or len(axes) != len(x)
    ):
        raise ShapeError(f"axes={axes} is not a permutation of the {len(x)} axes of {fmt(x)}")
    return tuple(x[a] for a in axes)


MAX_EXTENT = 2**40  # the product of a shape's non-zero sizes: NumPy refuses [2**62, 2**62, 0] though it is empty


def check_extent(shape: list[int], what: str) -> None:
    """Sizes NumPy can hold even when a 0 makes the tensor empty (without a 0, the size limits say more)."""
    if 0 not in shape:
        return
    extent = 1
    for n in shape:
        extent *= max(n, 1)
    if extent > MAX_EXTENT:
        raise ShapeError(f"{what} {shape}: sizes this large cannot be held, even with a size 0 among them")


def reshape(x: Shape, shape: object = None, **_: object) -> Shape:
    if not isinstance(shape, (list, tuple)) or not all(isinstance(n, int) and not isinstance(n, bool) for n in shape):
        raise ShapeError("reshape needs shape=[...] with whole numbers")
    if len(shape) > MAX_DIMS:
        raise ShapeError(f"shape {list(shape)} has {len(shape)} dimensions, more than the {MAX_DIMS} allowed")
    size = 1
    for n in x:
        size *= n
    known = 1
    for n in shape:
        if n != -1:
            if n < 0:
                raise ShapeError(f"shape {list(shape)} has a negative size")
            known *= n
    if list(shape).count(-1) > 1:
        raise ShapeError("reshape allows at most one -1")
    if -1 in shape and known == 0:
        raise ShapeError(f"shape {list(shape)}: -1 cannot be worked out next to a size 0; write every size")
    check_extent(list(shape), "shape")
    if -1 in shape and known and size % known == 0:
        shape = [size // known if n == -1 else n for n in shape]
    total = 1
    for n in shape:
        total *= n
    if total != size:
        raise ShapeError(f"cannot reshape {fmt(x)} ({size} elements) into {list(shape)}")
    return tuple(shape)


ARRAY, MASK = "array", "mask"  # `at` items naming the next index operand: whole numbers, or a boolean mask


def index_key(
    at: object, x: Shape, arrays: tuple[Shape, ...] = (), picks: object = None
) -> tuple[int | slice | tuple, ...]:
    """NumPy's index from the `at` keyword: per axis a whole number, a slice [start, stop, step] (each a whole
    number or none), or "array"/"mask" for the next index operand (of shape arrays[k]): ("array", shape) or
    ("mask", shape, count), picks[k] being how many elements the mask picks. Raises ShapeError for a malformed
    key, an index out of bounds, a mask whose shape is not the axes it covers."""
    if not isinstance(at, list) or not at:
        raise ShapeError("index needs at=[...]: per axis a whole number or a slice [start, stop, step]")
    if not x:
        raise ShapeError("a scalar has no elements to index")
    placeholders = sum(1 for item in at if item in (ARRAY, MASK))
    if placeholders != len(arrays):
        raise ShapeError(f"at= names {placeholders} index operand(s) ({ARRAY} or {MASK}), but {len(arrays)} are given")
    counts = list(picks) if isinstance(picks, (list, tuple)) else [None] * len(arrays)
    key: list[int | slice | tuple] = []
    axis, k = 0, 0
    for item in at:
        if item in (ARRAY, MASK):
            shape, k = arrays[k], k + 1
            covers = max(len(shape), 1) if item == MASK else 1
            if axis + covers > len(x):
                raise ShapeError(f"more indices than the {len(x)} axes of the operand {fmt(x)}")
            if item == MASK:
                if shape != x[axis : axis + covers]:
                    raise ShapeError(
                        f"a mask of shape {fmt(shape)} must have the shape of the axes it picks from, "
                        f"{fmt(x[axis : axis + covers])}"
                    )
                count = counts[k - 1]
                if not _whole(count):
                    raise ShapeError("the number of elements the mask picks is not known")
                key.append((MASK, shape, count))
            else:
                key.append((ARRAY, shape))
            axis += covers
            continue
        if axis >= len(x):
            raise ShapeError(f"{len(at)} indices for a {len(x)}-d operand {fmt(x)}")
        if _whole(item):
            if not -x[axis] <= item < x[axis]:
                raise ShapeError(f"index {item} is out of bounds for axis {axis} of size {x[axis]}")
            key.append(item)
        elif isinstance(item, list) and len(item) == 3 and all(v is None or _whole(v) for v in item):
            if item[2] == 0:
                raise ShapeError("a slice step cannot be zero")
            key.append(slice(*item))
        else:
            raise ShapeError(
                f"index item {item!r} is neither a whole number, a slice [start, stop, step], {ARRAY} nor {MASK}"
            )
        axis += 1
    return tuple(key)


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def index(x: Shape, *arrays: Shape, at: object = None, picks: object = None, **_: object) -> Shape:
    """NumPy's rules: slices keep their axes; index arrays (and whole numbers among them) broadcast together,
    their shape taking the place of the first of them when they are side by side, else going first."""
    key = index_key(at, x, arrays, picks)
    advanced = [k for k, item in enumerate(key) if isinstance(item, tuple)]
    if not advanced:
        out = []
        for axis, n in enumerate(x):
            item = key[axis] if axis < len(key) else slice(None)
            if isinstance(item, slice):
                out.append(len(range(*item.indices(n))))
        return tuple(out)
    spots = [k for k, item in enumerate(key) if not isinstance(item, slice)]  # whole numbers join the arrays
    parts = [() if not isinstance(key[k], tuple) else (key[k][2],) if key[k][0] == MASK else key[k][1] for k in spots]
    try:
        together = broadcast(*parts, broadcast=True)
    except ShapeError:
        raise ShapeError(f"index arrays of shapes {', '.join(map(fmt, parts))} do not broadcast together") from None
    if len(together) > MAX_DIMS:
        raise ShapeError(f"the index arrays together have more than the {MAX_DIMS} dimensions allowed")
    before, after, axis = [], [], 0
    for k, item in enumerate(key):
        covers = max(len(item[1]), 1) if isinstance(item, tuple) and item[0] == MASK else 1
        if isinstance(item, slice):
            (before if k < spots[0] else after).append(len(range(*item.indices(x[axis]))))
        axis += covers
    rest = list(x[axis:])
    if spots == list(range(spots[0], spots[-1] + 1)):  # side by side: in place
        return (*before, *together, *after, *rest)
    return (*together, *before, *after, *rest)


def concat(*xs: Shape, axis: int = 0, **_: object) -> Shape:
    if any(len(x) != len(xs[0]) for x in xs) or not xs[0]:
        raise ShapeError(f"concat needs operands of the same rank ≥ 1; got {', '.join(fmt(x) for x in xs)}")
    (a,) = axes_of(axis, len(xs[0]))
    if any(x[:a] + x[a + 1 :] != xs[0][:a] + xs[0][a + 1 :] for x in xs):
        raise ShapeError(f"concat along axis {axis}: the other sizes differ ({', '.join(fmt(x) for x in xs)})")
    return (*xs[0][:a], sum(x[a] for x in xs), *xs[0][a + 1 :])


def stack(*xs: Shape, axis: int = 0, **_: object) -> Shape:
    if any(x != xs[0] for x in xs):
        raise ShapeError(f"stack needs operands of one shape; got {', '.join(fmt(x) for x in xs)}")
    if len(xs[0]) + 1 > MAX_DIMS:
        raise ShapeError(f"stacking would give more than the {MAX_DIMS} dimensions allowed")
    (a,) = axes_of(axis, len(xs[0]) + 1)
    return (*xs[0][:a], len(xs), *xs[0][a:])


def equal_shapes(a: Shape, b: Shape, **_: object) -> Shape:
    if a != b:
        raise ShapeError(f"prediction {fmt(a)} and target {fmt(b)} must have the same shape")
    return ()


def class_scores(logits: Shape, labels: Shape, **_: object) -> Shape:
    if len(logits) not in (1, 2) or labels != logits[:-1]:
        raise ShapeError(
            f"needs logits (N, C) with labels (N,), or logits (C,) with a scalar label; got {fmt(logits)} and {fmt(labels)}"
        )
    return ()


def _window(size: int, kernel: int, stride: int, padding: int, what: str) -> int:
    if stride < 1 or padding < 0:
        raise ShapeError("stride must be ≥ 1 and padding ≥ 0")
    span = size + 2 * padding - kernel
    if span < 0:
        raise ShapeError(f"the {what} ({kernel}) is larger than the padded input ({size + 2 * padding})")
    return span // stride + 1


def conv2d(x: Shape, w: Shape, b: Shape | None = None, stride: int = 1, padding: int = 0, **_: object) -> Shape:
    if len(x) not in (3, 4) or len(w) != 4:
        raise ShapeError(f"conv2d needs x (N,C,H,W) or (C,H,W) and w (F,C,KH,KW); got {fmt(x)} and {fmt(w)}")
    if x[-3] != w[1]:
        raise ShapeError(f"x has {x[-3]} channels but the filters expect {w[1]}")
    if b is not None and b != (w[0],):
        raise ShapeError(f"bias must have shape ({w[0]},), got {fmt(b)}")
    oh = _window(x[-2], w[2], stride, padding, "kernel height")
    ow = _window(x[-1], w[3], stride, padding, "kernel width")
    return (*x[:-3], w[0], oh, ow)


def pool2d(x: Shape, size: int = 2, stride: int | None = None, **_: object) -> Shape:
    if len(x) not in (3, 4):
        raise ShapeError(f"max_pool2d needs x (N,C,H,W) or (C,H,W); got {fmt(x)}")
    s = size if stride is None else stride
    return (*x[:-2], _window(x[-2], size, s, 0, "pool size"), _window(x[-1], size, s, 0, "pool size"))


# ---------------------------------------------------------------- independent slices
# Per argument, {operand axis: output axis}: output slice i along the output axis depends only on slice i of
# the operand along its axis (Op.independent). Elementwise ops need none: every axis maps to itself.


def matmul_slices(a: Shape, b: Shape, **_: object) -> tuple[dict[int, int], ...]:
    """Row r of a @ b comes from row r of a; column c from column c of b."""
    rank = len(matmul(a, b))
    rows = {len(a) - 2: rank - (2 if len(b) >= 2 else 1)} if len(a) >= 2 else {}
    columns = {len(b) - 1: rank - 1} if len(b) >= 2 else {}
    return rows, columns


def conv2d_slices(x: Shape, w: Shape, b: Shape | None = None, **_: object) -> tuple[dict[int, int], ...]:
    """Image n of the output comes from image n of x; output channel f from filter f and bias f."""
    channel = len(x) - 3
    return ({0: 0} if len(x) == 4 else {}), {0: channel}, {0: channel}


def reduction_slices(x: Shape, axis: object = None, keepdims: bool = False, **_: object) -> tuple[dict[int, int]]:
    """The axes a reduction keeps."""
    reduced = axes_of(axis, len(x))
    kept = [i for i in range(len(x)) if i not in reduced]
    return ({i: i for i in kept} if keepdims else {i: k for k, i in enumerate(kept)},)


def along_axis_slices(x: Shape, axis: int = -1, **_: object) -> tuple[dict[int, int]]:
    """Every axis but the normalized one."""
    (normalized,) = axes_of(axis, len(x))
    return ({i: i for i in range(len(x)) if i != normalized},)


def transpose_slices(x: Shape, axes: object = None, **_: object) -> tuple[dict[int, int]]:
    order = list(reversed(range(len(x)))) if axes is None else [a % len(x) for a in axes]
    return ({source: i for i, source in enumerate(order)},)


def concat_slices(*xs: Shape, axis: int = 0, **_: object) -> tuple[dict[int, int], ...]:
    """Every axis but the one joined."""
    (a,) = axes_of(axis, len(xs[0]))
    return tuple({i: i for i in range(len(x)) if i != a} for x in xs)


def stack_slices(*xs: Shape, axis: int = 0, **_: object) -> tuple[dict[int, int], ...]:
    """Every axis, shifted past the new one."""
    (a,) = axes_of(axis, len(xs[0]) + 1)
    return tuple({i: i if i < a else i + 1 for i in range(len(x))} for x in xs)
