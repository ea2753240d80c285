"""Runs the benchmarks and writes their tables into bench/RESULTS.md.

    python3 bench/bench.py peers   # benchcards and peer harnesses against the mock server
    python3 bench/bench.py cli     # start-up, check, match, cached resume, memory at 10,000

`bench/run.sh` builds the release binaries and installs the peers first; run that.
Every process is measured whole (wall time, user + system CPU, peak RSS) through wait4(2), and
every run against the mock server counts the requests the server saw.
"""

import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import workload  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
WORK = os.path.join(ROOT, "target", "bench")
BIN = os.path.join(ROOT, "target", "release")
PEERS = os.path.join(WORK, "peers")
PORT = 8291
LATENCY_MS = 50


def measure(cmd, env=None, cwd=None):
    """Runs a command to its end: wall s, CPU s (user + system, children included), peak RSS in MB,
    exit code, and the ends of its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        text = []
        for f in (out, err):
            f.seek(0)
            text.append(f.read().decode(errors="replace"))
    return {
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "rss_mb": ru.ru_maxrss / 1024,
        "rc": p.returncode,
        "stdout": text[0][:2000],
        "stderr": text[1][-2000:],
    }


class Mock:
    """The project's mock server for one measured run: fresh counters, fixed latency."""

    def __init__(self):
        self.p = subprocess.Popen(
            [f"{BIN}/benchcards-mock", "--port", str(PORT), "--latency-ms", str(LATENCY_MS), "--reply", workload.REPLY, "--max-seconds", "1800"],
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.p.stdout.readline()
        if "mock server on" not in line:
            raise SystemExit(f"the mock server did not start: {line!r}")
        self.base_url = f"http://127.0.0.1:{PORT}/v1"

    def stop(self):
        """Stops the server; returns the requests it served and the seconds from the first request to the last reply."""
        self.p.send_signal(signal.SIGINT)
        out, _ = self.p.communicate(timeout=30)
        m = re.search(r"served (\d+) request\(s\) in ([0-9.]+) s", out)
        return (int(m.group(1)), float(m.group(2))) if m else (-1, 0.0)


def median_row(runs):
    keys = ["wall_s", "cpu_s", "rss_mb", "requests", "busy_s"]
    return {k: statistics.median(r[k] for r in runs) for k in keys} | {"runs": len(runs), "walls": [round(r["wall_s"], 2) for r in runs]}


def benchcards(kind, n, concurrency, base_url, scratch):
    plan = workload.write_benchcards(scratch, n, kind == "conversation", ROOT, base_url)
    store = os.path.join(scratch, "runs.sqlite")  # scratch is new for every run: nothing is cached
    return [f"{BIN}/benchcards", "run", plan, "--store", store, "--concurrency", str(concurrency), "--timeout", "60"], dict(os.environ)


def lm_eval(kind, n, concurrency, base_url, scratch):
    if kind == "conversation":
        # lm-eval poses each document once, to one model; no output feeds a later request.
        raise Unsupported("lm-eval has no multi-turn evaluation with a second model (EleutherAI/lm-evaluation-harness#2179)")
    task = workload.write_lm_eval(scratch, n)
    args = f"model=mock,base_url={base_url}/chat/completions,num_concurrent={concurrency},max_retries=3,tokenizer_backend=None"
    env = dict(os.environ, HF_HOME=os.path.join(scratch, "hf"), HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1")
    cmd = [f"{PEERS}/venv/bin/lm_eval", "--model", "local-chat-completions", "--model_args", args, "--tasks", task]
    return cmd + ["--include_path", scratch, "--apply_chat_template", "--limit", str(n), "--output_path", os.path.join(scratch, "out")], env


def inspect_ai(kind, n, concurrency, base_url, scratch):
    tasks = workload.write_inspect(scratch, n)
    env = dict(
        os.environ,
        MOCK_API_KEY="unused",
        MOCK_BASE_URL=base_url,
        INSPECT_LOG_DIR=os.path.join(scratch, "logs"),
        # An empty tokenizer cache: a fetch would fail here, and these workloads never tokenize.
        TIKTOKEN_CACHE_DIR=os.path.join(scratch, "tiktoken"),
        NO_PROXY="127.0.0.1",
    )
    os.makedirs(env["TIKTOKEN_CACHE_DIR"])
    cmd = [f"{PEERS}/venv/bin/inspect", "eval", f"{tasks}@{kind}", "--model", "openai-api/mock/mock", "--max-connections", str(concurrency)]
    return cmd + ["--max-tokens", "64", "--no-log-samples", "--display", "none", "--log-level", "warning"], env


def promptfoo(kind, n, concurrency, base_url, scratch):
    if kind == "conversation":
        raise Unsupported(PROMPTFOO_CONVERSATION)
    config = workload.write_promptfoo(scratch, n, base_url)
    home = os.path.join(scratch, "home")
    env = dict(
        os.environ,
        PROMPTFOO_CONFIG_DIR=home,
        PROMPTFOO_CACHE_PATH=os.path.join(home, "cache"),
        PROMPTFOO_CACHE_ENABLED="false",
        PROMPTFOO_DISABLE_TELEMETRY="1",
        PROMPTFOO_DISABLE_UPDATE="1",
        PROMPTFOO_DISABLE_SHARING="1",
        PROMPTFOO_DISABLE_REMOTE_GENERATION="true",
        PROMPTFOO_DISABLE_RUNTIME_WARNINGS="1",
        OPENAI_API_KEY="unused",
        NO_PROXY="127.0.0.1",
    )
    cmd = [f"{PEERS}/node_modules/.bin/promptfoo", "eval", "-c", config, "--max-concurrency", str(concurrency), "--no-cache"]
    return cmd + ["--no-progress-bar", "--no-table", "-o", os.path.join(scratch, "out.json")], env


PROMPTFOO_CONVERSATION = (
    "promptfoo's simulated user (promptfoo:simulated-user) asks promptfoo's hosted generation service for every patient "
    "turn, so it does not run offline; its offline `_conversation` mode replays scripted turns one test at a time"
)

TOOLS = {"benchcards": benchcards, "lm-eval": lm_eval, "inspect-ai": inspect_ai, "promptfoo": promptfoo}
WORKLOADS = {"single": 2000, "conversation": 200}


def peers(reps, tools, concurrencies):
    results = []
    for kind, n in WORKLOADS.items():
        for concurrency in concurrencies:
            for tool in tools:
                runs = []
                for rep in range(reps):
                    scratch = os.path.join(WORK, "scratch", tool, f"{kind}-{concurrency}-{rep}")
                    shutil.rmtree(scratch, ignore_errors=True)
                    os.makedirs(scratch)
                    mock = Mock()
                    try:
                        made = TOOLS[tool](kind, n, concurrency, mock.base_url, scratch)
                    except Unsupported as e:
                        mock.stop()
                        print(f"{tool} {kind}: not supported: {e}", file=sys.stderr)
                        results.append({"tool": tool, "workload": kind, "items": n, "concurrency": concurrency, "unsupported": str(e)})
                        break
                    cmd, env = made
                    r = measure(cmd, env=env, cwd=scratch)
                    r["requests"], r["busy_s"] = mock.stop()
                    print(f"{tool} {kind} c={concurrency} rep {rep + 1}: {r['wall_s']:.2f} s, {r['cpu_s']:.2f} s CPU, {r['rss_mb']:.0f} MB, {r['requests']} requests, rc {r['rc']}", file=sys.stderr)
                    if r["rc"] != 0:
                        raise SystemExit(f"{tool} failed ({' '.join(cmd)}):\n{r['stderr']}")
                    runs.append(r)
                if runs:
                    results.append({"tool": tool, "workload": kind, "items": n, "concurrency": concurrency, **median_row(runs)})
    return results


class Unsupported(Exception):
    """The tool has no equivalent of this workload (the message says why)."""


def version(tool):
    probes = {
        "benchcards": [f"{BIN}/benchcards", "--version"],
        "lm-eval": [f"{PEERS}/venv/bin/python", "-c", "import importlib.metadata as m; print(m.version('lm_eval'))"],
        "inspect-ai": [f"{PEERS}/venv/bin/python", "-c", "import importlib.metadata as m; print(m.version('inspect_ai'))"],
        "promptfoo": ["node", "-p", f"require('{PEERS}/node_modules/promptfoo/package.json').version"],
    }
    out = subprocess.run(probes[tool], capture_output=True, text=True).stdout.strip()
    return out.split()[-1] if out else "?"


def copies(folder, n):
    """n cards in a folder: the bundled registry's cards over and over, each under its own id."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    cards = sorted(f for f in os.listdir(os.path.join(ROOT, "registry")) if f.endswith(".yaml"))
    texts = [open(os.path.join(ROOT, "registry", c)).read() for c in cards]
    for i in range(n):
        text = texts[i % len(texts)]
        text = re.sub(r"^(  id: )(\S+)", lambda m: f"{m.group(1)}{m.group(2)}-{i}", text, count=1, flags=re.M)
        with open(os.path.join(folder, f"card-{i:05d}.yaml"), "w") as f:
            f.write(text)
    return [os.path.join(folder, f"card-{i:05d}.yaml") for i in range(n)]


def shown(cmd):
    """A command as the table shows it: paths inside the project relative to it."""
    return " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd)


def timed(name, cmd, reps, what, command=None):
    runs = [measure(cmd) for _ in range(reps)]
    bad = [r for r in runs if r["rc"] != 0]
    if bad:
        raise SystemExit(f"{name} failed ({' '.join(cmd[:6])} ...):\n{bad[0]['stderr']}")
    print(f"{name}: {[round(r['wall_s'], 3) for r in runs]} s", file=sys.stderr)
    return {"name": name, "what": what, "command": command or shown(cmd), **{k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "rss_mb")}, "runs": len(runs)}


def cli(reps):
    bc = f"{BIN}/benchcards"
    deployment = os.path.join(ROOT, "examples", "deployments", "patient-symptom-chatbot.yaml")
    rows = [timed("start-up", [bc, "--version"], max(reps, 10), "`benchcards --version`")]
    files = copies(os.path.join(WORK, "cards-1000"), 1000)
    rows.append(timed("check 1,000 cards", [bc, "check", *files], reps, "one process validates 1,000 card files", "target/release/benchcards check target/bench/cards-1000/*.yaml"))
    copies(os.path.join(WORK, "cards-10000"), 10000)
    rows.append(timed("match over 10,000 cards (parsing included)", [bc, "match", deployment, "--registry", os.path.join(WORK, "cards-10000"), "--top", "5"], reps, "reads, validates and ranks 10,000 card files"))
    out = subprocess.run([f"{BIN}/examples/match_bench", os.path.join(WORK, "cards-10000"), deployment, "7"], capture_output=True, text=True, check=True).stdout
    m = json.loads(out)
    rows.append({"name": "match over 10,000 parsed cards", "what": f"ranking only, median of {len(m['rank_runs'])} in one process (parsing took {m['parse_s']:.2f} s)", "command": "target/release/examples/match_bench target/bench/cards-10000 DEPLOYMENT 7", "wall_s": m["rank_median_s"], "cpu_s": None, "rss_mb": None, "runs": len(m["rank_runs"])})
    scratch = os.path.join(WORK, "scratch", "resume")
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    runs = []
    for rep in range(reps):
        mock = Mock()
        plan = workload.write_benchcards(scratch, 10000, False, ROOT, mock.base_url)
        store = os.path.join(scratch, f"runs-{rep}.sqlite")
        r = measure([bc, "run", plan, "--store", store, "--concurrency", "256"])
        served, busy = mock.stop()
        if r["rc"] != 0 or served != 10000:
            raise SystemExit(f"the 10,000-sample run failed (server saw {served} requests):\n{r['stderr']}")
        runs.append(r | {"served_per_s": served / busy, "run_id": r["stdout"].split()[0]})
    print(f"10,000-sample run: {[round(r['wall_s'], 2) for r in runs]} s, {[round(r['served_per_s']) for r in runs]} served/s", file=sys.stderr)
    pace = statistics.median(r["served_per_s"] for r in runs)
    rows.append({
        "name": "10,000-sample run over HTTP",
        "what": f"concurrency 256, {LATENCY_MS} ms server latency: the server kept busy at {pace:.0f} requests/s (median; {100 * pace / (256 * 1000 / LATENCY_MS):.1f}% of 256 slots of {LATENCY_MS} ms)",
        "command": shown([bc, "run", plan, "--store", store, "--concurrency", "256"]),
        **{k: statistics.median(r[k] for r in runs) for k in ("wall_s", "cpu_s", "rss_mb")},
        "runs": len(runs),
    })
    run_id = runs[-1]["run_id"]
    rows.append(timed("resume a finished 10,000-sample run", [bc, "run", plan, "--store", store, "--resume", run_id], reps, "every sample already in the store: nothing sent"))
    rows.append(timed("re-run 10,000 samples from the cache", [bc, "run", plan, "--store", store], reps, "a new run whose every request is in the response cache"))
    return rows


def render_cli(rows):
    lines = [
        f"Machine: {machine()}.",
        "",
        "| measurement | what | wall s (median) | runs | CPU s | peak RSS MB | command |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cpu = f"{r['cpu_s']:.3f}" if r["cpu_s"] is not None else "–"
        rss = f"{r['rss_mb']:.0f}" if r["rss_mb"] is not None else "–"
        lines.append(f"| {r['name']} | {r['what']} | {r['wall_s']:.3f} | {r['runs']} | {cpu} | {rss} | `{r['command']}` |")
    return "\n".join(lines) + "\n"


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def render_peers(results, versions):
    lines = [
        f"Machine: {machine()}. Server: `benchcards-mock`, {LATENCY_MS} ms per request, on 127.0.0.1.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "",
        "Each figure is the median of the runs shown; wall time, CPU (user + system) and peak RSS are of the whole",
        "process, start-up included; requests are those the server counted; requests/s = requests ÷ wall time;",
        "served/s = requests ÷ the server's time from the first request to the last reply (the harness's pace, start-up excluded).",
        "",
    ]
    for kind, n in WORKLOADS.items():
        title = f"{n} single-turn items" if kind == "single" else f"{n} conversations of 6 assistant turns with a simulated patient"
        lines += [f"### {title}", "", "| tool | concurrency | wall s (median) | runs (s) | requests | requests/s | served/s | CPU ms / request | peak RSS MB | wall ÷ benchcards |", "|---|---|---|---|---|---|---|---|---|---|"]
        for c in sorted({r["concurrency"] for r in results}):
            rows = [r for r in results if r["workload"] == kind and r["concurrency"] == c]
            ours = next((r for r in rows if r["tool"] == "benchcards"), None)
            for r in rows:
                if "unsupported" in r:
                    lines.append(f"| {r['tool']} | {c} | not supported: {r['unsupported']} | | | | | | | |")
                    continue
                ratio = f"{r['wall_s'] / ours['wall_s']:.1f}×" if ours else "–"
                lines.append(
                    f"| {r['tool']} | {c} | {r['wall_s']:.2f} | {', '.join(map(str, r['walls']))} | {r['requests']:.0f} | "
                    f"{r['requests'] / r['wall_s']:.0f} | {r['requests'] / r['busy_s']:.0f} | {1000 * r['cpu_s'] / max(r['requests'], 1):.2f} | {r['rss_mb']:.0f} | {ratio} |"
                )
        lines.append("")
    return "\n".join(lines)


def write_section(name, text):
    path = os.path.join(ROOT, "bench", "RESULTS.md")
    with open(path) as f:
        doc = f.read()
    begin, end = f"<!-- {name}: written by bench/bench.py -->", f"<!-- /{name} -->"
    block = f"{begin}\n{text}\n{end}"
    if begin in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(doc)


def main():
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("section", choices=["peers", "cli"])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--concurrency", default="64,256")
    ap.add_argument("--render-only", action="store_true", help="rewrite the peers table from the last run's target/bench/peers.json")
    a = ap.parse_args()
    os.makedirs(WORK, exist_ok=True)
    saved = os.path.join(WORK, "peers.json")
    if a.section == "peers":
        tools = a.tools.split(",")
        if a.render_only:
            with open(saved) as f:
                results = json.load(f)
        else:
            results = peers(a.reps, tools, [int(c) for c in a.concurrency.split(",")])
            with open(saved, "w") as f:
                json.dump(results, f, indent=1)
        write_section("peers", render_peers(results, {t: version(t) for t in tools}))
    else:
        write_section("cli", render_cli(cli(a.reps)))


if __name__ == "__main__":
    main()
