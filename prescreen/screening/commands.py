"""The words a command needs, so that NLU alone can never stop, erase or rewind.

An intent classifier trained on a few hundred short examples sometimes takes an
answer ("abc", "Li Wei", "I stopped rituximab") for a command. A command intent
therefore counts only when the message has a word of that command. The Rasa
pipeline (rasa_addons/command_guard.py) and the core conversation both ask here.
"""
from __future__ import annotations

import re

COMMAND_WORDS = {
    "ask_why": re.compile(r"why|what for|is (this|that) for|have to do with|reason|relevant|matter|need (that|to know)|want to know|got to do|为什么",
                          re.I),
    "go_back": re.compile(r"back|change|mistake|wrong|undo|fix|previous|oops|返回", re.I),
    "start_over": re.compile(r"start|restart|again|reset|beginning|scratch|redo|new|重新", re.I),
    "stop": re.compile(r"\b(stop|quit|cancel|exit|end|enough|abort|terminate|leave me alone|no more questions)\b"
                       r"|don'?t want to (continue|go on)|停止|退出", re.I),
    "withdraw": re.compile(r"\b(delete|erase|remove|forget|withdraw|changed my mind)\b"
                           r"|don'?t want you to keep|删除", re.I),
}


def says_command(intent: str | None, text: str | None) -> bool:
    """False only for a command intent whose words are missing from the text."""
    pattern = COMMAND_WORDS.get(intent or "")
    return pattern is None or bool(pattern.search(text or ""))
