"""Load: simulated patients through the REST channel, against this assistant and, in the
same run, a bare `rasa init` assistant as the reference. Also the resident memory of
every process, idle and at the peak of the load.

    .venv/bin/python bench/load.py [--levels 1 10 50] [--out bench/results/load.json]
    .venv/bin/python bench/load.py --cluster [--levels 1 10 50] [--out bench/results/load-cluster.json]

Each simulated patient is a new conversation that completes a full screening (a
patient who may fit every study: the longest common path) up to the results; half
of them (every other one) open with "你好" and type every answer in Chinese. The
reference gets conversations of a fixed length (REFERENCE_MESSAGES, 14 messages) from
its own domain: an empty reply is what `rasa init` gives to some of them (no rule
answers "great" at that point), so it is counted (`empty_replies`), never as an error,
and the conversation goes on. Only a failed request is an error; our screening stops
there, the reference's does not, so every reference run sends the same messages.
The reference project is made once with `rasa init` in bench/.reference/ (trained
there, about two minutes) and reused.

--cluster: the same load through nginx (https) against the cluster of deploy/cluster.py
(PostgreSQL, Redis, 2 action servers, 2 Rasa servers), first with nginx sending
everything to one Rasa server, then to both, in the same run and on the same
processes and databases; then the reference. Every level also reports the CPU time
all processes of the assistant used (cpu_ms_per_message: Rasa, action servers,
PostgreSQL, Redis, nginx, web), so the cost per message can be compared between
profiles. --cache-off starts the Rasa servers with TRACKER_CACHE_SIZE=0 (Rasa's own
reading and saving of conversations), to measure what the tracker store's cache saves.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
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

CHINESE_SUFFIXES = tuple(str(d) for d in range(1, 10, 2))  # senders ending in an odd digit: half the patients
REST_HEADERS: dict[str, str] = {}  # set from our Assistant's token in main()


class Recorder:
    def __init__(self):
        self.latencies: list[float] = []
        self.errors = 0
        self.empty_replies = 0
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
            # Every other simulated patient opens in Chinese and types Chinese answers throughout.
            text = ("你好" if sender.endswith(CHINESE_SUFFIXES) else "hello") if step == 0 else patient_reply(messages)
        start = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": text},
                                    timeout=aiohttp.ClientTimeout(total=120)) as reply:
                messages = await reply.json() if reply.status == 200 else []
                ok = reply.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            ok, messages = False, []
        recorder.latencies.append(time.perf_counter() - start)
        sent += 1
        if ok and not messages:
            if reference:
                recorder.empty_replies += 1  # rasa init's way with some messages: not an error
                continue
            ok = False  # every turn of this assistant says something
        if not ok:
            recorder.errors += 1
            if not reference:
                break  # the screening cannot go on; the reference's fixed conversation does
    recorder.messages_per_conversation.append(sent)


async def run_level(url: str, concurrency: int, conversations: int, reference: bool, tag: str,
                    ssl_context=None) -> dict:
    recorder = Recorder()
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(conversations):
        queue.put_nowait(f"{tag}-c{concurrency}-{i}")

    async def worker(session):
        while not queue.empty():
            await screening(session, url, queue.get_nowait(), recorder, reference)

    connector = aiohttp.TCPConnector(limit=concurrency, ssl=ssl_context if ssl_context is not None else True)
    # Our REST channel wants its token (the reference server ignores the header).
    async with aiohttp.ClientSession(connector=connector, headers=REST_HEADERS) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    lat = sorted(recorder.latencies)

    def pct(p):
        return round(1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 1)

    return {"concurrency": concurrency, "conversations": conversations, "messages": len(lat),
            "errors": recorder.errors, "empty_replies": recorder.empty_replies, "seconds": round(elapsed, 2),
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


def cpu_seconds(pids) -> float:
    """CPU time (user + system) used so far by these processes and all their children."""
    ticks = 0
    for p in {q for pid in pids for q in [pid] + _children(pid)}:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


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


def measure(url: str, pids: dict[str, int], levels: list[int], reference: bool, tag: str, ssl_context=None,
            cpu_pids=None) -> dict:
    """cpu_pids: every process whose CPU time counts (default: pids)."""
    cpu_pids = list(cpu_pids if cpu_pids is not None else pids.values())
    asyncio.run(run_level(url + "/webhooks/rest/webhook", 1, 3, reference, tag + "-warmup", ssl_context))
    time.sleep(2)
    idle = {name: rss_mb(pid) for name, pid in pids.items()}
    results = []
    with MemorySampler(pids) as sampler:
        for level in levels:
            before = cpu_seconds(cpu_pids)
            result = asyncio.run(run_level(url + "/webhooks/rest/webhook", level, CONVERSATIONS[level],
                                           reference, tag, ssl_context))
            used = cpu_seconds(cpu_pids) - before
            result.update(cpu_seconds=round(used, 2),
                          cpu_ms_per_message=round(1000 * used / max(1, result["messages"]), 1))
            results.append(result)
            print(json.dumps(results[-1]), flush=True)
    return {"levels": results, "memory_idle_mb": idle, "memory_peak_mb": sampler.peak}


def measure_cluster(workdir: Path, levels: list[int], cache_off: bool) -> dict:
    """The cluster through nginx: one Rasa server behind it, then two, on the same processes."""
    import ssl

    sys.path.insert(0, str(ROOT))
    from deploy.cluster import Cluster

    token = secrets.token_urlsafe(24)
    REST_HEADERS.clear()
    REST_HEADERS["Authorization"] = f"Bearer {token}"
    env = {"REST_CHANNEL_TOKEN": token, "RATE_LIMIT_PER_CONVERSATION": "1000000", "RELAY_POLL_SECONDS": "2",
           "PRESCREEN_OUTBOX_DIR": str(workdir / "outbox")}
    if cache_off:
        env["TRACKER_CACHE_SIZE"] = "0"
    # nginx's per-address limits would stop one load generator on one address: lifted here.
    cluster = Cluster(workdir / "cluster", rasa_servers=2, action_servers=2, env=env, rest_through_nginx=True,
                      limits={"CHAT_RATE": "100000r/s", "CHAT_BURST": "100000", "CONNS_PER_ADDRESS": "10000"})
    out = {"servers": {"action_servers": 2, "rasa_servers_running": 2}, "tracker_cache": not cache_off}
    try:
        cluster.start()
        context = ssl.create_default_context(cafile=str(cluster.certificate))
        pids = {name: p.pid for name, p in cluster.processes().items()}
        postmaster = int((cluster._postgres_data / "postmaster.pid").read_text().split()[0])
        cpu_pids = [*pids.values(), postmaster]
        for active in (1, 2):
            cluster.use_rasa_servers(active)
            print(f"cluster through nginx, {active} Rasa server(s):", flush=True)
            out[f"rasa_{active}"] = measure(cluster.url, pids, levels, reference=False, tag=f"cluster{active}",
                                            ssl_context=context, cpu_pids=cpu_pids)
    finally:
        cluster.stop()
    one, two = out["rasa_1"]["levels"], out["rasa_2"]["levels"]
    out["ratio_2_to_1"] = {str(a["concurrency"]): round(b["messages_per_second"] / a["messages_per_second"], 2)
                           for a, b in zip(one, two)}
    print("messages/s, 2 Rasa servers / 1:", json.dumps(out["ratio_2_to_1"]), flush=True)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--cluster", action="store_true", help="through nginx against 1, then 2 Rasa servers")
    parser.add_argument("--cache-off", action="store_true", help="with --cluster: TRACKER_CACHE_SIZE=0")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    args.out = args.out or str(ROOT / "bench" / "results" / ("load-cluster.json" if args.cluster else "load.json"))
    workdir = Path(tempfile.mkdtemp(prefix="prescreen-bench-"))
    out = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
           "command": "python bench/load.py " + " ".join(sys.argv[1:])}

    if args.cluster:
        out["cluster"] = measure_cluster(workdir, args.levels, args.cache_off)
        return finish(out, workdir, args)

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
    return finish(out, workdir, args)


def finish(out: dict, workdir: Path, args) -> int:
    """The reference, then the file."""
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
