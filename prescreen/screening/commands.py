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
                          r"want to know|got to do|point of|"
                          # about the question ("为什么要问这个"), not any why ("为什么我会得这个病" is for the doctor)
                          r"(为什么|为啥|干嘛|干吗)(要|需要|得)?(问|知道|了解)|问这个|问这些|干什么用|做什么用|有什么用|"
                          r"(为什么|为啥|干嘛)(要|需要)(我的)?(名字|姓名|电话|手机号|号码|邮箱|年龄|性别)|问.{1,4}?(干嘛|干什么)|"
                          r"(这个|这|这些)(问题)?(是)?(干嘛|干吗|干什么)|^\s*(为什么|位什么|为啥)(呢)?\s*[?？。!！]*\s*$|有什么关系|"
                          r"(为什么|为啥)(需要|要回答|要答|要填)(这个|这些)|(为什么|为啥)这个(很)?重要", re.I),
    # "back" but not "it came back" (an answer about the illness), "wrong" but not "what's wrong with me"
    "go_back": re.compile(r"(?<!came )(?<!come )(?<!comes )(?<!coming )(?<!flared )(?<!is )(?<!its )(?<!it's )\bback\b|"
                          r"change (my|the|that|an?) ?(last |previous )?answer|\bchange (it|that)\b|mistake|"
                          r"(?<!what's )(?<!whats )(?<!what is )\bwrong\b|\bundo\b|\bfix\b|previous|oops|meant|返回|反回|上一|回到|退回|回去|后退|撤销|"
                          r"改一下|改答案|改回答|点错|选错|按错|说错|答错|回答不对", re.I),
    # "again" only in a request ("do it again"), never in an answer ("his kidneys got worse again")
    "start_over": re.compile(r"start|restart|reset|beginning|scratch|redo|new|(do|go|try|begin|ask) (it |this |that |them |all |the questions )?"
                             r"(over )?again|over again|all again|重新|从新|从头|重头|重来|再来一遍|再来一次|重置|从第一题", re.I),
    "stop": re.compile(r"\b(stop|quit|cancel|exit|end|enough|abort|terminate|leave me alone|no more questions)\b"
                       r"|don'?t want to (continue|go on)|停止|停下|退出|结束|不想继续|不继续|不做了|不想做了|不填了|不想填|不聊了|不问了|别问了|"
                       r"不弄了|不搞了|算了|暂停|先停|停一下|停至|不要再问|不用再问|到此为止|够了|不答了", re.I),
    "withdraw": re.compile(r"\b(delete|erase|remove|wipe|withdraw|changed my mind)\b|\bforget (me|my|about me|everything|all)\b"
                           r"|don'?t want you to keep|删除|删掉|删了|删|珊除|清除|清空|撤回|撤销同意|不要保存|别保存|不要留|别留|不想让你们保存|"
                           r"忘掉我|改主意", re.I),
}

# A message that is nothing but a command (with a few polite words) is that command.
_PLAIN = {
    "ask_why": r"why|why\?|why (do|did) you (ask|need|want) (this|that|to know)|what is (this|that) for|whats (this|that) for|"
               r"what for|why does (it|that) matter|为什么|为啥|"
               # "为什么要问年龄", "问这个干嘛", "这个是干什么的": about the question, not "why did my lupus come back"
               r"(请问)?(为什么|为啥|干嘛|干吗)(要|需要|得|你要|你们要)?(问|知道|了解)(我)?.{0,8}?|"
               r"(问|知道)(这个|这些|这|.{1,4}?)(是|要)?(干嘛|干吗|干什么|做什么|有什么用)(的|用)?|"
               r"(为什么|为啥|干嘛|干吗)(要|需要)(我的|知道我的)?(名字|姓名|电话|手机号|号码|邮箱|年龄|性别)|"
               r"(这个|这些|这)(问题)?(是)?(干嘛|干吗|干什么|做什么|有什么用)(的|用的)?|这有什么关系|"
               r"(为什么|位什么|为啥)(呢)?|(为什么|为啥)(需要|要回答|要答|要填)(这个|这些)|(为什么|为啥)这个(很)?重要",
    "go_back": r"(go )?back|go back (one|a step|to the (last|previous) question)|previous( question)?|undo|"
               r"(i want to |let me |can i )?change (my )?(last |previous )?answer|i made a mistake|"
               r"(我要|我想|请)?(返回|反回|退回|回到|回去|后退)(上一题|上一步|上一个问题|上一个)?|上一题|上一步|撤销|"
               r"(我想|我要)?改(一下)?(上一个|刚才的)?(回答|答案)|(我)?(答错了|回答不对|选错了|点错了)",
    "start_over": r"start (over|again)|restart|start from the (beginning|start)|begin again|from the beginning|"
                  r"(我要|我想|请)?(重新开始|从新开始|从头开始|重头开始|从头来|重新来|从新来|重来|再来一遍|再来一次|重新填|重置|"
                  r"从第一题开始)",
    "stop": r"stop|quit|cancel|exit|end|end (this|the chat)|stop (this|it|now|the questions)|i want to stop|"
            r"(算了[，,]?\s*)?((我要|我想|请)?(停止|停下|退出|结束)(吧|了)?|停(吧|一下)?|"
            r"(我)?(不想|不要|不)(再)?(继续|做|填|聊|弄|搞)(下去)?了?|不做了|"
            r"不填了|不聊了|别问了|不问了|算了(吧)?|先这样吧|暂停|先停一下|停一下|不要再问了|不用再问了|到此为止|够了|不答了)",
    "withdraw": r"(please )?(delete|erase|remove|wipe) (my|all my|all of my|all the) (data|details|answers|information|info)"
                r"|(delete|erase|wipe) (everything|it all)|forget (me|my data|everything)|withdraw( my consent)?|i changed my mind|"
                r"(我改主意了[，,]?\s*)?(请|麻烦)?(你)?(把|将)?(我的|我)?(个人)?(所有)?(信息|数据|资料|回答|记录|答案|我说的|我填的)?(都|全部|全)?"
                r"(删除|删掉|删了|珊除|清除|清空|删)(掉|了)?(吧)?(我的|我)?(所有)?(信息|数据|资料|回答|记录|答案|我说的|我填的|说的)"
                r"|(请|麻烦)?(把|将)(我的|我)?(所有)?(信息|数据|资料|回答|记录|答案|我说的|我填的)(都|全部|全)?(删除|删掉|删了|清除|清空|删)(掉|了)?(吧)?"
                r"|不要保存我的(信息|数据|资料)|撤回(我的)?同意|我改主意了|忘掉我|别留我的(资料|信息|数据)|不想让你们保存(我的)?(资料|信息|数据)?",
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


_ASKING_ABOUT = re.compile(r"^\s*(can|could|will|would|do|does|is|am|how|what if|when|if)\b.*\?\s*$|[吗呢][？?]?\s*$|"
                           r"^\s*(能|能不能|可以|可不可以|会不会|以后)", re.I)


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
