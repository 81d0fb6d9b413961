#!/usr/bin/env bash
# NLU: five-fold cross-validation of data/nlu.yml with config.yml; intent and entity F1.
#   bench/nlu.sh        (writes bench/results/nlu.json)
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false PYTHONPATH=.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
.venv/bin/rasa test nlu --nlu data/nlu.yml --config config.yml --cross-validation --folds 5 --out "$out" \
  >"$out/log" 2>&1
mkdir -p bench/results
.venv/bin/python - "$out/log" <<'PY'
import json, re, sys, datetime
log = open(sys.argv[1]).read()
def metric(section, name):
    # rasa prints e.g. "Intent evaluation results" ... "test F1-score: 0.812 (0.021)"
    part = log[log.rindex(section):]
    found = re.search(rf"test {name}: ([0-9.]+) \(([0-9.]+)\)", part)
    return {"mean": float(found.group(1)), "std": float(found.group(2))} if found else None
result = {
    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    "command": "bench/nlu.sh",
    "examples": sum(len([l for l in block["examples"].splitlines() if l.strip()])
                    for block in __import__("yaml").safe_load(open("data/nlu.yml"))["nlu"] if "intent" in block),
    "intent": {"f1": metric("Intent evaluation results", "F1-score"),
               "accuracy": metric("Intent evaluation results", "Accuracy")},
    "entity": {"f1": metric("Entity evaluation results", "F1-score")},
}
json.dump(result, open("bench/results/nlu.json", "w"), indent=2)
print(json.dumps(result, indent=2))
PY
