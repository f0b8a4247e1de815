"""The student's code must be a function of its inputs (issue 20).

A forward that keeps state (exact at the first point it sees, another slope near it), draws random numbers, or
tells the checked point from its perturbations by how it is called (alone or in a batch, in which order) can
make the numerical reference agree with a wrong backward. So a verdict on plugin code stands only after a
fresh worker, started from nothing, was asked the same questions again in another order and another company:
what came in a batch is asked alone, what came alone is asked in a batch. Each answer must be the one given
the first time, else the file's verdict is `error`, naming the op.

What was asked is kept in a journal per worker: everything up to JOURNAL_BYTES, a uniform sample beyond (a
forgery changes the answers near the checked point, all of them, so a sample finds it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from ..errors import PluginError, StudentCodeError

JOURNAL_BYTES = 32 * 2**20  # inputs and answers kept for the replay
ALONE = 16  # questions first asked in a batch that are asked alone again (one round trip each)
BATCH = 32  # the rest is asked again in shuffled batches of up to this many
ULPS = 8  # the same code on the same input gives the same bits; a few units in the last place for BLAS
NOT_A_FUNCTION = (
    "{name} is not a function of its inputs: asked the same again in a fresh process, in another order, {how} "
    "(state kept between calls, random numbers, calls told apart); make the result depend on the inputs alone"
)


@dataclass
class Question:
    kind: str  # forward, jvp (one item of a request) or backward (one request)
    op: str
    what: str  # the function's name
    asked: tuple  # forward: the inputs; jvp: (tangents, inputs); backward: (upstream, inputs, attrs)
    attrs: dict
    answers: list  # arrays (None: a backward's input that is not differentiable)
    batch: int = 1  # how many questions its request held

    @property
    def inputs(self) -> list[np.ndarray]:
        found = []
        for part in self.asked:  # arrays, or tuples of them (and a backward's attrs)
            found.extend(part if isinstance(part, tuple) else [part] if isinstance(part, np.ndarray) else [])
        return found

    @property
    def arrays(self) -> list[np.ndarray]:
        return [a for a in self.answers if a is not None] + self.inputs

    def __post_init__(self) -> None:
        self.company = (self.kind, self.op, repr(sorted(self.attrs.items())))  # who may share a request


class Journal:
    """The questions a worker answered, for replay()."""

    def __init__(self) -> None:
        self.questions: list[Question] = []
        self.size = 0
        self.seen = 0
        self.rng = random.Random(20)

    def record(self, kind: str, op: str, what: str, args: tuple, arrays: list) -> None:
        """One request (Worker.call's arguments) and its answer."""
        if kind == "backward":  # (upstream, inputs, attrs)
            self._keep(Question(kind, op, what, args, args[2], arrays))
            return
        items, attrs = args[0], args[1]  # forward: (items, attrs, shapes); jvp: ((tangents, inputs) items, ...)
        for item, answer in zip(items, arrays, strict=True):
            self._keep(Question(kind, op, what, item, attrs, [answer], len(items)))

    def _keep(self, question: Question) -> None:
        question.answers = [None if a is None else np.array(a) for a in question.answers]  # not views of a reply
        size = sum(a.nbytes for a in question.arrays)
        self.seen += 1
        if self.size + size <= JOURNAL_BYTES:
            self.questions.append(question)
            self.size += size
            return
        k = self.rng.randrange(self.seen)  # reservoir sampling: every question kept with the same chance
        if k < len(self.questions):
            self.size += size - sum(a.nbytes for a in self.questions[k].arrays)
            self.questions[k] = question


def replay(journal: Journal, fresh) -> None:
    """Ask fresh (a worker with the same modules, folder and limits, started from nothing) the journal's
    questions again (see the module docstring); StudentCodeError at the first answer that differs."""
    questions = _same_question_same_answer(journal.questions)
    for i in range(len(questions) - 1, 0, -1):  # Sattolo: a random order in which no question keeps its place
        j = journal.rng.randrange(i)
        questions[i], questions[j] = questions[j], questions[i]
    try:
        _ask_again(fresh, questions)
    except PluginError as err:  # it raised this time, on a question it answered the first time
        how = err.message.removeprefix(f"op {err.op}: ")
        raise StudentCodeError(err.op, NOT_A_FUNCTION.format(name="its code", how=how)) from None


def _same_question_same_answer(questions: list[Question]) -> list[Question]:
    """Asked twice with the same inputs (the expect: block's backward and the check's): the same answer, or it
    counts its calls. The questions, each once."""
    first: dict[tuple, Question] = {}
    for question in questions:
        key = (*question.company, *((a.shape, a.tobytes()) for a in question.inputs))
        seen = first.setdefault(key, question)
        if seen is not question:
            _compare(seen, question.answers)
    return list(first.values())


def _ask_again(fresh, questions: list[Question]) -> None:
    """In the order given: backward calls one by one; of the items that came in batches, ALONE alone; the rest
    in batches of up to BATCH with other neighbours."""
    alone = ALONE
    pooled: dict[tuple, list[Question]] = {}
    for question in questions:
        if question.kind == "backward" or (question.batch > 1 and alone > 0):
            alone -= question.kind != "backward"
            _compare(question, _ask(fresh, [question])[0])
            continue
        pooled.setdefault(question.company, []).append(question)
        if len(pooled[question.company]) == BATCH:
            _ask_pooled(fresh, pooled.pop(question.company))
    for group in pooled.values():
        _ask_pooled(fresh, group)


def _ask_pooled(fresh, batch: list[Question]) -> None:
    for question, answers in zip(batch, _ask(fresh, batch), strict=True):
        _compare(question, answers)


def _ask(fresh, batch: list[Question]) -> list[list]:
    first = batch[0]
    if first.kind == "backward":
        upstream, inputs, attrs = first.asked
        expect = [np.shape(x) for x in inputs]
        return [fresh.call("backward", first.op, first.what, upstream, inputs, attrs, expect=expect, nullable=True)]
    shapes = [q.answers[0].shape for q in batch]
    answers = fresh.call(first.kind, first.op, first.what, [q.asked for q in batch], first.attrs, shapes, expect=shapes)
    return [[a] for a in answers]


def _compare(question: Question, again: list) -> None:
    for a, b in zip(question.answers, again, strict=True):
        if (a is None) != (b is None) or (a is not None and not _same(a, b)):
            raise StudentCodeError(question.op, NOT_A_FUNCTION.format(name=question.what, how="it answered otherwise"))


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if np.array_equal(a, b):  # the answer nearly always
        return True
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(all="ignore"):  # inf - inf
        close = np.abs(a - b) <= ULPS * np.finfo(np.float64).eps * np.maximum(np.abs(a), np.abs(b))
    return bool(np.all(both_nan | (a == b) | close))
