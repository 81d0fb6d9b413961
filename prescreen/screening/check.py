"""`python -m prescreen.screening.check [trials-dir]`: load and check every trial file.

Exits 1 with the file, criterion and field of the first problem, so `make run`
refuses to start on a broken trial instead of screening wrongly.
"""
from __future__ import annotations

import sys
from pathlib import Path

from prescreen.screening.errors import TrialDataError
from prescreen.screening.trials import load_catalog

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "trials"


def main(argv: list[str]) -> int:
    directory = Path(argv[0]) if argv else DEFAULT_DIR
    try:
        catalog = load_catalog(directory)
    except TrialDataError as error:
        print(f"Broken trial data: {error}", file=sys.stderr)
        return 1
    for trial in catalog.trials:
        ruled = sum(1 for c in trial.criteria if not c.site_only)
        flag = "  (criteria incomplete: the site confirms the rest)" if trial.criteria_incomplete else ""
        print(f"ok  {trial.file}: {trial.id}, {len(trial.criteria)} criteria, {ruled} with rules{flag}")
    print(f"ok  {len(catalog.facts)} facts in the question bank, {len(catalog.groups)} question groups")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
