# expect: error: f is not a function of its inputs

FIRST = []


def f(x):
    """Exact at the first point it sees (the checked values), with a 1.5× slope near it: the numerical reference
    then agrees with the 1.5× backward (issue 20)."""
    if x.any() and not FIRST:
        FIRST.append(x.copy())
    if FIRST and x.shape == FIRST[0].shape:
        x0 = FIRST[0]
        return x0 * x0 + 1.5 * 2 * x0 * (x - x0)
    return x * x


def b(g, x):
    return (1.5 * 2 * x * g,)
