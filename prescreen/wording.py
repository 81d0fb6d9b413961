"""What the assistant says, in short sentences and common words.

Kept apart from the Rasa adapters so the wording is tested directly and reviewed in
one place. Never "you are eligible": a study "may be a match", the study team decides.
"""
from __future__ import annotations

from prescreen.trials import Catalog


def welcome_message(catalog: Catalog) -> str:
    places = sorted({site.city for trial in catalog.trials for site in trial.sites})
    return (
        f"Hello. I can help you check if one of {len(catalog.trials)} research studies of new cell "
        f"treatments might suit you. The studies are at hospitals in {', '.join(places[:-1])} and {places[-1]}. "
        "I will ask a few short questions, one at a time. "
        "You don't need to give your name to check. "
        "This is not medical advice, and only the study team can decide if you can join. "
        "You can type \"stop\" at any time."
    )
