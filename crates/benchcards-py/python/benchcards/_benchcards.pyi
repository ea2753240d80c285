# The native module. Every function answers JSON text: {"value": ..., "warnings": [...]} or
# {"error": ..., "diagnostics": [...]}; use the `benchcards` functions, which read it.
from typing import Optional, Sequence, Tuple

__version__: str

def check(path: str) -> str: ...
def load_card_json(path: str) -> str: ...
def load_profile_json(path: str) -> str: ...
def compare(card: str, deployment: str) -> str: ...
def rank(deployment: str, registry_dir: Optional[str] = None, top: Optional[int] = None) -> str: ...
def decompose(
    results: str,
    path: Sequence[str],
    *,
    shown_as: Optional[str] = None,
    columns: Optional[dict[str, str]] = None,
    condition_meta: Optional[str] = None,
    reference: Optional[str] = None,
    weights: str = "pooled",
    case_mix: Optional[str] = None,
    shapley: Optional[Sequence[str]] = None,
    uptake: Optional[Tuple[str, str]] = None,
    sensitivity: bool = False,
    bootstrap: Optional[str] = None,
    resamples: int = 2000,
    seed: int = 20260101,
    interval: str = "bca",
    confidence: float = 0.95,
) -> str: ...
