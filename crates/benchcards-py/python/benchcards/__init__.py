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

import importlib
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from . import _benchcards

if TYPE_CHECKING:
    from pandas import DataFrame

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


def _unwrap(text: str) -> dict[str, Any]:
    """The value of a native call's JSON answer (always an object); its error raised, its
    warnings issued."""
    answer = json.loads(text)
    if "error" in answer:
        raise BenchcardsError(answer["error"], answer["diagnostics"])
    for w in answer["warnings"]:
        warnings.warn(w, BenchcardsWarning, stacklevel=3)
    value: dict[str, Any] = answer["value"]
    return value


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError('to_frame() needs pandas: pip install "benchcards[pandas]"') from e


Row = dict[str, Any]


def _frame(items: Iterable[Row], columns: Sequence[str], **computed: Callable[[Row], Any]) -> DataFrame:
    """A DataFrame with a row per item: ``columns`` taken from it by name, or computed from it
    by the function of the same name in ``computed``."""
    rows = [{c: computed[c](i) if c in computed else i.get(c) for c in columns} for i in items]
    return _pandas().DataFrame(rows, columns=list(columns))


class Comparison(dict[str, Any]):
    """A card compared with a deployment profile: ``benchcards compare --format json``.

    Keys: ``card``, ``deployment``, ``fit`` (``{"low", "high"}`` or None), ``headline``,
    ``groups`` (per assumption group: verdict, score, weight, tolerance, counts), ``dimensions``
    (per dimension: the benchmark's and the deployment's values, the verdict, its rationale,
    the direction of bias and the next step) and ``flags``.
    """

    def to_frame(self) -> DataFrame:
        """One row per dimension: id, group, benchmark, deployment, verdict, bias, next_step."""
        columns = ["id", "group", "kind", "benchmark", "deployment", "verdict", "bias", "next_step"]
        return _frame(self["dimensions"], columns)


class Ranking(dict[str, Any]):
    """Cards ranked by fit to a deployment: ``benchcards match --format json``.

    Keys: ``deployment``, ``cards`` (how many were ranked) and ``ranking``, best first, each
    with ``rank``, ``card`` (its id), ``name``, ``fit`` (``{"low", "high"}``: unstated
    dimensions counted as broken, then as holding), ``unknown``, ``broken_groups`` and
    ``explanation``.
    """

    def to_frame(self) -> DataFrame:
        """One row per card: rank, card, name, fit_low, fit_high, unknown, broken_groups, explanation."""
        columns = ["rank", "card", "name", "fit_low", "fit_high", "unknown", "broken_groups", "explanation"]
        return _frame(
            self["ranking"],
            columns,
            fit_low=lambda r: (r["fit"] or {}).get("low"),
            fit_high=lambda r: (r["fit"] or {}).get("high"),
            broken_groups=lambda r: ", ".join(r["broken_groups"]),
        )


class Decomposition(dict[str, Any]):
    """The gap between conditions decomposed along a path: ``benchcards decompose --format json``.

    Keys: ``estimand`` (what the figures estimate, in words), ``conditions`` (each with ``id``,
    ``n``, ``score`` and ``ci``, the interval at the confidence asked), ``steps`` (each
    ``from`` → ``to``: the ``assumption`` relaxed, its ``contribution`` with ``ci`` and ``n``),
    ``subtotals``, ``total``, ``reference``, ``shapley``, ``per_stratum``, ``standardised``,
    ``sensitivity``, ``uptake`` and ``warnings``. Scores are proportions (0.12 is 12 points).
    """

    def to_frame(self) -> DataFrame:
        """One row per step: from, to, assumption, kind, contribution, ci_low, ci_high, n, paired, method."""
        columns = ["from", "to", "assumption", "kind", "contribution", "ci_low", "ci_high", "n", "paired", "method"]
        return _frame(self["steps"], columns, ci_low=lambda s: s["ci"][0], ci_high=lambda s: s["ci"][1])

    def conditions_frame(self) -> DataFrame:
        """One row per condition: condition, n, score, ci_low, ci_high, proxy, method."""
        columns = ["condition", "n", "score", "ci_low", "ci_high", "proxy", "method"]
        return _frame(
            self["conditions"],
            columns,
            condition=lambda c: c["id"],
            ci_low=lambda c: c["ci"][0],
            ci_high=lambda c: c["ci"][1],
        )


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


def rank(deployment: PathLike, registry: PathLike | None = None, top: int | None = None) -> Ranking:
    """Ranks the cards of a registry folder (default: the bundled registry) by fit to a deployment.

    Files in the folder that are not valid cards are left out with a :class:`BenchcardsWarning`.
    ``top`` keeps the best ``top`` cards.
    """
    folder = None if registry is None else os.fspath(registry)
    return Ranking(_unwrap(_benchcards.rank(os.fspath(deployment), folder, top)))


def _is_frame(value: Any) -> bool:
    return hasattr(value, "to_csv") and hasattr(value, "columns")


def _as_csv(frame: DataFrame, folder: str, name: str) -> str:
    """Writes a DataFrame as CSV (booleans as 1/0, no index) and returns the file's path."""
    frame = frame.astype({c: "int64" for c, t in frame.dtypes.items() if str(t) in ("bool", "boolean")})
    path = os.path.join(folder, name)
    frame.to_csv(path, index=False)
    return path


def decompose(
    results: PathLike | DataFrame,
    path: str | Sequence[str],
    *,
    condition_meta: PathLike | DataFrame | None = None,
    columns: Mapping[str, str] | None = None,
    reference: str | None = None,
    weights: str = "pooled",
    case_mix: PathLike | None = None,
    shapley: Iterable[str] | None = None,
    uptake: Sequence[str] | None = None,
    sensitivity: bool = False,
    bootstrap: str | None = None,
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
    if uptake is not None and len(uptake) != 2:
        raise BenchcardsError("uptake takes two conditions: (model_condition, person_condition)", [])
    with tempfile.TemporaryDirectory(prefix="benchcards-") as folder:
        shown_as = "DataFrame" if _is_frame(results) else None
        results_file = _as_csv(results, folder, "results.csv") if _is_frame(results) else os.fspath(results)
        meta_file = (
            _as_csv(condition_meta, folder, "condition-meta.csv") if _is_frame(condition_meta) else condition_meta
        )
        answer = _benchcards.decompose(
            results_file,
            steps,
            shown_as=shown_as,
            columns=dict(columns) if columns is not None else None,
            condition_meta=None if meta_file is None else os.fspath(meta_file),
            reference=reference,
            weights=weights,
            case_mix=None if case_mix is None else os.fspath(case_mix),
            shapley=None if shapley is None else list(shapley),
            uptake=None if uptake is None else (uptake[0], uptake[1]),
            sensitivity=sensitivity,
            bootstrap=bootstrap,
            resamples=resamples,
            seed=seed,
            interval=interval,
            confidence=confidence,
        )
    return Decomposition(_unwrap(answer))
