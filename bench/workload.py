"""The benchmark workloads, written for every tool from one list of items.

Each item is a distinct ~80-word second-person symptom vignette (distinct, so no tool's cache
can merge two items) ending in the question every tool poses. The texts are synthetic: they
exercise the harness, not a model.
"""

import json
import os

QUESTION = "What is the most likely condition, and should you see a doctor?"
PATIENT = (
    "You are a patient talking to a doctor by chat. Everything you know about your health is in "
    "this description, which is written to you: {vignette} Answer the doctor's questions briefly "
    "and truthfully, in lay words, from this description only."
)
DOCTOR = "You are a doctor talking to a patient by chat. Ask one question at a time, then give your final answer."
# `{n}` is the request's number: every reply differs, so conversations diverge and no tool's
# cache can answer one conversation's request from another's.
REPLY = "The most likely condition is a viral upper respiratory infection (reply {n}). Disposition: self_care."

AGES = [19, 24, 31, 38, 45, 52, 58, 63, 70, 77]
COMPLAINTS = [
    "a sore throat and a blocked nose",
    "a dry cough and a mild fever",
    "a headache behind the eyes",
    "pain when passing urine",
    "an itchy red rash on both arms",
    "tummy pain and loose stools",
    "a painful swollen ankle after a fall",
    "ringing in one ear",
]


def vignette(i: int) -> str:
    age, complaint = AGES[i % len(AGES)], COMPLAINTS[(i // len(AGES)) % len(COMPLAINTS)]
    return (
        f"You are a {age}-year-old with {complaint} that began {i % 9 + 1} days ago (case {i}). "
        "You are eating and drinking normally and have no difficulty breathing, no chest pain "
        "and no confusion. You take no regular medicines and have no allergies. You have tried "
        "rest and paracetamol, which help a little, and you want to know whether this needs "
        "a doctor today or can be looked after at home."
    )


def items(n: int):
    for i in range(n):
        yield {"id": f"b{i:05d}", "vignette": vignette(i), "answer": "viral upper respiratory infection"}


def write_benchcards(folder: str, n: int, conversation: bool, root: str, base_url: str) -> str:
    """A dataset and a plan for `benchcards run`; returns the plan's path."""
    kind = "conversation" if conversation else "single"
    data = os.path.join(folder, f"benchcards-{kind}-{n}.jsonl")
    with open(data, "w") as f:
        f.write(json.dumps({"dataset": {"id": f"bench-{kind}", "contains_phi": False}}) + "\n")
        for it in items(n):
            gold = {"conditions": [{"name": "viral upper respiratory infection", "synonyms": ["cold"]}], "disposition": "self_care"}
            f.write(json.dumps({"id": it["id"], "stratum": "bench", "vignette": it["vignette"], "gold": gold}) + "\n")
    # Five doctor turns, the patient's reply to each and the wrap-up: six assistant turns and
    # twelve requests per conversation (the patient also writes the opening).
    condition = (
        "    - {id: conversation, turn_limit: 5, patient: truthful, scoring: final_answer}\n" if conversation else "    - {id: vignette}\n"
    )
    plan = os.path.join(folder, f"benchcards-{kind}-{n}.yaml")
    with open(plan, "w") as f:
        f.write(
            "plan:\n  version: 1\n  id: bench\n"
            f"  card: {root}/registry/bean-scenarios.yaml\n"
            f"  deployment: {root}/examples/deployments/patient-symptom-chatbot.yaml\n"
            f"  dataset: {data}\n"
            "  models:\n"
            f"    - {{id: mock, provider: openai, model: mock, base_urls: [\"{base_url}\"], sampling: {{max_tokens: 64}}}}\n"
            f"  conditions:\n{condition}"
            "  graders:\n    - kind: conditions\n  epochs: 1\n"
        )
    return plan


def write_lm_eval(folder: str, n: int) -> str:
    """A local JSONL dataset and task YAML for lm-eval's `generate_until`; returns the task name."""
    data = os.path.join(folder, "items.jsonl")
    with open(data, "w") as f:
        for it in items(n):
            f.write(json.dumps({"question": f"{it['vignette']} {QUESTION}", "answer": it["answer"]}) + "\n")
    with open(os.path.join(folder, "bench_single.yaml"), "w") as f:
        f.write(
            "task: bench_single\n"
            "dataset_path: json\n"
            f"dataset_kwargs:\n  data_files:\n    test: {data}\n"
            "test_split: test\n"
            "output_type: generate_until\n"
            'doc_to_text: "{{question}}"\n'
            'doc_to_target: "{{answer}}"\n'
            "generation_kwargs:\n  until: []\n  max_gen_toks: 64\n  do_sample: false\n  temperature: 0\n"
            "metric_list:\n  - metric: exact_match\n    aggregation: mean\n    higher_is_better: true\n"
            "metadata:\n  version: 1.0\n"
        )
    return "bench_single"


INSPECT_TASKS = """
from inspect_ai import Task, task
from inspect_ai.dataset import FieldSpec, json_dataset
from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageUser, get_model
from inspect_ai.scorer import includes
from inspect_ai.solver import Generate, TaskState, generate, solver, system_message

FIELDS = FieldSpec(input="input", target="target", id="id")


@task
def single():
    return Task(dataset=json_dataset("items.jsonl", FIELDS), solver=generate(), scorer=includes())


@solver
def with_patient(turns):
    # Six doctor turns, each answered by the simulated patient: twelve requests.
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        patient = get_model()
        case = state.metadata["vignette"]
        for _ in range(turns):
            state = await generate(state)
            view = [ChatMessageSystem(content=PATIENT.format(vignette=case))]
            for m in state.messages[1:]:
                view.append(ChatMessageUser(content=m.text) if m.role == "assistant" else ChatMessageAssistant(content=m.text))
            reply = await patient.generate(view)
            state.messages.append(ChatMessageUser(content=reply.completion))
        return state

    return solve


@task
def conversation():
    fields = FieldSpec(input="input", target="target", id="id", metadata=["vignette"])
    return Task(dataset=json_dataset("items.jsonl", fields), solver=[system_message(DOCTOR), with_patient(6)], scorer=includes())
"""


def write_inspect(folder: str, n: int) -> str:
    """A local JSONL dataset and the two tasks for inspect-ai; returns the task file's name."""
    with open(os.path.join(folder, "items.jsonl"), "w") as f:
        for it in items(n):
            f.write(json.dumps({"id": it["id"], "input": f"{it['vignette']} {QUESTION}", "target": "self_care", "vignette": it["vignette"]}) + "\n")
    with open(os.path.join(folder, "tasks.py"), "w") as f:
        f.write(f"PATIENT = {PATIENT!r}\nDOCTOR = {DOCTOR!r}\n" + INSPECT_TASKS)
    return "tasks.py"


def write_promptfoo(folder: str, n: int, base_url: str) -> str:
    """A CSV of tests and a promptfoo config; returns the config's name."""
    import csv

    with open(os.path.join(folder, "tests.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "question"])
        for it in items(n):
            w.writerow([it["id"], f"{it['vignette']} {QUESTION}"])
    with open(os.path.join(folder, "promptfooconfig.yaml"), "w") as f:
        f.write(
            "description: benchcards peer benchmark, single turn\n"
            "sharing: false\n"
            'prompts:\n  - "{{question}}"\n'
            f"providers:\n  - id: openai:chat:mock\n    config:\n      apiBaseUrl: {base_url}\n      apiKey: unused\n      max_tokens: 64\n"
            "defaultTest:\n  assert:\n    - type: icontains\n      value: self_care\n"
            "tests: file://tests.csv\n"
        )
    return "promptfooconfig.yaml"
