"""Benchmark: what the construct costs at synth and deploy, side by side with two hand-written peers.

One run measures everything, interleaving the configurations so that machine noise
falls on all of them alike:

* median wall time, CPU time (the process tree's user + system) and peak memory (Python + the
  jsii Node process) of ``app.synth()`` for an empty stack and 1, 10 and 40 jobs, with the library
  (its default configuration, and shared key, buckets and role), with the **feature-equal peer**
  (the default job written with plain aws-cdk-lib, ``bench/PEER.md``) and with the simpler
  **baseline** (no topic policies, notifications, holding queue or access logs);
* CloudFormation resources per job and the fixed per-stack overhead;
* bytes of assets a deploy uploads;
* the handler's cold import time.

Each synthesis is a fresh process. Python bytecode is cached in a scratch folder and every variant is
synthesized once before the timed rounds, so that the figures are those of an installed package
(compiled at install) with warm file caches, whatever ``PYTHONDONTWRITEBYTECODE`` says.

Usage: ``make bench`` (or ``python bench/run.py --repeats 5 [--markdown bench/RESULTS.md]``).
Prints a Markdown table, then each round's default / peer ratios (the noise).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: The table's columns, in order: the library's default configuration, the library with shared
#: resources, the feature-equal peer, the simpler baseline.
VARIANTS = ("library", "library-shared", "peer", "baseline")
#: 40 jobs that each bring their own key, buckets and role exceed CloudFormation's 500 resources
#: (aws-cdk-lib refuses to synthesize them), so those variants stop at 10 jobs.
TOO_MANY_AT_40 = ("library", "peer")
CONFIGS: List[Tuple[str, int]] = [("empty", 0)] + [
    (variant, jobs)
    for jobs in (1, 10, 40)
    for variant in VARIANTS
    if not (variant in TOO_MANY_AT_40 and jobs == 40)
]


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(child) for child in children)
        except (FileNotFoundError, ProcessLookupError, StopIteration, PermissionError):
            continue
    return total


@dataclass(frozen=True)
class Sample:
    """One measured subprocess: wall and CPU seconds (the whole process tree), peak tree memory."""

    wall: float
    cpu: float
    peak_mib: int
    code: int
    errors: str


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_sample(command: List[str], env: Dict[str, str]) -> Sample:
    """Run ``command``: wall and CPU seconds, peak tree memory (MiB, sampled every 20 ms), exit code, stderr.

    CPU time is what the finished child and the descendants it waited for (jsii's Node process) used;
    other processes on the machine lengthen it less than they lengthen wall time. One measured child
    at a time.
    """
    cpu_before = _children_cpu()
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kib(process.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, errors = process.communicate()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    return Sample(wall=elapsed, cpu=_children_cpu() - cpu_before, peak_mib=peak // 1024, code=process.returncode,
                  errors=errors)


def run_measured(command: List[str], env: Dict[str, str]) -> Tuple[float, int, int, str]:
    """Run ``command``: wall seconds, peak tree memory (MiB, sampled every 20 ms), exit code, stderr."""
    result = run_sample(command, env)
    return result.wall, result.peak_mib, result.code, result.errors


def synth_env(pycache: Optional[str] = None) -> Dict[str, str]:
    """The children's environment: Node 22 of node_modules first; bytecode cached under ``pycache``."""
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def measure(variant: str, jobs: int, outdir: str, env: Optional[Dict[str, str]] = None) -> Sample:
    """One synthesis in a fresh process."""
    result = run_sample([sys.executable, str(HERE / "synth_once.py"), variant, str(jobs), outdir],
                        env if env is not None else synth_env())
    if result.code != 0:
        raise SystemExit(f"synthesis of {variant} with {jobs} jobs failed ({result.code}): {result.errors}")
    return result


def template_resources(outdir: str) -> int:
    template = json.loads((Path(outdir) / "Bench.template.json").read_text())
    skip = {"AWS::CDK::Metadata", "AWS::CloudFormation::WaitConditionHandle"}
    return sum(1 for r in template.get("Resources", {}).values() if r["Type"] not in skip)


def asset_bytes(outdir: str) -> int:
    """Bytes a deploy uploads for file assets: each asset folder zipped, as the CLI does."""
    manifest = json.loads((Path(outdir) / "Bench.assets.json").read_text())
    total = 0
    for asset in manifest.get("files", {}).values():
        path = Path(outdir) / asset["source"]["path"]
        if path.suffix == ".json" and path.is_file():
            continue  # the template itself
        if path.is_dir():
            buffer = BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for file in sorted(path.rglob("*")):
                    if file.is_file():
                        archive.write(file, file.relative_to(path))
            total += len(buffer.getvalue())
        elif path.is_file():
            total += path.stat().st_size
    return total


def handler_import_ms(repeats: int) -> float:
    """Cold import of the handler module (boto3 included) in a fresh interpreter."""
    handler_dir = ROOT / "constructs" / "streaming_labeling" / "handler"
    code = "import time; t=time.perf_counter(); import index; print((time.perf_counter()-t)*1000)"
    samples = [
        float(subprocess.run([sys.executable, "-c", code], cwd=handler_dir, capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}).stdout)
        for _ in range(repeats)
    ]
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the table (with the machine, date and command) to this file")
    args = parser.parse_args()
    walls: Dict[Tuple[str, int], List[float]] = {config: [] for config in CONFIGS}
    cpus: Dict[Tuple[str, int], List[float]] = {config: [] for config in CONFIGS}
    memory: Dict[Tuple[str, int], List[int]] = {config: [] for config in CONFIGS}
    resources: Dict[Tuple[str, int], int] = {}
    assets: Dict[Tuple[str, int], int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        env = synth_env(pycache=os.path.join(scratch, "pycache"))
        for variant in VARIANTS:  # bytecode compiled, files cached: not timed
            measure(variant, 1, os.path.join(scratch, f"warmup-{variant}"), env)
        for repeat in range(args.repeats):
            order = CONFIGS if repeat % 2 == 0 else list(reversed(CONFIGS))
            for variant, jobs in order:
                outdir = os.path.join(scratch, f"{variant}-{jobs}-{repeat}")
                result = measure(variant, jobs, outdir, env)
                walls[(variant, jobs)].append(result.wall)
                cpus[(variant, jobs)].append(result.cpu)
                memory[(variant, jobs)].append(result.peak_mib)
                resources[(variant, jobs)] = template_resources(outdir)
                assets[(variant, jobs)] = asset_bytes(outdir)
                print(f"  run {repeat + 1}/{args.repeats} {variant:>14} x{jobs:<2} {result.wall:5.2f} s wall "
                      f"{result.cpu:5.2f} s CPU {result.peak_mib:5d} MiB", file=sys.stderr)
    lines = table(args.repeats, walls, cpus, memory, resources, assets, handler_import_ms(args.repeats))
    print("\n".join(lines))
    if args.markdown is not None:
        args.markdown.write_text("\n".join(lines) + "\n")


Series = Dict[Tuple[str, int], List[float]]


def first_job(series: Series, variant: str, index: Optional[int] = None) -> float:
    """The first job's cost: 1 job less the empty stack (medians, or round ``index``)."""
    pick = statistics.median if index is None else (lambda values: values[index])
    return pick(series[(variant, 1)]) - pick(series[("empty", 0)])


def further_job(series: Series, variant: str, last: int = 10, index: Optional[int] = None) -> Optional[float]:
    """Each job after the first, over 1 -> ``last`` jobs (the same span for every variant)."""
    if (variant, last) not in series:
        return None
    pick = statistics.median if index is None else (lambda values: values[index])
    return (pick(series[(variant, last)]) - pick(series[(variant, 1)])) / (last - 1)


def ratio(value: Optional[float], base: Optional[float], digits: int = 2) -> str:
    if value is None or base is None or base == 0:
        return "-"
    return f"{value / base:.{digits}f}"


def table(repeats: int, walls: Series, cpus: Series, memory: Dict[Tuple[str, int], List[int]],
          resources: Dict[Tuple[str, int], int], assets: Dict[Tuple[str, int], int],
          handler_ms: float) -> List[str]:
    """The Markdown table: one column per variant, then default / peer, default / baseline, shared / baseline."""
    out: List[str] = []

    def row(measure: str, cells: Sequence[Optional[float]], fmt: str, missing: str = "-",
            ratios: bool = True, bold: bool = False) -> None:
        shown = [fmt.format(c) if c is not None else missing for c in cells]
        own, shared, peer, base = cells
        tail = [ratio(own, peer), ratio(own, base), ratio(shared, base)] if ratios else ["-", "-", "-"]
        if bold and tail[0] != "-":
            tail[0] = f"**{tail[0]}**"
        out.append(f"| {measure} | " + " | ".join(shown + tail) + " |")

    out.append(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
               f"{time.strftime('%Y-%m-%d')}; median of {repeats} interleaved runs; command: "
               f"`python bench/run.py --repeats {repeats}`")
    out.append("")
    out.append("| measure | library default (own key, buckets, role per job) | library, shared key, buckets, role "
               "| peer: the default written with plain aws-cdk-lib (feature-equal) "
               "| baseline: simpler hand-written job | default / peer | default / baseline | shared / baseline |")
    out.append("|---|---|---|---|---|---|---|---|")
    empty = statistics.median(walls[("empty", 0)])
    row("synth, empty stack (wall)", [empty] * 4, "{:.2f} s")
    for jobs in (1, 10, 40):
        cells = [statistics.median(walls[(v, jobs)]) if (v, jobs) in walls else None for v in VARIANTS]
        row(f"synth, {jobs} job{'s' if jobs > 1 else ''} (wall)", cells, "{:.2f} s", missing="exceeds 500 resources")
    for label, series in (("wall", walls), ("CPU", cpus)):
        row(f"synth overhead of the first job ({label})", [first_job(series, v) for v in VARIANTS], "{:.2f} s",
            bold=True)
        row(f"synth cost of each further job, 1 -> 10 jobs ({label})", [further_job(series, v) for v in VARIANTS],
            "{:.3f} s", bold=True)
    row("synth cost of each further job, 1 -> 40 jobs (wall)", [further_job(walls, v, 40) for v in VARIANTS],
        "{:.3f} s", missing="exceeds 500 resources")
    for jobs in (1, 10):
        peaks = [float(statistics.median(memory[(v, jobs)])) for v in VARIANTS]
        row(f"peak memory, {jobs} job{'s' if jobs > 1 else ''}", peaks, "{:.0f} MiB")

    def per_job(v: str) -> float:
        return (resources[(v, 10)] - resources[(v, 1)]) / 9

    def fixed(v: str) -> float:
        return resources[(v, 1)] - per_job(v)

    row("CloudFormation resources per job", [per_job(v) for v in VARIANTS], "{:.2f}")
    row("fixed resources per stack", [fixed(v) for v in VARIANTS], "{:.1f}", ratios=False)
    totals = [float(resources[(v, 40)]) if (v, 40) in resources else round(fixed(v) + 40 * per_job(v))
              for v in VARIANTS]
    shown = [f"{t:.0f}{' (too many)' if t > 500 else ''}" for t in totals]
    out.append(f"| resources with 40 jobs (limit 500) | {' | '.join(shown)} | {ratio(totals[0], totals[2])} "
               f"| {ratio(totals[0], totals[3])} | {ratio(totals[1], totals[3])} |")
    row("asset bytes a deploy uploads", [float(assets[(v, 1)]) for v in VARIANTS], "{:,.0f}")
    out.append(f"| handler cold import (boto3 included) | {handler_ms:.0f} ms | same "
               "| SDK for JavaScript v3, provided by the Lambda runtime | same | - | - | - |")
    out.append("")
    out.append("Each round's default / peer ratio (one interleaved pass over every configuration), "
               "median [lowest - highest]:")
    out.append("")
    for label, series in (("wall", walls), ("CPU", cpus)):
        for what, compute in (("first job", first_job), ("each further job", further_job)):
            rounds = []
            for index in range(repeats):
                own, peer = compute(series, "library", index=index), compute(series, "peer", index=index)
                if own is not None and peer:
                    rounds.append(own / peer)
            if rounds:
                out.append(f"- {what} ({label}): {statistics.median(rounds):.2f} "
                           f"[{min(rounds):.2f} - {max(rounds):.2f}]")
    return out


if __name__ == "__main__":
    main()
