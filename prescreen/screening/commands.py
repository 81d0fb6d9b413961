"""Which command a message is, if any, so that NLU alone can never stop, erase or rewind.

An intent classifier trained on a few hundred short examples sometimes takes an
answer ("abc", "Li Wei", "I stopped rituximab", "I forget") for a command. A command
intent therefore counts only when the message has a word of that command, and not when
the message is a "not sure" ("I forget" is not "forget my data"). A short message that
is plainly a command phrase ("go back please") counts even when NLU missed it. The Rasa
pipeline (rasa_addons/command_guard.py), the conversations and the actions all ask here.
Erasure is confirmed with an explicit yes whatever this module says.
"""
from __future__ import annotations

import re

from prescreen.screening.polarity import says_not_sure

COMMANDS = ("ask_why", "go_back", "start_over", "stop", "withdraw")

COMMAND_WORDS = {
    "ask_why": re.compile(r"why|what for|is (this|that|it) for|what'?s (this|that|it)( question)? for|what .* for\??$|"
                          r"point of|what'?s the point|have to do with|reason|relevant|matter|need (that|to know)|"
                          r"want to know|got to do|point of|为什么|干什么用|有什么用", re.I),
    # "back" but not "it came back" (an answer about the illness), "wrong" but not "what's wrong with me"
    "go_back": re.compile(r"(?<!came )(?<!come )(?<!comes )(?<!coming )(?<!flared )(?<!is )(?<!its )(?<!it's )\bback\b|"
                          r"change (my|the|that|an?) ?(last |previous )?answer|\bchange (it|that)\b|mistake|"
                          r"(?<!what's )(?<!whats )(?<!what is )\bwrong\b|\bundo\b|\bfix\b|previous|oops|meant|返回|上一", re.I),
    "start_over": re.compile(r"start|restart|again|reset|beginning|scratch|redo|new|重新|从头", re.I),
    "stop": re.compile(r"\b(stop|quit|cancel|exit|end|enough|abort|terminate|leave me alone|no more questions)\b"
                       r"|don'?t want to (continue|go on)|停止|退出|不想继续", re.I),
    "withdraw": re.compile(r"\b(delete|erase|remove|wipe|withdraw|changed my mind)\b|\bforget (me|my|about me|everything|all)\b"
                           r"|don'?t want you to keep|删除|清除|撤回", re.I),
}

# A message that is nothing but a command (with a few polite words) is that command.
_PLAIN = {
    "ask_why": r"why|why\?|why (do|did) you (ask|need|want) (this|that|to know)|what is (this|that) for|whats (this|that) for|"
               r"what for|why does (it|that) matter|为什么|为什么问这个",
    "go_back": r"(go )?back|go back (one|a step|to the (last|previous) question)|previous( question)?|undo|"
               r"(i want to |let me |can i )?change (my )?(last |previous )?answer|i made a mistake|返回|上一题|回到上一题",
    "start_over": r"start (over|again)|restart|start from the (beginning|start)|begin again|from the beginning|重新开始|从头开始",
    "stop": r"stop|quit|cancel|exit|end|end (this|the chat)|stop (this|it|now|the questions)|i want to stop|停止|退出",
    "withdraw": r"(please )?(delete|erase|remove|wipe) (my|all my|all of my|all the) (data|details|answers|information|info)"
                r"|(delete|erase|wipe) (everything|it all)|forget (me|my data|everything)|withdraw( my consent)?|i changed my mind|"
                r"删除我的数据|删除我的信息|删除数据",
}
_POLITE = r"(?:(?:please|pls|ok|okay|can you|could you|i want to|i would like to|id like to|let me|lets)\s+)*"
_PLAIN_RE = {
    command: re.compile(rf"^\s*{_POLITE}(?:{pattern})(?:\s+(?:please|pls|now|thanks|thank you))?\s*[.!?。！？]*\s*$", re.I)
    for command, pattern in _PLAIN.items()
}


def says_command(intent: str | None, text: str | None) -> bool:
    """False only for a command intent whose words are missing from the text."""
    pattern = COMMAND_WORDS.get(intent or "")
    return pattern is None or bool(pattern.search(text or ""))


def plain_command(text: str | None) -> str | None:
    """The command this message is and nothing else ("go back", "please delete my data")."""
    clean = (text or "").replace("’", "'").replace("'", "")
    return next((command for command, pattern in _PLAIN_RE.items() if pattern.match(clean)), None)


_ASKING_ABOUT = re.compile(r"^\s*(can|could|will|would|do|does|is|am|how|what if|when|if)\b.*\?\s*$|[吗呢][？?]?\s*$", re.I)


def command_of(intent: str | None, text: str | None) -> str | None:
    """The command a message gives: a command intent with its words, or a plain command phrase.
    A question about a command ("can I withdraw later?") is a question, not the command."""
    plain = plain_command(text)
    if plain:
        return plain
    if intent in COMMANDS and says_command(intent, text) and not says_not_sure(text or ""):
        if intent != "ask_why" and _ASKING_ABOUT.search(text or ""):
            return None
        return intent
    return None
