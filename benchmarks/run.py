"""Measures what users feel (start-up, checking, training, memory) on this machine, against budgets.

    python benchmarks/run.py            a readable table; exit 1 if a budget is missed
    python benchmarks/run.py --json     the same, and the last line is one JSON object
    python benchmarks/run.py --quick    every measure once, budgets shown but not enforced (CI runs
                                        this, so a change that breaks the benchmark fails there)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUDGETS = {  # key: (limit, "<=")
    "first_paint_over_torch_import": 0.5,
    "check_p99_ms": 20.0,
    "first_wrong_check_p99_ms": 50.0,  # the first wrong answer of a step computes its mistake candidates
    "rss_over_baseline": 1.25,
    "train_and_plot_ms": 650.0,  # TRAIN_STEPS or a few more, as F7's doublings reach them
    "real_layers_solve_ms": 1000.0,
    "real_layers_rss_mb": 300.0,
    "check_and_save_sqlite_p50_ms": 50.0,
    "check_and_save_postgres_p50_ms": 50.0,
}
START_LESSON = "sine-neuron"
TRAIN_LESSON = "three-layer-softmax"  # the biggest graph
TRAIN_STEPS = 500  # F7 doubles the lesson's 40 steps until at least this many (640)
REPEATS = 5  # start-up times on a shared machine spread; the median of five is steady
QUICK = {"repeats": 1, "warm_rounds": 1, "drill_seeds": 1, "save_rounds": 5}
FULL = {"repeats": REPEATS, "warm_rounds": 5, "drill_seeds": 10, "save_rounds": 40}


# ---- probes: each runs in a fresh process and prints one JSON line ------------------------

def probe_import_torch() -> dict:
    import torch  # noqa: F401

    return {"done": time.time()}


def probe_baseline_rss() -> dict:
    import textual.app  # noqa: F401
    import torch  # noqa: F401

    return {"rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


async def _open_app(lesson_id: str):
    from tutor.app.app import TutorApp
    from tutor.core.lesson.catalog import Catalog

    catalog = Catalog.load()
    return TutorApp(catalog, start=catalog.find(lesson_id))


async def _until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.002)


def _first_answer_keys(lesson) -> list[str]:
    """The keys a learner presses to answer the lesson's first step at once, as a learner would.

    A graph step gets the lesson's own graph, line by line, checked with F9 (Enter adds a line);
    a value step gets a number (right or wrong, either is a checked attempt).
    """
    from tutor.core.lesson.graph_ask import graph_target
    from tutor.core.lesson.graph_ops import expected_graph
    from tutor.core.vocabulary import Kind

    step = lesson.steps[0]
    if step.kind == Kind.GRAPH:
        text = expected_graph(lesson, graph_target(step))
        keys = ["enter" if ch == "\n" else "space" if ch == " " else ch for ch in text]
        return [*keys, "f9"]
    return ["1", "enter"]


async def probe_first_verdict() -> dict:
    app = await _open_app(START_LESSON)
    keys = _first_answer_keys(app.catalog.lesson(START_LESSON))
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(lambda: app.started_ms is not None)
        painted = time.time()
        await pilot.press(*keys)  # the first step's answer, typed at once
        await _until(lambda: bool(app.store.attempts()))
        return {"painted": painted, "verdict": time.time(), "app_started_ms": app.started_ms,
                "torch_ready_at_paint": False}


async def probe_train_and_rss() -> dict:
    """The loss plot as a learner opens it (F5), then doubles its steps (F7) to TRAIN_STEPS or more."""
    from textual.widgets import Static

    from tutor.app.screens.train import TrainScreen

    app = await _open_app(TRAIN_LESSON)
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(lambda: app.torch_state == "ready")
        await pilot.press("f5")
        await _until(lambda: isinstance(app.screen, TrainScreen))
        screen = app.screen
        status = screen.query_one("#status-line", Static)

        def drawn() -> bool:
            return bool(str(status.render())) and not str(status.render()).startswith("Running")

        await _until(drawn)
        elapsed_ms = 0.0
        while screen.steps < TRAIN_STEPS:
            started = time.perf_counter()
            await pilot.press("f7")
            await pilot.pause()
            await _until(drawn)
            elapsed_ms = (time.perf_counter() - started) * 1000
        await pilot.pause()
        text = str(status.render())
    return {"train_ms": elapsed_ms, "steps": screen.steps, "status": text,
            "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def probe_real_layers() -> dict:
    """AlexNet conv1 and a VGG-16 3x3 layer at full size: shape, weights, FLOPs, bytes (torch warm)."""
    from tutor.core.check.step import solve
    from tutor.core.lesson.load import load_lesson, parse_lesson

    solve(parse_lesson('[given]\nx = [1, 2]\n[[steps]]\nid = "s"\nask = "conv1d(x, x)"\n'))  # loads torch's meta shapes
    real = [load_lesson(path) for path in sorted((ROOT / "lessons" / "real-networks").glob("*.toml"))]
    started = time.perf_counter()
    for lesson in real:  # the built-in lessons a learner opens: AlexNet conv1 and a VGG-16 layer
        results, errors = solve(lesson)
        assert not errors, errors
    solve_ms = (time.perf_counter() - started) * 1000
    # VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's size at fork
    with open("/proc/self/status") as status:
        rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    mazur = load_lesson(ROOT / "lessons" / "backprop" / "mazur-2-2-2-network.toml")
    from tutor.core.evaluate.live import LiveLesson
    from tutor.core.expr.syntax import parse_expr

    started = time.perf_counter()
    LiveLesson(mazur).evaluate(parse_expr("sgd(E_total, eta, steps=10000)"))
    return {"solve_ms": solve_ms, "rss_kb": rss_kb,
            "mazur_s": time.perf_counter() - started}


PROBES = {"real_layers": probe_real_layers, "import_torch": probe_import_torch, "baseline_rss": probe_baseline_rss,
          "first_verdict": probe_first_verdict, "train_and_rss": probe_train_and_rss}


def run_probe(name: str) -> dict:
    """Runs a probe in a fresh interpreter; adds the wall time it was spawned at."""
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "TUTOR_DATA_DIR": data, "TUTOR_LESSONS": ""}
        spawned = time.time()
        out = subprocess.run([sys.executable, __file__, "--probe", name], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=300)
        ended = time.time()
    if out.returncode != 0:
        raise RuntimeError(f"probe {name} failed:\n{out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return {**result, "spawned": spawned, "ended": ended}


# ---- in-process measurements ------------------------------------------------------------

def answer_text(expected) -> str:
    """The expected value typed in full precision, as a learner's correct answer."""
    from tutor.core.vocabulary import Kind

    if expected.kind == Kind.SHAPE:
        return "x".join(str(v) for v in expected.value) or "1"
    if expected.kind == Kind.INTEGER:
        return str(expected.value)
    if expected.kind == Kind.GRAPH:
        return expected.value  # the lesson's own graph text
    return json.dumps(expected.value)


def wrong_text(expected) -> str:
    from tutor.core.vocabulary import Kind

    if expected.kind == Kind.SHAPE:
        return "x".join(str(v + 1) for v in expected.value) or "2"
    if expected.kind == Kind.INTEGER:
        return str(expected.value + 1)
    if expected.kind == Kind.GRAPH:
        return "y = 1"
    return json.dumps(_bump(expected.value))


def _bump(v):
    return [_bump(i) for i in v] if isinstance(v, list) else v + 1.5


def measure_checks(warm_rounds: int) -> dict:
    from tutor.core.check.step import checker_for
    from tutor.core.evaluate.live import LiveLesson
    from tutor.core.lesson.catalog import Catalog

    lessons = [e.lesson for e in Catalog.load().entries if e.lesson]
    cases = []
    for lesson in lessons:
        live = LiveLesson(lesson)
        for step in lesson.steps:
            exp = live.expected(step.id)
            cases += [(live, step.id, answer_text(exp)), (live, step.id, wrong_text(exp))]
    first, first_wrong = [], []
    for index, (live, sid, text) in enumerate(cases):  # cold: the first wrong answer computes its named mistakes
        t = time.perf_counter()
        checker_for(live).check(sid, text)
        first.append((time.perf_counter() - t) * 1000)
        if index % 2:
            first_wrong.append(first[-1])
    first_wrong.sort()
    warm = []
    for _ in range(warm_rounds):
        for live, sid, text in cases:
            t = time.perf_counter()
            checker_for(live).check(sid, text)
            warm.append((time.perf_counter() - t) * 1000)
    warm.sort()
    return {"check_p50_ms": statistics.median(warm), "check_p99_ms": warm[int(len(warm) * 0.99) - 1],
            "first_check_max_ms": max(first), "checks_measured": len(warm),
            "first_wrong_check_p99_ms": first_wrong[max(0, int(len(first_wrong) * 0.99) - 1)]}


def measure_validate_and_drills(drill_seeds: int) -> dict:
    from tutor.cli.lesson_commands import validate_paths
    from tutor.core.check.step import solve
    from tutor.core.drill.variants import resolve_topic, variant
    from tutor.core.lesson.catalog import BUILTIN_DIR, Catalog

    validate_paths([BUILTIN_DIR])  # warm
    t = time.perf_counter()
    problems, files, _ = validate_paths([BUILTIN_DIR])
    validate_ms = (time.perf_counter() - t) * 1000
    catalog = Catalog.load()
    topics = sorted({e.topic for e in catalog.entries if e.lesson and e.lesson.drill})
    count, t = 0, time.perf_counter()
    for seed in range(drill_seeds):
        for topic in topics:
            results, errors = solve(variant(resolve_topic(catalog, topic), seed))
            assert not errors
            count += 1
    per_s = count / (time.perf_counter() - t)
    return {"validate_all_lessons_ms": validate_ms, "lessons_validated": files,
            "lesson_problems": len(problems), "drill_variants_per_s": per_s}


def _check_and_save(open_store, rounds: int = 40) -> float:
    """Median ms from a typed answer to its attempt committed to the database."""
    from tutor.core.check.step import checker_for
    from tutor.core.evaluate.live import LiveLesson
    from tutor.core.lesson.catalog import Catalog
    from tutor.core.progress.skills import skills_for

    lesson = Catalog.load().lesson(START_LESSON)
    live, step = LiveLesson(lesson), lesson.steps[0]
    text = answer_text(live.expected(step.id))
    checker_for(live).check(step.id, text)  # warm
    times = []
    with open_store() as store:
        for _ in range(rounds):
            t = time.perf_counter()
            verdict = checker_for(live).check(step.id, text)
            store.record_attempt(lesson.id, step.id, text, verdict.status, verdict.message,
                                 topic=lesson.topic, step_kind=step.kind,
                                 skills=skills_for(lesson, step))
            assert store.flush(timeout=30)  # committed, not only queued
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure_check_and_save(rounds: int) -> dict:
    """The same check and save with the learner's SQLite file and with a class on PostgreSQL."""
    from tutor.core.progress.store import ProgressStore

    with tempfile.TemporaryDirectory() as folder:
        results = {"check_and_save_sqlite_p50_ms": _check_and_save(lambda: ProgressStore.open(Path(folder)),
                                                                       rounds)}
    from tests.class_db.pg_server import STUDENTS, throwaway_server, why_not

    reason = why_not()
    if reason:
        print(f"PostgreSQL check-and-save not measured: {reason}", file=sys.stderr)
        return results
    with throwaway_server() as server:
        url = server.url(STUDENTS[0])
        results["check_and_save_postgres_p50_ms"] = _check_and_save(lambda: ProgressStore.open(database=url), rounds)
    return results


# ---- the report -------------------------------------------------------------------------

def measure(plan: dict) -> dict:
    repeats = plan["repeats"]
    torch_import = statistics.median(
        r["ended"] - r["spawned"] for r in (run_probe("import_torch") for _ in range(repeats)))
    verdicts = [run_probe("first_verdict") for _ in range(repeats)]
    paint = statistics.median(v["painted"] - v["spawned"] for v in verdicts)
    verdict = statistics.median(v["verdict"] - v["spawned"] for v in verdicts)
    baseline = max(run_probe("baseline_rss")["rss_kb"] for _ in range(repeats))
    trains = [run_probe("train_and_rss") for _ in range(repeats)]
    results = {
        "torch_import_s": torch_import,
        "first_paint_s": paint,
        "first_paint_over_torch_import": paint / torch_import,
        "first_verdict_s": verdict,
        "train_and_plot_ms": statistics.median(t["train_ms"] for t in trains),
        "train_steps": trains[0]["steps"],
        "rss_mb": max(t["rss_kb"] for t in trains) / 1024,
        "baseline_rss_mb": baseline / 1024,
        "rss_over_baseline": max(t["rss_kb"] for t in trains) / baseline,
    }
    real = [run_probe("real_layers") for _ in range(repeats)]
    results["real_layers_solve_ms"] = statistics.median(r["solve_ms"] for r in real)
    results["real_layers_rss_mb"] = max(r["rss_kb"] for r in real) / 1024
    results["mazur_10000_sgd_steps_s"] = statistics.median(r["mazur_s"] for r in real)
    results.update(measure_checks(plan["warm_rounds"]))
    results.update(measure_validate_and_drills(plan["drill_seeds"]))
    results.update(measure_check_and_save(plan["save_rounds"]))
    return results


def machine() -> str:
    import torch

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{platform.machine()}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def report(results: dict) -> tuple[str, bool]:
    rows, ok = [], True
    for key, value in results.items():
        limit = BUDGETS.get(key)
        verdict = ""
        if limit is not None:
            passed = value <= limit
            ok &= passed
            verdict = f"{'ok' if passed else 'OVER'} (budget <= {limit:g})"
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        rows.append(f"| {key} | {shown} | {verdict} |")
    head = f"Machine: {machine()}\n\n| measure | value | budget |\n|---|---|---|"
    return head + "\n" + "\n".join(rows), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="end with one JSON line of every measure")
    parser.add_argument("--quick", action="store_true",
                        help="every measure once, budgets shown but not enforced (for CI)")
    parser.add_argument("--probe", choices=sorted(PROBES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe = PROBES[args.probe]
        result = asyncio.run(probe()) if asyncio.iscoroutinefunction(probe) else probe()
        print(json.dumps(result))
        return 0
    results = measure(QUICK if args.quick else FULL)
    table, ok = report(results)
    print(table)
    if args.json:
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in results.items()}))
    if args.quick:
        return 0  # one repeat on a shared CI machine measures its load, not the tutor: nothing to enforce
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
