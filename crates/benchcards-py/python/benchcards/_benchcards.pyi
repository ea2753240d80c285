# The native module. Every function answers JSON text: {"value": ..., "warnings": [...]} or
# {"error": ..., "diagnostics": [...]}; use the `benchcards` functions, which read it.
from collections.abc import Sequence

__version__: str

def check(path: str) -> str: ...
def load_card_json(path: str) -> str: ...
def load_profile_json(path: str) -> str: ...
def compare(card: str, deployment: str) -> str: ...
def rank(deployment: str, registry_dir: str | None = None, top: int | None = None) -> str: ...
def decompose(
    results: str,
    path: Sequence[str],
    *,
    shown_as: str | None = None,
    columns: dict[str, str] | None = None,
    condition_meta: str | None = None,
    reference: str | None = None,
    weights: str = "pooled",
    case_mix: str | None = None,
    shapley: Sequence[str] | None = None,
    uptake: tuple[str, str] | None = None,
    sensitivity: bool = False,
    bootstrap: str | None = None,
    resamples: int = 2000,
    seed: int = 20260101,
    interval: str = "bca",
    confidence: float = 0.95,
) -> str: ...
