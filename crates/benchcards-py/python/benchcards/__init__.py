"""benchcards from Python: check benchmark cards, compare them with a deployment, rank a
registry, and decompose the gap between a benchmark's score and people's decisions.

The figures are computed by the same Rust libraries as the ``benchcards`` command (installed
with this package), so they equal its ``--format json`` output. Results are plain Python dicts
and lists; those with a table shape have ``to_frame()`` for a pandas DataFrame (pandas is
optional: ``pip install "benchcards[pandas]"``).

A card, profile or registry folder is a path, or the id of a bundled file
(``"bean-scenarios"``, ``"patient-symptom-chatbot"``). Files benchcards cannot use raise
:class:`BenchcardsError` with every problem at its line and column; warnings are issued as
:class:`BenchcardsWarning`.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

from . import _benchcards

__all__ = [
    "BenchcardsError",
    "BenchcardsWarning",
    "Comparison",
    "Decomposition",
    "Ranking",
    "check",
    "compare",
    "decompose",
    "load_card",
    "load_profile",
    "rank",
]

__version__: str = _benchcards.__version__

PathLike = Union[str, "os.PathLike[str]"]


class BenchcardsError(ValueError):
    """A file or request benchcards cannot use.

    ``str(error)`` is the message as the command line prints it (each problem with its file,
    line, column, the line itself and a suggested fix); ``error.diagnostics`` lists the same
    problems as dicts with ``path``, ``line``, ``column``, ``message``, ``expected`` (when
    known) and ``suggestion`` (or None).
    """

    def __init__(self, message: str, diagnostics: list[dict[str, Any]]):
        super().__init__(message)
        self.diagnostics = diagnostics


class BenchcardsWarning(UserWarning):
    """Something benchcards read is usable but worth a look (as ``warning:`` on the command line)."""


def _unwrap(text: str) -> Any:
    """The value of a native call's JSON answer; its error raised, its warnings issued."""
    answer = json.loads(text)
    if "error" in answer:
        raise BenchcardsError(answer["error"], answer["diagnostics"])
    for w in answer["warnings"]:
        warnings.warn(w, BenchcardsWarning, stacklevel=3)
    return answer["value"]


def _pandas():
    try:
        import pandas
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError('to_frame() needs pandas: pip install "benchcards[pandas]"') from e
    return pandas


class Comparison(dict):
    """A card compared with a deployment profile: ``benchcards compare --format json``.

    Keys: ``card``, ``deployment``, ``fit`` (``{"low", "high"}`` or None), ``headline``,
    ``groups`` (per assumption group: verdict, score, weight, tolerance, counts), ``dimensions``
    (per dimension: the benchmark's and the deployment's values, the verdict, its rationale,
    the direction of bias and the next step) and ``flags``.
    """

    def to_frame(self):
        """One row per dimension: id, group, benchmark, deployment, verdict, bias, next_step."""
        cols = ["id", "group", "kind", "benchmark", "deployment", "verdict", "bias", "next_step"]
        return _pandas().DataFrame([{c: d.get(c) for c in cols} for d in self["dimensions"]], columns=cols)


class Ranking(dict):
    """Cards ranked by fit to a deployment: ``benchcards match --format json``.

    Keys: ``deployment``, ``cards`` (how many were ranked) and ``ranking``, best first, each
    with ``rank``, ``card`` (its id), ``name``, ``fit`` (``{"low", "high"}``: unstated
    dimensions counted as broken, then as holding), ``unknown``, ``broken_groups`` and
    ``explanation``.
    """

    def to_frame(self):
        """One row per card: rank, card, name, fit_low, fit_high, unknown, broken_groups, explanation."""
        rows = [
            {
                "rank": r["rank"],
                "card": r["card"],
                "name": r["name"],
                "fit_low": (r["fit"] or {}).get("low"),
                "fit_high": (r["fit"] or {}).get("high"),
                "unknown": r["unknown"],
                "broken_groups": ", ".join(r["broken_groups"]),
                "explanation": r["explanation"],
            }
            for r in self["ranking"]
        ]
        cols = ["rank", "card", "name", "fit_low", "fit_high", "unknown", "broken_groups", "explanation"]
        return _pandas().DataFrame(rows, columns=cols)


class Decomposition(dict):
    """The gap between conditions decomposed along a path: ``benchcards decompose --format json``.

    Keys: ``estimand`` (what the figures estimate, in words), ``conditions`` (each with ``id``,
    ``n``, ``score`` and ``ci``, the interval at the confidence asked), ``steps`` (each
    ``from`` → ``to``: the ``assumption`` relaxed, its ``contribution`` with ``ci`` and ``n``),
    ``subtotals``, ``total``, ``reference``, ``shapley``, ``per_stratum``, ``standardised``,
    ``sensitivity``, ``uptake`` and ``warnings``. Scores are proportions (0.12 is 12 points).
    """

    def to_frame(self):
        """One row per step: from, to, assumption, kind, contribution, ci_low, ci_high, n, paired, method."""
        rows = [
            {
                "from": s["from"],
                "to": s["to"],
                "assumption": s["assumption"],
                "kind": s["kind"],
                "contribution": s["contribution"],
                "ci_low": s["ci"][0],
                "ci_high": s["ci"][1],
                "n": s["n"],
                "paired": s["paired"],
                "method": s["method"],
            }
            for s in self["steps"]
        ]
        cols = ["from", "to", "assumption", "kind", "contribution", "ci_low", "ci_high", "n", "paired", "method"]
        return _pandas().DataFrame(rows, columns=cols)

    def conditions_frame(self):
        """One row per condition: condition, n, score, ci_low, ci_high, proxy, method."""
        rows = [
            {
                "condition": c["id"],
                "n": c["n"],
                "score": c["score"],
                "ci_low": c["ci"][0],
                "ci_high": c["ci"][1],
                "proxy": c["proxy"],
                "method": c["method"],
            }
            for c in self["conditions"]
        ]
        cols = ["condition", "n", "score", "ci_low", "ci_high", "proxy", "method"]
        return _pandas().DataFrame(rows, columns=cols)


def check(path: PathLike) -> dict[str, Any]:
    """Reads a card, deployment profile or plan and reports every problem, raising for none.

    Returns ``path``, ``kind`` and ``id`` (None when it has errors), ``errors`` and
    ``warnings`` (each with ``line``, ``column``, ``message``, ``expected``, ``suggestion``)
    and ``rendered`` (each problem as the command line prints it).
    """
    return _unwrap(_benchcards.check(os.fspath(path)))


def load_card(path: PathLike) -> dict[str, Any]:
    """A benchmark card as a dict (its JSON form); raises :class:`BenchcardsError` if it does not pass ``check``."""
    return _unwrap(_benchcards.load_card_json(os.fspath(path)))


def load_profile(path: PathLike) -> dict[str, Any]:
    """A deployment profile as a dict (its JSON form); raises :class:`BenchcardsError` if it does not pass ``check``."""
    return _unwrap(_benchcards.load_profile_json(os.fspath(path)))


def compare(card: PathLike, deployment: PathLike) -> Comparison:
    """Compares a card with a deployment profile: a verdict per dimension and group, and fit."""
    return Comparison(_unwrap(_benchcards.compare(os.fspath(card), os.fspath(deployment))))


def rank(deployment: PathLike, registry: Optional[PathLike] = None, top: Optional[int] = None) -> Ranking:
    """Ranks the cards of a registry folder (default: the bundled registry) by fit to a deployment.

    Files in the folder that are not valid cards are left out with a :class:`BenchcardsWarning`.
    ``top`` keeps the best ``top`` cards.
    """
    folder = None if registry is None else os.fspath(registry)
    return Ranking(_unwrap(_benchcards.rank(os.fspath(deployment), folder, top)))


def _is_frame(value: Any) -> bool:
    return hasattr(value, "to_csv") and hasattr(value, "columns")


def _as_csv(frame: Any, folder: str, name: str) -> str:
    """Writes a DataFrame as CSV (booleans as 1/0, no index) and returns the file's path."""
    frame = frame.astype({c: "int64" for c, t in frame.dtypes.items() if str(t) in ("bool", "boolean")})
    path = os.path.join(folder, name)
    frame.to_csv(path, index=False)
    return path


def decompose(
    results: Any,
    path: Union[str, Sequence[str]],
    *,
    condition_meta: Any = None,
    columns: Optional[Mapping[str, str]] = None,
    reference: Optional[str] = None,
    weights: str = "pooled",
    case_mix: Optional[PathLike] = None,
    shapley: Optional[Iterable[str]] = None,
    uptake: Optional[Tuple[str, str]] = None,
    sensitivity: bool = False,
    bootstrap: Optional[str] = None,
    resamples: int = 2000,
    seed: int = 20260101,
    interval: str = "bca",
    confidence: float = 0.95,
) -> Decomposition:
    """Decomposes the gap between a benchmark's score and people's decisions, step by step.

    ``results`` is a results file (CSV or JSONL in the results form: ``unit``, ``condition``,
    ``score``, and optionally ``stratum``, ``cluster``, ``pair``, ``replicate``, ``weight``) or
    a pandas DataFrame with those columns (errors then name ``DataFrame`` and count the header
    as line 1, so line 2 is the frame's first row). ``path`` lists the conditions in order, from
    the benchmark as written to the deployment (a list, or one comma-separated string).

    The keywords are ``benchcards decompose``'s flags: ``condition_meta`` (a file or DataFrame
    with a ``condition`` column), ``columns`` (the results form's names mapped to yours, e.g.
    ``{"score": "correct"}``), ``reference``, ``weights`` (``"pooled"``, ``"equal"`` or
    ``"case-mix"``), ``case_mix`` (a deployment profile), ``shapley``, ``uptake``
    (``(model_condition, person_condition)``), ``sensitivity``, ``bootstrap`` (``"stratified"``,
    ``"cluster"``, ``"two-stage"`` or ``"strata"``; default cluster when a cluster column is
    named, else stratified), ``resamples``, ``seed``, ``interval`` (``"bca"`` or
    ``"percentile"``) and ``confidence``. The same inputs give the same figures as the command.
    """
    steps = [p.strip() for p in path.split(",")] if isinstance(path, str) else list(path)
    with tempfile.TemporaryDirectory(prefix="benchcards-") as folder:
        shown_as = None
        if _is_frame(results):
            results, shown_as = _as_csv(results, folder, "results.csv"), "DataFrame"
        if _is_frame(condition_meta):
            condition_meta = _as_csv(condition_meta, folder, "condition-meta.csv")
        answer = _benchcards.decompose(
            os.fspath(results),
            steps,
            shown_as=shown_as,
            columns=dict(columns) if columns is not None else None,
            condition_meta=None if condition_meta is None else os.fspath(condition_meta),
            reference=reference,
            weights=weights,
            case_mix=None if case_mix is None else os.fspath(case_mix),
            shapley=None if shapley is None else list(shapley),
            uptake=None if uptake is None else tuple(uptake),
            sensitivity=sensitivity,
            bootstrap=bootstrap,
            resamples=resamples,
            seed=seed,
            interval=interval,
            confidence=confidence,
        )
    return Decomposition(_unwrap(answer))

