"""Benchmark: what the construct costs at synth and deploy, side by side with the hand-written baseline.

One run measures everything, interleaving the configurations so that machine noise
falls on all of them alike:

* median wall time and peak memory (Python + the jsii Node process) of ``app.synth()``
  for an empty stack and 1, 10 and 40 jobs, with the library and with the baseline;
* CloudFormation resources per job and the fixed per-stack overhead;
* bytes of assets a deploy uploads;
* the handler's cold import time.

Usage: ``make bench`` (or ``python bench/run.py --repeats 5``). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: 40 jobs that each bring their own key, buckets and role exceed CloudFormation's 500 resources
#: (aws-cdk-lib refuses to synthesize them), so that variant stops at 10 jobs.
CONFIGS: List[Tuple[str, int]] = [("empty", 0)] + [
    (variant, jobs)
    for jobs in (1, 10, 40)
    for variant in ("library", "library-shared", "baseline")
    if not (variant == "library" and jobs == 40)
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


def run_measured(command: List[str], env: Dict[str, str]) -> Tuple[float, int, int, str]:
    """Run ``command``: wall seconds, peak tree memory (MiB, sampled every 20 ms), exit code, stderr."""
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
    return elapsed, peak // 1024, process.returncode, errors


def measure(variant: str, jobs: int, outdir: str) -> Tuple[float, int]:
    """Wall seconds and peak tree memory (MiB) of one synthesis in a fresh process."""
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    elapsed, peak, code, _ = run_measured([sys.executable, str(HERE / "synth_once.py"), variant, str(jobs), outdir],
                                          env)
    if code != 0:
        raise SystemExit(f"synthesis of {variant} with {jobs} jobs failed ({code})")
    return elapsed, peak


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
    args = parser.parse_args()
    times: Dict[Tuple[str, int], List[float]] = {config: [] for config in CONFIGS}
    memory: Dict[Tuple[str, int], List[int]] = {config: [] for config in CONFIGS}
    resources: Dict[Tuple[str, int], int] = {}
    assets: Dict[Tuple[str, int], int] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            order = CONFIGS if repeat % 2 == 0 else list(reversed(CONFIGS))
            for variant, jobs in order:
                outdir = os.path.join(scratch, f"{variant}-{jobs}-{repeat}")
                seconds, mib = measure(variant, jobs, outdir)
                times[(variant, jobs)].append(seconds)
                memory[(variant, jobs)].append(mib)
                resources[(variant, jobs)] = template_resources(outdir)
                assets[(variant, jobs)] = asset_bytes(outdir)
                print(f"  run {repeat + 1}/{args.repeats} {variant:>14} x{jobs:<2} {seconds:5.2f} s {mib:5d} MiB",
                      file=sys.stderr)

    def median(config: Tuple[str, int]) -> float:
        return statistics.median(times[config])

    empty = median(("empty", 0))
    variants = ("library", "library-shared", "baseline")

    def ratio(value: Optional[float], base: Optional[float], digits: int = 2) -> str:
        if value is None or base is None or base == 0:
            return "-"
        return f"{value / base:.{digits}f}"

    def row(measure: str, cells: Sequence[Optional[float]], fmt: str, missing: str = "-",
            ratios: bool = True) -> None:
        """One table row: the three variants, then default / baseline and shared / baseline."""
        shown = [fmt.format(c) if c is not None else missing for c in cells]
        own, shared, base = cells
        tail = [ratio(own, base), ratio(shared, base)] if ratios else ["-", "-"]
        print(f"| {measure} | " + " | ".join(shown + tail) + " |")

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"median of {args.repeats} interleaved runs; command: `python bench/run.py --repeats {args.repeats}`\n")
    print("| measure | library (own key, buckets, role per job: the default) | library (shared key, buckets, role) "
          "| baseline (hand-written + AwsCustomResource) | default / baseline | shared / baseline |")
    print("|---|---|---|---|---|---|")
    row("synth, empty stack", [empty, empty, empty], "{:.2f} s")
    for jobs in (1, 10, 40):
        cells = [median((v, jobs)) if (v, jobs) in times else None for v in variants]
        row(f"synth, {jobs} job{'s' if jobs > 1 else ''}", cells, "{:.2f} s", missing="exceeds 500 resources")

    def first_job(v: str) -> float:
        return median((v, 1)) - empty

    def further_job(v: str, last: int = 10) -> Optional[float]:
        """Each job after the first, over 1 -> ``last`` jobs (the same span for every variant)."""
        if (v, last) not in times:
            return None
        return (median((v, last)) - median((v, 1))) / (last - 1)

    row("synth overhead of the first job", [first_job(v) for v in variants], "{:.2f} s")
    row("synth cost of each further job (1 -> 10 jobs)", [further_job(v) for v in variants], "{:.3f} s")
    row("synth cost of each further job (1 -> 40 jobs)", [further_job(v, 40) for v in variants], "{:.3f} s",
        missing="exceeds 500 resources")
    for jobs in (1, 10, 40):
        peaks = [float(statistics.median(memory[(v, jobs)])) if (v, jobs) in memory else None for v in variants]
        row(f"peak memory, {jobs} job{'s' if jobs > 1 else ''}", peaks, "{:.0f} MiB")

    def per_job(v: str) -> float:
        return (resources[(v, 10)] - resources[(v, 1)]) / 9

    def fixed(v: str) -> float:
        return resources[(v, 1)] - per_job(v)

    row("CloudFormation resources per job", [per_job(v) for v in variants], "{:.2f}")
    row("fixed resources per stack", [fixed(v) for v in variants], "{:.1f}", ratios=False)
    own_total = round(fixed("library") + 40 * per_job("library"))
    totals = [resources.get((v, 40)) for v in variants]
    print(f"| resources with 40 jobs (limit 500) | {own_total}{' (too many)' if own_total > 500 else ''} "
          f"| {totals[1]} | {totals[2]} | {ratio(own_total, totals[2])} | {ratio(totals[1], totals[2])} |")
    uploads = [float(assets[(v, 1)]) for v in variants]
    print(f"| asset bytes a deploy uploads | {uploads[0]:,.0f} | {uploads[1]:,.0f} | {uploads[2]:,.0f} "
          f"| {ratio(uploads[0], uploads[2])} | {ratio(uploads[1], uploads[2])} |")
    print(f"| handler cold import (boto3 included) | {handler_import_ms(args.repeats):.0f} ms | same | "
          "SDK for JavaScript v3, provided by the Lambda runtime | - | - |")


if __name__ == "__main__":
    main()
