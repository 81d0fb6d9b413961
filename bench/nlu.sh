#!/usr/bin/env bash
# NLU: five-fold intent cross-validation of data/nlu.yml + data/nlu_zh.yml with config.yml, reported
# per language (English, Chinese) and overall: intent F1 and accuracy, `number` entity F1.
# Each fold's model is trained on both languages, as the deployed model is (bench/nlu_cv.py).
#   bench/nlu.sh                    (writes bench/results/nlu.json)
#   bench/nlu.sh --config other.yml --out /tmp/nlu.json   (another pipeline, same folds)
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false PYTHONPATH=.
exec .venv/bin/python bench/nlu_cv.py "$@"
