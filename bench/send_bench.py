"""Benchmark: `streaming-labeling send` against a plain boto3 loop, on loopback endpoints.

Two endpoints on 127.0.0.1 stand in for SNS: moto's server (which stores every message, so
its own CPU bounds both senders on a 2-core machine), and a minimal SNS endpoint that only
answers Publish and PublishBatch (so that the senders' own cost is measured). The topic has
no subscriber. Each
sender runs in a fresh subprocess; wall time and its peak resident memory (``wait4``) are
taken, interleaved over ``--repeats`` runs, median reported. Memory is also measured for 1,000
and 10,000 objects to show that it stays flat as the input grows.

A third row adds a round trip to every answer of the minimal endpoint (``--latency-ms``, 5 ms by
default; a client in the same region as SNS sees a few ms to tens of ms), which is where batching
and concurrency matter in practice.

Usage: ``make bench-send`` (or ``python bench/send_bench.py --objects 10000 --repeats 3``).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Tuple
from urllib.parse import parse_qs

import boto3
from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise

ROOT = Path(__file__).resolve().parent.parent

PLAIN_LOOP = """
import json, sys, boto3
sns = boto3.client("sns")
with open(sys.argv[2], encoding="utf-8") as lines:
    for line in lines:
        text = line.rstrip("\\r\\n")
        if text:
            sns.publish(TopicArn=sys.argv[1], Message=json.dumps({"source": text}, ensure_ascii=False))
"""


class MinimalSns(BaseHTTPRequestHandler):
    """Publish and PublishBatch of SNS's query protocol, answered without storing anything.

    ``latency`` (seconds) delays every answer, as the network to a real regional endpoint does.
    """

    protocol_version = "HTTP/1.1"
    latency = 0.0

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in one segment; without this, delayed ACKs add ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if form["Action"][0] == "PublishBatch":
            ids = [value[0] for key, value in form.items() if key.endswith(".Id")]
            members = "".join(f"<member><Id>{i}</Id><MessageId>{uuid.uuid4()}</MessageId></member>" for i in ids)
            result = f"<Successful>{members}</Successful><Failed/>"
        else:
            result = f"<MessageId>{uuid.uuid4()}</MessageId>"
        action = form["Action"][0]
        if self.latency:
            time.sleep(self.latency)
        body = (f'<{action}Response xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><{action}Result>{result}'
                f"</{action}Result><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
                f"</{action}Response>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def run(command: List[str], env: Dict[str, str]) -> Tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one subprocess."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[:4]} failed with {status}")
    return elapsed, usage.ru_maxrss // 1024


def measure(endpoint: str, topic: str, files: Dict[int, Path], objects: int, repeats: int,
            label: str) -> Dict[str, Tuple[float, int]]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
           "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "PYTHONPATH": str(ROOT / "constructs")}
    cli = [sys.executable, "-m", "streaming_labeling", "send", "--input-topic", topic, "--text-file"]
    plain = [sys.executable, "-c", PLAIN_LOOP, topic]
    results: Dict[str, List[Tuple[float, int]]] = {}
    for repeat in range(repeats):
        for name, command in (
            ("plain", plain + [str(files[objects])]),
            ("cli", cli + [str(files[objects])]),
            ("cli-1000", cli + [str(files[1_000])]),
        ):
            results.setdefault(name, []).append(run(command, env))
            print(f"  {label}: run {repeat + 1}/{repeats} {name:>9}  {results[name][-1][0]:.2f} s", file=sys.stderr)
    return {name: (statistics.median(r[0] for r in runs), int(statistics.median(r[1] for r in runs)))
            for name, runs in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=5.0, help="the simulated network round trip")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    files = {}
    for count in sorted({1_000, args.objects}):
        path = work / f"objects-{count}.txt"
        path.write_text("".join(f"Data object number {i}: the quick brown fox jumps over the lazy dog.\n"
                                for i in range(count)), encoding="utf-8")
        files[count] = path

    topic = "arn:aws:sns:us-east-1:123456789012:bench"
    rows = {}
    for label, latency in (("minimal SNS endpoint", 0.0),
                           (f"minimal SNS endpoint, {args.latency_ms:g} ms per answer", args.latency_ms / 1000)):
        handler = type("Handler", (MinimalSns,), {"latency": latency})
        minimal = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=minimal.serve_forever, daemon=True).start()
        rows[label] = measure(f"http://127.0.0.1:{minimal.server_port}", topic, files, args.objects, args.repeats,
                              label)
        minimal.shutdown()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    sns = boto3.client("sns", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    topic = sns.create_topic(Name="bench")["TopicArn"]
    rows["moto server"] = measure(endpoint, topic, files, args.objects, args.repeats, "moto")
    server.stop()

    n = args.objects
    print(f"| endpoint ({n:,} text objects, median of {args.repeats}) | streaming-labeling send "
          "| plain boto3 loop (one Publish per object) | ratio | peak memory of send (1,000 / "
          f"{n:,} objects) |")
    print("|---|---|---|---|---|")
    for label, result in rows.items():
        cli, plain, small = result["cli"], result["plain"], result["cli-1000"]
        print(f"| {label} | {cli[0]:.2f} s, {n / cli[0]:,.0f} objects/s | {plain[0]:.2f} s, "
              f"{n / plain[0]:,.0f} objects/s | {plain[0] / cli[0]:.1f}x | {small[1]} / {cli[1]} MiB |")


if __name__ == "__main__":
    main()
