"""The in-context utterance suite as a benchmark: how typed patient replies are understood mid-screening.

    .venv/bin/python bench/utterances.py [--languages en zh] [--workers 4] [--out bench/results/utterances.json]

Starts the real action server and Rasa server on free loopback ports (as the tests do), sends every case of
tests/utterances/<language>.yml in its own conversation through the REST channel after tapping to its context,
and writes, per language and per category: count, understood %, negations stored as yes, erasures without an
explicit yes, contexts not reached, crisis support shown for a message that said nothing of the kind
(counted, not a threshold); and every miss (context, utterance, expected, observed, reply). The runner
and the judging are tests/utterance_suite.py; tests/test_utterances.py asserts the thresholds on English.
Chinese (zh.yml) is held to the same thresholds, with 95 % understood.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
from load import machine  # noqa: E402
from servers import Assistant  # noqa: E402
from utterance_suite import SUITE_DIR, load_suite, miss_rows, run_suite, summarize  # noqa: E402

THRESHOLDS = {"negations_as_yes": 0, "erasures": 0, "understood_pct": {"en": 97.0, "zh": 95.0}}
JUDGED = {"en", "zh"}  # languages held to the thresholds (tests/test_utterances.py)


def main() -> int:
    parser = argparse.ArgumentParser()
    available = sorted(p.stem for p in SUITE_DIR.glob("*.yml"))
    parser.add_argument("--languages", nargs="+", default=available, choices=available)
    parser.add_argument("--workers", type=int, default=4, help="conversations at a time")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "utterances.json"))
    args = parser.parse_args()
    out = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
           "command": "python bench/utterances.py " + " ".join(sys.argv[1:]), "thresholds": THRESHOLDS,
           "languages": {}}
    assistant = Assistant(Path(tempfile.mkdtemp(prefix="prescreen-utterances-")))
    try:
        assistant.start_actions()
        assistant.start_rasa()
        for language in args.languages:
            cases = load_suite(language)
            started = time.monotonic()
            results = run_suite(assistant, cases, workers=args.workers)
            summary = summarize(results)
            judged = language in JUDGED
            summary.update({
                "seconds": round(time.monotonic() - started, 1),
                "judged": judged,
                "meets_thresholds": judged and summary["negations_as_yes"] <= THRESHOLDS["negations_as_yes"]
                and summary["erasures"] <= THRESHOLDS["erasures"] and summary["navigation_failures"] == 0
                and summary["understood_pct"] >= THRESHOLDS["understood_pct"][language],
                "misses": miss_rows(results),
            })
            out["languages"][language] = summary
            print(f"{language}: {summary['understood']}/{summary['count']} understood ({summary['understood_pct']} %), "
                  f"{summary['negations_as_yes']} negations stored as yes, {summary['erasures']} erasures, "
                  f"{summary['navigation_failures']} contexts not reached, {summary['crisis_unasked']} crisis replies "
                  f"to non-crisis messages, {summary['seconds']} s", flush=True)
            for name, row in summary["categories"].items():
                print(f"  {name:18} {row['understood']:>3}/{row['count']:<3} {row['understood_pct']:>5} %  "
                      f"negations as yes {row['negations_as_yes']}  erasures {row['erasures']}", flush=True)
    finally:
        assistant.stop()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
