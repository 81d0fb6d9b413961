"""Is a typed reply a yes, a no, a "not sure", or a mix? Negation-aware, and never a guess.

A yes-shaped sentence often carries a no: "I have never had cancer", "I was never told
that", "I'm negative for HIV". Reading those as yes would rule a patient out of a study
they may fit, so every clause is read for negation first, hedges ("could be", "I think
so") count as "not sure", and a reply whose clauses disagree ("no, but I had it in 2019")
is MIXED: the conversation asks a short clarifying question instead of choosing.
"""
from __future__ import annotations

import re

YES, NO, NOT_SURE, MIXED = "yes", "no", "not_sure", "mixed"

# Said instead of an answer, or hedging one: "not sure" whatever else the reply holds.
_NOT_SURE = [
    r"not (really |quite |too |very |that |so |100 ?% ?|entirely |completely )?(sure|certain|positive)", r"unsure",
    r"uncertain", r"unclear", r"(dont|do not|didnt|did not|dunno|don t) (really |even )?know", r"dunno", r"idk",
    r"no (idea|clue)", r"(cant|cannot|can not|dont|do not|couldnt) (really )?(remember|recall|say|tell)",
    r"i (forget|forgot)", r"forgotten", r"(hard|difficult|tough) to (say|tell)", r"maybe", r"perhaps", r"possibly",
    r"probably", r"(could|might|may) (be|have|well)", r"i (think|believe|guess|suppose|reckon) so", r"i guess",
    r"i (dont|do not) think so", r"i think not", r"i doubt", r"kind of", r"sort of", r"kinda", r"sorta", r"somewhat",
    r"not that (i|im) (know|aware|remember)", r"as far as i know", r"(my |the )?doctors? (would|will|might) know",
    r"ask (my|the|a) doctor", r"(have|need|would have) to (check|ask|look)", r"who knows", r"depends",
    r"not exactly", r"no way to know", r"(i am|im) confused", r"(dont|do not) understand",
    r"(id |i would )?(prefer|rather) not (to )?(say|answer|talk about it)",
    r"(dont|do not) (want|like) to (say|answer|talk about (it|that))", r"i think", r"i believe", r"not certain",
    r"(i have|ill have|i need) to (check|ask)", r"let me check", r"no comment", r"pass on (this|that)",
    r"(most )?likely", r"not a clue", r"(havent|have not) (got )?a clue", r"i suppose",
    r"🤷",
]
# Chinese has no spaces between words, so its phrases are found anywhere in the reply.
_NOT_SURE_ZH = ["应该是吧", "应该吧", "算是吧", "大概是", "也许吧", "好像是", "记不太清", "不想说", "不方便说", "不太记得", "不知道", "不确定", "不清楚", "记不清", "记不得", "不记得", "忘了", "忘记了", "可能", "也许", "说不准", "不太清楚",
                "不好说", "说不好", "说不清", "说不上来", "讲不清", "问医生", "不想回答", "不愿意说", "不愿回答", "保密", "大概吧", "好像", "应该是吧", "不太确定", "搞不清"]
_NOT_SURE_RE = re.compile(r"(?<![\w])(" + "|".join(_NOT_SURE) + r")(?![\w])|" + "|".join(_NOT_SURE_ZH))
# "应该还在活动", "大概用过吧": a hedge, unless the reply corrects itself ("点错了，应该是没有") or gives a
# number ("大概5年前" is a duration, read in durations).
_HEDGE_ZH = re.compile(r"应该(?!选)|(大概|大约|估计)(?!\s*[\d零〇一二两三四五六七八九十半几])")
_CORRECTING_ZH = re.compile(r"点错|选错|按错|说错|打错|弄错|不对|错了")
_SAID_WRONG_ZH = re.compile(r"(点错|选错|按错|说错|打错|弄错)了?")

_NEGATIONS = {
    "no", "nope", "nah", "naw", "nay", "n", "noo", "nooo", "nop", "never", "not", "none", "nothing", "neither",
    "nor", "negative", "dont", "doesnt", "didnt", "havent", "hasnt", "hadnt", "wasnt", "werent", "isnt", "arent",
    "aint", "wont", "cant", "cannot", "without", "nil", "nada", "👎",
}
_NEGATION_PHRASES = re.compile(r"(?<!\w)(free of|clear of|no longer|not any ?more|all clear|ruled out)(?!\w)")
# Words that answer "yes" on their own (at the start of a clause, they can clash with a negation).
_YES_WORDS = {
    "yes", "y", "ye", "yeah", "yea", "yah", "ya", "yep", "yup", "yess", "yesss", "sure", "correct", "right", "true",
    "indeed", "ok", "okay", "absolutely", "definitely", "certainly", "affirmative", "positive", "mhm", "uhuh",
    "aye", "yas", "agreed", "alright", "👍", "✅",
}
_YES_PHRASES = re.compile(
    r"(?<!\w)(of course|uh huh|uh-huh|mm hmm|thats (right|correct|true)|that is (right|correct|true)|i (have|do|did|am|was|had|got)|"
    r"ive|ive had|im|i still|it is|it was|there is|there was|yes i|he (has|does|did|is|was|had)|she (has|does|did|is|was|had)|"
    r"they (have|do|did|are|were|had)|(he|she|it|they)s|tested positive|had (it|one|them|that)|"
    r"thats (fine|ok|okay|good)|sounds good|go ahead|all right|happy to|no problem|please do|why not|i tried|"
    r"(a few|several|many|two|three) times|once|twice|sometimes|often|every day|all the time|at times|on and off)(?!\w)")
_CHINESE_NO = re.compile(r"没有|木有|没|不是|不对|不|否|无|从未|从来没|阴性|未曾")
_CHINESE_YES = re.compile(r"是的|是|有的|有|对的|对|嗯|阳性|确诊|当然|肯定|同意|愿意|(?<![挺很还蛮真])好的|好啊|好吧|可以|(?<!还)行|确实|"
                          r"(试|用|做|打|吃|输|得|患|接受|参加|住|想)过|偶尔|有时|经常|常常|时不时|老是|总是|会想")
# "不是没得过", "不能说没有", "没有不同意": two negations make a yes.
_DOUBLE_NEGATION_ZH = re.compile(r"(不是|并不是|并非|不能说|不可能|也不是)\s*(没有|没|不)|没有?不(同意|愿意)")
# "会不会收费", "以后可以撤回吗": a question back, not an answer.
_CHINESE_QUESTION = re.compile(r"[\u3400-\u9fff][吗嘛][？?]?\s*$|会不会|能不能|可不可以|要不要|需不需要|用不用|收不收|"
                               r"(?<!应该)是不是|多少钱|怎么办|[\u3400-\u9fff][？?]\s*$")
# Chinese yes-words written with a negation character: "没错" is "that's right".
_CHINESE_YES_NEGATION_SHAPED = re.compile(r"没错|可不是|不就是|那还用说")
# "是也不是", "有也没有": both at once.
_CHINESE_BOTH = re.compile(r"(是|有|对)\s*[也又]?\s*(不是|没有|不对)|(算是|有点)[也又]?(不算|没有)")
# Clause breaks: punctuation and words that turn a sentence ("no, but ...", "yes although ...").
_CLAUSE_BREAK = re.compile(r"[,.;:!?()\n，。；：！？、]|(?<!\w)(but|though|although|however|except|apart from|besides|only)(?!\w)"
                           r"|(但是|但|不过|可是|只是)", re.IGNORECASE)
_CONTRAST = re.compile(r"(?<!\w)(but|though|although|however|except|apart from|besides)(?!\w)|但是|但|不过|可是")
# "oops I meant no", "sorry, I mean yes": the correction is the answer.
_MEANT = re.compile(r"(?<!\w)(?:(?:i )?(?:meant|mean|meant to say|wanted to say)|actually|well actually) (yes|no)(?!\w)")
# "我点错了，应该是没有", "刚才那个我想选没有", "其实是有的": the same, in Chinese.
MEANT_ZH = r"(?:应该选|我想选|想选的是|本来想选|本来想说|我是想说|我想说的是|我的意思是|其实是|其实|我要选|改成|改为|换成)"
_MEANT_ZH = re.compile(MEANT_ZH + r"\s*[“\"'「]?\s*(不是|没有|没|否|不|是|有|对)"
                       r"|(?:点错|选错|按错|说错|打错|弄错|不对)了?[，,。\s]*(?:应该是|应该选|应该|是)?\s*"
                       r"(不是|没有|没|否|是|有|对)(?:的|了|啊|吧)?\s*(?=[。！!，,]|$)")
# Common typos of the few words that decide a reply ("not sur", "non of these", "nothin").
_TYPOS = {"sur": "sure", "shure": "sure", "suer": "sure", "sre": "sure", "non": "none", "nothin": "nothing",
          "nothng": "nothing", "noting": "nothing", "nver": "never", "neva": "never", "nevr": "never", "yse": "yes",
          "yess": "yes", "yeh": "yeah", "dnt": "dont", "havnt": "havent", "hvnt": "havent", "hav": "have",
          "knw": "know", "kno": "know", "rember": "remember", "remeber": "remember", "remmember": "remember",
          "probly": "probably", "prolly": "probably", "mayb": "maybe", "mabye": "maybe", "maby": "maybe",
          "unsur": "unsure", "dunnno": "dunno", "ofc": "of course", "nvm": "never mind", "thx": "thanks"}


def simplify(text: str) -> str:
    """Lower case, apostrophes dropped ("don't" -> "dont"), common typos mended, clause punctuation kept;
    a Chinese double negation said as the yes it is ("不是没得过" -> "是得过")."""
    text = (text or "").lower().replace("’", "'").replace("‘", "'").replace("'", "")
    text = _DOUBLE_NEGATION_ZH.sub(lambda m: m.group(3) or "是", text)
    text = re.sub(r"[\"“”*_~`]", " ", text)
    text = re.sub(r"[a-z]+", lambda m: _TYPOS.get(m.group(0), m.group(0)), text)
    return " ".join(text.split())


def clauses(text: str) -> list[str]:
    """A reply cut where it may turn: "no cancer, but I had TB" -> ["no cancer", "I had TB"] (case kept)."""
    return [part.strip() for part in _CLAUSE_BREAK.split(text or "")
            if part and part.strip() and not _CLAUSE_BREAK.fullmatch(part.strip())]


def says_not_sure(text: str) -> bool:
    return _hedged(simplify(text))


def _hedged(simple: str) -> bool:
    return bool(_NOT_SURE_RE.search(simple)) or (bool(_HEDGE_ZH.search(simple)) and not _CORRECTING_ZH.search(simple))


def has_negation(text: str) -> bool:
    return _clause_polarity(simplify(text))[0]


def polarity(text: str) -> str | None:
    """YES, NO, NOT_SURE, MIXED, or None when the reply says neither."""
    simple = simplify(text)
    if not simple:
        return None
    meant = _meant(simple)
    if meant is not None:
        return YES if meant else NO
    if _CHINESE_QUESTION.search(simple):  # "以后可以撤回吗": a question back, not a yes
        return None
    if _hedged(simple):
        return NOT_SURE
    if _CHINESE_BOTH.search(simple):
        return MIXED
    found = [value for value in map(_clause_value, clauses(simple)) if value is not None]
    if not found:
        return None
    if MIXED in found or (YES in found and NO in found):
        return MIXED
    if YES in found and _CONTRAST.search(simple) and has_negation(simple):
        return MIXED
    return found[0]


def _clause_polarity(clause: str) -> tuple[bool, bool, bool]:
    """(has a negation, starts with a bare yes word, has a yes phrase)."""
    words = re.findall(r"[\w👍👎✅]+", clause)
    if _CHINESE_YES_NEGATION_SHAPED.search(clause):
        clause = _CHINESE_YES_NEGATION_SHAPED.sub("对", clause)
        words = re.findall(r"[\w👍👎✅]+", clause)
    negated = any(w in _NEGATIONS for w in words) or bool(_NEGATION_PHRASES.search(clause)) \
        or bool(_CHINESE_NO.search(clause))
    bare_yes = bool(words) and words[0] in _YES_WORDS
    yes_phrase = bool(_YES_PHRASES.search(clause)) or any(w in _YES_WORDS for w in words) \
        or bool(_CHINESE_YES.search(_CHINESE_NO.sub("", clause)))
    return negated, bare_yes, yes_phrase


_EMPHATIC_NO = re.compile(r"^(absolutely|definitely|certainly|of course|surely|sure|really|totally|nope|no) (not|never|no)\b")


# A state that has changed: "I stopped ...", "used to", "in remission", "now it's ok". Yes-shaped, but
# about the past, so a question about now must not read it as yes.
CHANGED = re.compile(r"(?<!\w)(stopped|quit|used to|no longer|not any ?more|any ?more|in remission|remission|"
                     r"now (its|it is|im|i am) (ok|fine|better|good|gone)|went away|cured|resolved|healed|gave up)(?!\w)"
                     r"|停了|停掉|停药|不再|以前|已经好了|治好了|缓解|断奶|不喂了|不吃了|不用了|现在好了")


def changed_state(text: str) -> bool:
    return bool(CHANGED.search(simplify(text)))


def _clause_value(clause: str) -> str | None:
    negated, bare_yes, yes_phrase = _clause_polarity(clause)
    if _EMPHATIC_NO.match(clause):  # "definitely not", "of course not"
        return NO
    if negated:
        # "yes, never" or "yes I don't" answers two ways at once; "I have never had it" is a no.
        return MIXED if bare_yes and len(clause.split()) > 1 else NO
    if bare_yes or yes_phrase:
        return YES
    return None


def correction(text: str) -> bool | None:
    """"Oops, I meant no" -> False; "sorry, I meant yes" -> True; "我点错了，应该是没有" -> False; otherwise None."""
    return _meant(simplify(text))


def _meant(simple: str) -> bool | None:
    """The last "I meant yes/no" in a reply, in either language ("应该是吧" is a hedge, not a correction)."""
    found = [(m.start(), m.group(1) == "yes") for m in _MEANT.finditer(simple)]
    if not found and not _MEANT_ZH.search(simple):  # "我刚才说错了，没有复发": what follows the "I said it wrong"
        marker = list(_SAID_WRONG_ZH.finditer(simple))
        rest = simple[marker[-1].end():] if marker else ""
        value = polarity(rest) if rest.strip(" ，,。") else None
        if value in (YES, NO):
            return value == YES
    if not _hedged(simple):
        found += [(m.start(), (m.group(1) or m.group(2)) in ("是", "有", "对")) for m in _MEANT_ZH.finditer(simple)]
    return max(found)[1] if found else None


def plain_yes(text: str) -> bool:
    """A yes with no "but", "except" or hedge: what an erasure needs."""
    return polarity(text) == YES and not _CONTRAST.search(simplify(text))


def leading_answer(text: str) -> str | None:
    """The bare yes or no a reply starts with ("no, it's under control" -> NO), if any."""
    words = re.findall(r"[\w👍👎✅]+", simplify(text))
    if not words:
        return None
    if words[0] in _YES_WORDS - {"right", "ok", "okay", "sure", "positive", "true"}:
        return YES
    if words[0] in {"no", "nope", "nah", "naw", "n", "never", "not"}:
        return NO
    return None
