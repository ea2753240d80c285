"""Checks a JSONL file of Every Eval Ever instance-level records (from `benchcards runs export
--format every-eval-ever`) with the EvalEval coalition's own package: its validator
(`validate_instance_file`, which checks each line against the package's pydantic model) and
the JSON schema the package ships (`every_eval_ever/schemas/instance_level_eval.schema.json`,
checked with jsonschema). Prints `N record(s) valid` and exits 0, or prints each problem and
exits 1.

    target/pyref/bin/python scripts/eee_check.py eee.jsonl

scripts/test.sh installs the package into the test-only virtual environment target/pyref.
"""

import json
import sys
from importlib import resources
from pathlib import Path

import jsonschema
from every_eval_ever.validator.validation_core import validate_instance_file


def main(path: str) -> int:
    file = Path(path)
    problems = []
    report = validate_instance_file(file)
    problems += [f"validator: {e.get('loc')}: {e.get('msg')}" for e in report.errors]
    text = resources.files("every_eval_ever.schemas").joinpath("instance_level_eval.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    validator = jsonschema.Draft7Validator(schema)
    records = 0
    for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        records += 1
        for e in validator.iter_errors(json.loads(line)):
            where = "/".join(str(p) for p in e.absolute_path) or "(record)"
            problems.append(f"schema {schema.get('version')}: line {number}: {where}: {e.message}")
    if records == 0:
        problems.append("no records")
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{records} record(s) valid (every_eval_ever validator and instance_level_eval.schema.json {schema.get('version')})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
