#!/usr/bin/env bash
# Training: `rasa train` wall time from scratch (no cache, no earlier model), and what
# adding a trial file costs (it is not training data, so: nothing).
#   bench/train.sh            (writes bench/results/train.json)
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false
out=bench/results/train.json
mkdir -p bench/results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; rm -f trials/zz-bench-extra-trial.yml' EXIT

# From scratch: a fresh output folder and an empty Rasa cache.
start=$(date +%s.%N)
RASA_CACHE_DIRECTORY="$tmp/cache" .venv/bin/rasa train --out "$tmp/models" --fixed-model-name scratch --quiet \
  >"$tmp/train.log" 2>&1
end=$(date +%s.%N)
scratch=$(python3 -c "print(round($end - $start, 1))")

# Adding a trial: copy one under a new id and ask make whether the model is out of date.
make --quiet train >/dev/null 2>&1
before=$(sha256sum models/current.tar.gz | cut -c1-16)
sed 's/^id: NCT06421701$/id: BENCH-EXTRA-TRIAL/' trials/nct06421701-car-nk-sle-hangzhou.yml > trials/zz-bench-extra-trial.yml
.venv/bin/python -m prescreen.screening.check >/dev/null
start=$(date +%s.%N)
if make --question train; then uptodate=true; else uptodate=false; fi
make --quiet train >/dev/null 2>&1
end=$(date +%s.%N)
after=$(sha256sum models/current.tar.gz | cut -c1-16)
added=$(python3 -c "print(round($end - $start, 2))")

cat > "$out" <<JSON
{"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "command": "bench/train.sh",
 "train_from_scratch_seconds": $scratch,
 "adding_a_trial": {"model_up_to_date": $uptodate, "make_train_seconds": $added,
                    "model_unchanged": $( [ "$before" = "$after" ] && echo true || echo false )}}
JSON
cat "$out"
