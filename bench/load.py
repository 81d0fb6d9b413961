"""Load: simulated patients through the REST channel, against this assistant and, in the
same run, a bare `rasa init` assistant as the reference. Also the resident memory of
every process, idle and at the peak of the load.

    .venv/bin/python bench/load.py [--levels 1 10 50] [--out bench/results/load.json]

Each simulated patient is a new conversation that completes a full screening (a
patient who may fit every study: the longest common path) up to the results. The
reference gets conversations of the same number of messages, from its own domain.
The reference project is made once with `rasa init` in bench/.reference/ (trained
there, about two minutes) and reused.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from servers import VENV_BIN, Assistant, free_port, patient_reply, wait_until_up  # noqa: E402

REFERENCE_DIR = ROOT / "bench" / ".reference"
CONVERSATIONS = {1: 10, 10: 60, 50: 150}  # per concurrency level
REFERENCE_MESSAGES = ["hello", "I am sad", "yes", "great", "no", "very good", "bye", "hi there", "I'm unhappy",
                      "indeed", "perfect", "of course", "goodbye", "hey"]

REST_HEADERS: dict[str, str] = {}  # set from our Assistant's token in main()


class Recorder:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors = 0
        self.messages_per_conversation: list[int] = []


async def screening(session, url: str, sender: str, recorder: Recorder, reference: bool) -> None:
    sent, messages = 0, []
    for step in range(40):
        if reference:
            if step == len(REFERENCE_MESSAGES):
                break
            text = REFERENCE_MESSAGES[step]
        else:
            if any("custom" in m for m in messages):
                break  # the results: the screening is complete
            text = "hello" if step == 0 else patient_reply(messages)
        start = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text},
                                    timeout=aiohttp.ClientTimeout(total=120)) as reply:
                messages = await reply.json() if reply.status == 200 else []
                ok = reply.status == 200 and messages
        except (aiohttp.ClientError, asyncio.TimeoutError):
            ok = False
        recorder.latencies.append(time.perf_counter() - start)
        sent += 1
        if not ok:
            recorder.errors += 1
            break
    recorder.messages_per_conversation.append(sent)


async def run_level(url: str, concurrency: int, conversations: int, reference: bool, tag: str) -> dict:
    recorder = Recorder()
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(conversations):
        queue.put_nowait(f"{tag}-c{concurrency}-{i}")

    async def worker(session):
        while not queue.empty():
            await screening(session, url, queue.get_nowait(), recorder, reference)

    connector = aiohttp.TCPConnector(limit=concurrency)
    # Our REST channel wants its token (the reference server ignores the header).
    async with aiohttp.ClientSession(connector=connector, headers=REST_HEADERS) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    lat = sorted(recorder.latencies)

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1)

    return {"concurrency": concurrency, "conversations": conversations, "messages": len(lat),
            "errors": recorder.errors, "seconds": round(elapsed, 2),
            "messages_per_second": round(len(lat) / elapsed, 1),
            "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "mean_messages_per_conversation": round(statistics.mean(recorder.messages_per_conversation), 1)}


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (Rasa's server is one process)."""
    total = 0
    for p in [pid] + _children(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return round(total / 1024, 1)


def _children(pid: int) -> list[int]:
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
    return kids + [g for k in kids for g in _children(k)]


class MemorySampler:
    """Peak resident memory of named processes while the load runs."""

    def __init__(self, pids: dict[str, int]):
        self.pids, self.peak = pids, {name: 0.0 for name in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_mb(pid))
            time.sleep(0.25)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def ensure_reference() -> Path:
    model = next(iter(sorted((REFERENCE_DIR / "models").glob("*.tar.gz"))), None) if REFERENCE_DIR.exists() else None
    if model:
        return model
    shutil.rmtree(REFERENCE_DIR, ignore_errors=True)
    REFERENCE_DIR.mkdir(parents=True)
    print("Making the reference: rasa init (trains a model, about two minutes)...", flush=True)
    subprocess.run([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(REFERENCE_DIR)],
                   cwd=REFERENCE_DIR, check=True, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return next(iter(sorted((REFERENCE_DIR / "models").glob("*.tar.gz"))))


def start_reference(workdir: Path) -> tuple[subprocess.Popen, str]:
    model, port = ensure_reference(), free_port()
    log = open(workdir / "reference.log", "ab")
    process = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "--interface", "127.0.0.1", "--port", str(port),
                                "--model", str(model)], cwd=REFERENCE_DIR, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url + "/webhooks/rest/", process, f"reference Rasa server (log: {workdir})")
    return process, url


def measure(url: str, pids: dict[str, int], levels: list[int], reference: bool, tag: str) -> dict:
    asyncio.run(run_level(url + "/webhooks/rest/webhook", 1, 3, reference, tag + "-warmup"))
    time.sleep(2)
    idle = {name: rss_mb(pid) for name, pid in pids.items()}
    results = []
    with MemorySampler(pids) as sampler:
        for level in levels:
            results.append(asyncio.run(run_level(url + "/webhooks/rest/webhook", level, CONVERSATIONS[level],
                                                 reference, tag)))
            print(json.dumps(results[-1]), flush=True)
    return {"levels": results, "memory_idle_mb": idle, "memory_peak_mb": sampler.peak}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "load.json"))
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="prescreen-bench-"))
    out = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
           "command": "python bench/load.py " + " ".join(sys.argv[1:])}

    # As `make run` does: the relay inside the web process, at its own pace (not the tests').
    ours = Assistant(workdir, env={"RELAY_POLL_SECONDS": "2", "RELAY_IN_WEB": "1"})
    REST_HEADERS.update(ours.rest_headers)
    try:
        ours.start_actions()
        ours.start_rasa()
        ours.start_web()
        ours.start_patient_page()
        pids = {"rasa": ours.rasa.pid, "actions": ours.actions.pid, "web (staff pages, relay)": ours.web.pid,
                "web (patient page)": ours.patient.pid}
        print("this assistant:", flush=True)
        out["ours"] = measure(ours.url, pids, args.levels, reference=False, tag="ours")
    finally:
        ours.stop()

    reference, url = start_reference(workdir)
    try:
        print("reference (rasa init):", flush=True)
        out["reference"] = measure(url, {"rasa": reference.pid}, args.levels, reference=True, tag="ref")
    finally:
        reference.terminate()
        reference.wait(timeout=30)

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print(f"written: {args.out}")
    return 0


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem / 1024 / 1024, 1),
            "python": platform.python_version(), "os": platform.platform()}


if __name__ == "__main__":
    raise SystemExit(main())
