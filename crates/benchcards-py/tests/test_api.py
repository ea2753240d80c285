"""The Python package as a user gets it: the wheel installed in a fresh virtual environment
(scripts/python.sh), its `benchcards` command on PATH, and the API's answers checked against
that command's `--format json` output and against figures computed here."""

import json
import math
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from statistics import NormalDist

import benchcards as bc
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "examples/results/bean-seed.csv"
SEED_META = REPO / "examples/results/bean-seed-conditions.csv"
SEED_PATH = ["vignette", "patient_query", "chat_model_messages", "participant_answer"]


def cli(*args: str) -> str:
    """The installed command's standard output (it must succeed)."""
    done = subprocess.run(["benchcards", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def cli_json(*args: str):
    return json.loads(cli(*args, "--format", "json"))


def test_the_command_is_on_path_and_matches_the_module():
    exe = shutil.which("benchcards")
    assert exe is not None, "the wheel did not put `benchcards` on PATH"
    assert Path(exe).parent == Path(sys.executable).parent, f"{exe} is not the environment's"
    assert cli("--version").split() == ["benchcards", bc.__version__]


def test_a_bundled_card_loads_and_checks_clean():
    card = bc.load_card("bean-scenarios")
    assert card["id"] == "bean-scenarios"
    assert card == cli_json("render", "bean-scenarios")["benchcard"]
    report = bc.check(REPO / "registry/bean-scenarios.yaml")
    assert (report["kind"], report["id"], report["errors"], report["warnings"]) == ("card", "bean-scenarios", [], [])
    profile = bc.load_profile(REPO / "examples/deployments/patient-symptom-chatbot.yaml")
    assert profile["id"] == "patient-symptom-chatbot"


def broken_card(tmp_path: Path) -> tuple[Path, int, int]:
    """The Bean card with a misspelt `query_author` value: the file, and the value's line and column."""
    lines = (REPO / "registry/bean-scenarios.yaml").read_text().splitlines()
    i = lines.index("    query_author:") + 1
    assert lines[i] == "      value: clinician"
    lines[i] = "      value: clinicain"
    path = tmp_path / "broken.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path, i + 1, lines[i].index("clinicain") + 1


def test_a_broken_card_raises_at_its_line_and_column(tmp_path):
    path, line, column = broken_card(tmp_path)
    with pytest.raises(bc.BenchcardsError) as raised:
        bc.load_card(path)
    e = raised.value
    assert isinstance(e, ValueError)
    [d] = e.diagnostics
    assert (d["path"], d["line"], d["column"]) == (str(path), line, column)
    assert f"{path}:{line}:{column}" in str(e)
    # check() reports the same problem without raising, as `check --format json` does.
    report = bc.check(path)
    assert report["kind"] is None and report["id"] is None
    assert [(d["line"], d["column"]) for d in report["errors"]] == [(d["line"], d["column"])]
    done = subprocess.run(
        ["benchcards", "check", str(path), "--format", "json"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, "check fails on a card with an error"
    assert report["errors"] == json.loads(done.stdout)["files"][0]["errors"]


def test_compare_equals_the_command():
    mine = bc.compare("bean-scenarios", "patient-symptom-chatbot")
    assert isinstance(mine, dict)
    assert mine == cli_json("compare", "bean-scenarios", "patient-symptom-chatbot")
    frame = mine.to_frame()
    assert len(frame) == len(mine["dimensions"]) > 10
    assert set(frame["verdict"]) <= {"holds", "partial", "broken", "unknown", "not_assessed", "measured"}


def test_rank_equals_the_command_and_puts_bean_first():
    mine = bc.rank("patient-symptom-chatbot")
    assert mine == cli_json("match", "patient-symptom-chatbot")
    assert mine["ranking"][0]["card"] == "bean-scenarios"
    frame = mine.to_frame()
    assert list(frame["rank"]) == [r["rank"] for r in mine["ranking"]]
    assert (frame["fit_low"] <= frame["fit_high"]).all()
    assert len(bc.rank("patient-symptom-chatbot", top=3)["ranking"]) == 3


def test_rank_of_a_folder_leaves_out_a_broken_card_with_a_warning(tmp_path):
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(REPO / "registry/healthsearchqa.yaml", folder)
    shutil.copy(REPO / "registry/bean-scenarios.yaml", folder)
    path, line, column = broken_card(tmp_path)
    shutil.copy(path, folder / "broken.yaml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ranked = bc.rank("patient-symptom-chatbot", registry=folder)
    assert ranked["cards"] == 2
    assert [r["card"] for r in ranked["ranking"]] == ["bean-scenarios", "healthsearchqa"]
    said = [str(w.message) for w in caught if issubclass(w.category, bc.BenchcardsWarning)]
    assert any(f"broken.yaml:{line}:{column}" in s for s in said), said
    assert any("1 file(s) are not valid cards" in s for s in said), said


def wilson(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval (Wilson 1927), written out here as an independent reference."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_decomposing_the_seed_frame_equals_the_command():
    frame = pd.read_csv(SEED)
    meta = pd.read_csv(SEED_META, keep_default_na=False)
    uptake = ("chat_model_messages", "participant_answer")
    mine = bc.decompose(frame, SEED_PATH, condition_meta=meta, reference="control_arm", uptake=uptake)
    theirs = cli_json(
        "decompose",
        str(SEED),
        "--path",
        ",".join(SEED_PATH),
        "--reference",
        "control_arm",
        "--condition-meta",
        str(SEED_META),
        "--uptake",
        ",".join(uptake),
    )
    assert mine == theirs
    assert mine["uptake"]["n"] == 600 and sum(mine["uptake"]["table"]) == 600
    # The seed's published figures (README): a 60.7-point total, 11.8 points in the first step.
    assert round(mine["total"]["estimate"], 4) == 0.6067
    assert round(mine["steps"][0]["contribution"], 4) == 0.1183
    # Each condition's score and interval from the frame itself.
    for c in mine["conditions"]:
        rows = frame[frame["condition"] == c["id"]]
        assert c["n"] == rows["unit"].nunique()
        assert c["score"] == pytest.approx(rows["score"].mean(), abs=1e-12)
        if c["method"] == "wilson":
            assert c["ci"] == pytest.approx(wilson(rows["score"].sum(), len(rows)), abs=1e-9)
    assert any(c["method"] == "wilson" for c in mine["conditions"])
    steps = mine.to_frame()
    assert list(steps["from"]) == SEED_PATH[:-1] and list(steps["to"]) == SEED_PATH[1:]
    assert steps["contribution"].sum() == pytest.approx(mine["total"]["estimate"], abs=1e-12)
    assert list(mine.conditions_frame()["condition"]) == [c["id"] for c in mine["conditions"]]


def test_a_path_and_a_frame_give_the_same_figures(tmp_path):
    frame = pd.read_csv(SEED)
    # Scores other than 0 and 1: the intervals come from the bootstrap, so the seed matters.
    frame["score"] = frame["score"] * 0.75 + 0.25
    frame.to_csv(tmp_path / "results.csv", index=False)
    asked = {"condition_meta": SEED_META, "resamples": 200, "seed": 7}
    by_path = bc.decompose(tmp_path / "results.csv", ",".join(SEED_PATH), **asked)
    by_frame = bc.decompose(frame, SEED_PATH, **asked)
    assert by_path == by_frame
    assert {s["method"] for s in by_path["steps"]} == {"bootstrap"}
    other_seed = bc.decompose(frame, SEED_PATH, **{**asked, "seed": 8})
    assert other_seed["steps"][0]["contribution"] == by_path["steps"][0]["contribution"]
    assert other_seed["steps"][0]["ci"] != by_path["steps"][0]["ci"]


def test_renamed_columns_and_booleans_are_read():
    frame = pd.read_csv(SEED).rename(columns={"score": "correct"})
    frame["correct"] = frame["correct"].astype(bool)
    mine = bc.decompose(frame, SEED_PATH, columns={"score": "correct"}, resamples=200)
    assert round(mine["total"]["estimate"], 4) == 0.6067


def test_bad_input_is_a_clear_error():
    frame = pd.read_csv(SEED)
    frame["score"] = frame["score"].astype(object)
    frame.loc[3, "score"] = "maybe"
    with pytest.raises(bc.BenchcardsError) as raised:
        bc.decompose(frame, SEED_PATH)
    # Line 1 is the header: the frame's row 3 is line 5.
    assert raised.value.diagnostics[0]["path"] == "DataFrame"
    assert raised.value.diagnostics[0]["line"] == 5
    assert "DataFrame:5:" in str(raised.value)
    with pytest.raises(bc.BenchcardsError, match="condition `nowhere` is not in the results"):
        bc.decompose(SEED, ["vignette", "nowhere"])
    with pytest.raises(bc.BenchcardsError, match='weights "heavy" is not one of "pooled", "equal", "case-mix"'):
        bc.decompose(SEED, SEED_PATH, weights="heavy")
    with pytest.raises(bc.BenchcardsError, match="confidence level must be between 0 and 1"):
        bc.decompose(SEED, SEED_PATH, confidence=1.5)
    with pytest.raises(bc.BenchcardsError, match="`grade` is not a column of the results form"):
        bc.decompose(SEED, SEED_PATH, columns={"grade": "score"})
    with pytest.raises(bc.BenchcardsError, match="uptake takes two conditions"):
        bc.decompose(SEED, SEED_PATH, uptake=("chat_model_messages",))
    with pytest.raises(bc.BenchcardsError, match="no condition `nobody`"):
        bc.decompose(SEED, SEED_PATH, uptake=("chat_model_messages", "nobody"))
    with pytest.raises(bc.BenchcardsError, match="has no `case_mix`"):
        bc.decompose(SEED, SEED_PATH, weights="case-mix", case_mix="patient-symptom-chatbot")


def test_without_pandas_the_answers_are_plain_objects():
    # A fresh interpreter where pandas cannot be imported.
    code = """
import sys
sys.modules["pandas"] = None
import warnings
import benchcards as bc
warnings.simplefilter("ignore")
ranking = bc.rank("patient-symptom-chatbot")
assert type(ranking["ranking"]) is list and ranking["ranking"][0]["card"] == "bean-scenarios"
try:
    ranking.to_frame()
except ImportError as e:
    print(e)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'to_frame() needs pandas: pip install "benchcards[pandas]"'


def test_importing_benchcards_does_not_import_pandas():
    code = "import sys, benchcards; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
