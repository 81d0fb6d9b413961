"""Five-fold intent cross-validation of the NLU data, reported per language.

    .venv/bin/python bench/nlu_cv.py [--config config.yml] [--folds 5] [--out bench/results/nlu.json]

One model per fold is trained on both languages (as the deployed model is), with the
pipeline of the config (its command guard included), and tested on the fold's English
and Chinese examples separately. An example is Chinese when it has a Chinese character.
Folds are stratified by intent and language, with a fixed seed. Intent F1 is weighted by
intent, as `rasa test nlu` reports it; the `number` entity is judged by its spans.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import os
import re
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

DATA = ("data/nlu.yml", "data/nlu_zh.yml")
CHINESE = re.compile(r"[\u3400-\u9fff]")


def language(text: str) -> str:
    return "zh" if CHINESE.search(text) else "en"


def mean_std(values: list[float]) -> dict:
    return {"mean": round(statistics.mean(values), 3),
            "std": round(statistics.pstdev(values), 3) if len(values) > 1 else 0.0}


def spans(entities) -> set:
    return {(e["start"], e["end"], e["entity"]) for e in entities or () if e.get("entity") == "number"}


async def run_fold(config: str, train, test, work: Path) -> list[dict]:
    import rasa.model_training
    from rasa.core.agent import Agent
    from rasa.core.channels import UserMessage
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter

    train_file = work / "train.yml"
    RasaYAMLWriter().dump(train_file, train)
    model = rasa.model_training.train_nlu(config, str(train_file), str(work))
    processor = Agent.load(model).processor
    rows = []
    for example in test.intent_examples:
        text = example.get("text")
        parsed = await processor.parse_message(UserMessage(text))
        rows.append({"text": text, "language": language(text), "intent": example.get("intent"),
                     "predicted": (parsed.get("intent") or {}).get("name") or "None",
                     "entities": sorted(spans(example.get("entities"))), "found": sorted(spans(parsed.get("entities")))})
    return rows


def scores(rows: list[dict]) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    gold, predicted = [r["intent"] for r in rows], [r["predicted"] for r in rows]
    tp = sum(len(r["entities"] & r["found"]) for r in rows)
    fp = sum(len(r["found"] - r["entities"]) for r in rows)
    fn = sum(len(r["entities"] - r["found"]) for r in rows)
    entity_f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"f1": f1_score(gold, predicted, average="weighted", zero_division=0),
            "accuracy": accuracy_score(gold, predicted), "entity_f1": entity_f1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", default="bench/results/nlu.json")
    parser.add_argument("--keep", help="a folder that keeps each fold's predictions: a run reuses the folds "
                                       "found there (same config, data and seed)")
    parser.add_argument("--only", type=int, action="append", help="run only this fold (1..folds); repeatable")
    args = parser.parse_args()
    os.chdir(ROOT)
    logging.basicConfig(level=logging.WARNING)
    from sklearn.model_selection import StratifiedKFold
    from rasa.shared.nlu.training_data.loading import load_data
    from prescreen.screening.commands import COMMANDS, command_of

    data = load_data(DATA[0])
    for path in DATA[1:]:
        data = data.merge(load_data(path))
    examples = data.intent_examples
    strata = [f"{e.get('intent')}|{language(e.get('text'))}" for e in examples]
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    per_fold: dict[str, list[dict]] = defaultdict(list)
    misses = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (train_index, test_index) in enumerate(folds.split(examples, strata), 1):
            from rasa.shared.nlu.training_data.training_data import TrainingData

            if args.only and number not in args.only:
                continue
            kept = Path(args.keep) / f"fold-{number}.json" if args.keep else None
            if kept and kept.exists():
                rows = json.loads(kept.read_text())
            else:
                train = TrainingData([examples[i] for i in train_index], regex_features=data.regex_features)
                test = TrainingData([examples[i] for i in test_index])
                rows = asyncio.run(run_fold(args.config, train, test, Path(tmp)))
                if kept:
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    kept.write_text(json.dumps(rows, ensure_ascii=False))
            for row in rows:
                row["entities"], row["found"] = set(map(tuple, row["entities"])), set(map(tuple, row["found"]))
            for lang in ("en", "zh", "all"):
                chosen = [r for r in rows if lang in ("all", r["language"])]
                per_fold[lang].append(scores(chosen))
            misses += [{k: r[k] for k in ("language", "text", "intent", "predicted")}
                       for r in rows if r["intent"] != r["predicted"]]
            print(f"fold {number}: " + ", ".join(f"{lang} F1 {per_fold[lang][-1]['f1']:.3f}"
                                                 for lang in ("en", "zh", "all")), flush=True)

    counts = Counter(language(e.get("text")) for e in examples)

    def summary(lang: str) -> dict:
        folds_ = per_fold[lang]
        refused = [e.get("text") for e in examples
                   if lang in ("all", language(e.get("text"))) and e.get("intent") in COMMANDS
                   and command_of(e.get("intent"), e.get("text")) != e.get("intent")]
        return {"examples": counts[lang] if lang != "all" else len(examples),
                "intent": {"f1": mean_std([f["f1"] for f in folds_]),
                           "accuracy": mean_std([f["accuracy"] for f in folds_])},
                "entity": {"f1": mean_std([f["entity_f1"] for f in folds_])},
                # command examples whose words prescreen/screening/commands.py does not know yet:
                # the guard takes their intent away, so they count as misses above
                "commands_without_guard_words": refused}

    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(["bench/nlu.sh", *sys.argv[1:]]),
        "config": args.config,
        "data": list(DATA),
        "folds": args.folds,
        "folds_run": len(per_fold["all"]),
        **{k: v for k, v in summary("all").items() if k != "commands_without_guard_words"},
        "languages": {lang: summary(lang) for lang in ("en", "zh")},
        "misses": sorted(misses, key=lambda m: (m["language"], m["intent"], m["text"])),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    shown = {k: result[k] for k in ("date", "examples", "intent", "entity")}
    shown["languages"] = {lang: {k: v for k, v in s.items() if k != "commands_without_guard_words"}
                          | {"commands_without_guard_words": len(s["commands_without_guard_words"])}
                          for lang, s in result["languages"].items()}
    print(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
