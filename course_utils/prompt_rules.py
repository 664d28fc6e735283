"""Reading a prompt by rules: the rule-based stand-in for a language model that rewrites prompts.

`parse_prompt` reads fur colour, coat pattern, background colour and style out of free text,
`rewrite_prompt` expands a short prompt into the wording the embedded model was trained on,
`check_understood` says in words whether the rules read a prompt as the learner meant it, and
`asked_for` / `shown_count` compare what a prompt asks for with what a picture's pixels show.

Taught in: chapter 3 (prompt rewriting); used in chapters 0 and 7. The names are also reachable as
``cu.conditioning.X``.
"""

from __future__ import annotations

import re

from .text_encoding import check_text

__all__ = ["BG_SYNONYMS", "DEFAULTS", "FUR_SYNONYMS", "STYLE_SYNONYMS", "asked_for", "check_understood",
           "parse_prompt", "rewrite_prompt", "shown_count"]

# The rule-based stand-in for a language model: synonyms -> the words the embedded model knows.
FUR_SYNONYMS = {
    "ginger": ["ginger", "orange", "tangerine", "marmalade", "apricot", "red-haired", "copper"],
    "black": ["black", "ebony", "jet-black", "coal", "midnight", "sooty", "dark"],
    "white": ["white", "snowy", "snow-white", "snow", "ivory-white", "pale"],
    "grey": ["grey", "gray", "silver", "ash", "ashen", "slate", "smoky", "blue-grey"],
    "brown": ["brown", "chocolate", "cocoa", "mocha", "chestnut", "coffee", "tan"],
    "cream": ["cream", "beige", "ivory", "buff", "sand", "sandy", "fawn", "vanilla"],
}
BG_SYNONYMS = {
    "blue": ["blue", "sky", "azure", "navy", "cyan", "turquoise", "teal", "ocean", "sea"],
    "green": ["green", "grass", "grassy", "lime", "emerald", "olive", "forest", "mint", "garden", "meadow"],
    "red": ["red", "crimson", "scarlet", "cherry", "ruby", "brick"],
    "yellow": ["yellow", "gold", "golden", "lemon", "sunny", "mustard", "sunflower"],
    "pink": ["pink", "rose", "rosy", "salmon", "blush", "bubblegum", "flamingo"],
    "purple": ["purple", "violet", "lilac", "lavender", "mauve", "plum", "magenta", "indigo"],
}
STYLE_SYNONYMS = {  # phrases are matched before single words
    "pixel": ["16-bit pixel art", "pixel art", "retro game", "video game", "retro video game", "8-bit", "16-bit",
              "pixel", "pixelated", "sprite", "arcade", "console", "sega", "snes", "retro"],
    "manga": ["black and white manga", "black-and-white", "black and white", "manga", "anime", "ink",
              "screentone", "comic book", "japanese comic"],
    "cartoon": ["cartoon", "cartoony", "toon", "comic", "animated", "flat", "drawing", "illustration",
                "children's book", "vector", "clip art", "clipart"],
    "photo": ["photo", "photograph", "photography", "photorealistic", "realistic", "real", "camera",
              "picture", "snapshot", "dslr", "portrait"],
}
_CAT_WORDS = ("cat", "cats", "kitty", "kitties", "kitten", "kittens", "feline", "puss", "pussycat", "tomcat", "moggy")
_BG_NOUNS = ("background", "backdrop", "wall", "sky", "scene", "backgrounds", "setting", "field", "floor")
_PATTERN_WORDS = {"tabby": ["tabby", "striped", "stripy", "stripes", "tiger-striped"]}
DEFAULTS = {"fur": "ginger", "background": "blue", "style": "cartoon", "pattern": "solid"}


def _lookup_table(table: dict[str, list[str]]) -> dict[str, str]:
    return {syn: key for key, syns in table.items() for syn in syns}


def parse_prompt(text: str, defaults: dict[str, str] | None = None) -> dict[str, dict]:
    """
    Read fur colour, coat pattern, background colour and style out of free text, by rules.

    Taught in: chapter 3 (prompt rewriting: a rule-based stand-in for a language model).

    A colour word counts as the background's when a background noun follows it ("pink wall") or a
    preposition leads to it ("on pink", "against a violet sky"); otherwise as the fur's when it is a
    fur colour or sits before a cat word. Style phrases are matched before single words, so
    "black and white" means manga and not two colours.

    Returns:
        `dict`: for each of ``fur``, ``pattern``, ``background``, ``style``:
        ``{"value": word the model knows, "from": the word(s) it came from, or None when the default
        was filled in}``.
    """
    text = check_text(text, "text")
    defaults = {**DEFAULTS, **(defaults or {})}
    low = " " + re.sub(r"\s+", " ", text.lower().replace("_", " ")) + " "
    found: dict[str, tuple[str, str]] = {}
    # 1. style phrases, longest first; each match is blanked out so its words are not read again
    low = _read_style(low, found)
    words = re.findall(r"[a-z0-9'-]+|[,;.:!?]", low)  # punctuation is kept: it ends a phrase
    # 2. which words sit in a "background phrase"
    bg_slots = _background_slots(words)
    # 3. colours: background words in background phrases, fur words elsewhere
    _read_colours(words, bg_slots, found)
    out = {}
    for key in ("fur", "pattern", "background", "style"):
        value, source = found.get(key, (defaults[key], None))
        out[key] = {"value": value, "from": source}
    return out


def _read_style(low: str, found: dict[str, tuple[str, str]]) -> str:
    """Note the first style phrase of `low` in `found`; return `low` with every style phrase blanked out."""
    style_syn = sorted(_lookup_table(STYLE_SYNONYMS).items(), key=lambda kv: -len(kv[0]))
    for syn, style in style_syn:
        m = re.search(rf"(?<![\w-]){re.escape(syn)}(?![\w-])", low)
        if m:
            found.setdefault("style", (style, syn))
            low = low[:m.start()] + " " * (m.end() - m.start()) + low[m.end():]
    return low


def _phrase_end(w: str) -> bool:
    return w in _CAT_WORDS or not w[0].isalnum()


def _background_slots(words: list[str]) -> set[int]:
    """The positions of the words in a background phrase: just before a background noun ("lime
    backdrop"), or just after on/against/in front of ("against a violet sky"), up to a comma or a cat word."""
    bg_slots: set[int] = set()
    for i, w in enumerate(words):
        if w in _BG_NOUNS:
            bg_slots.add(i)
            for k in range(i - 1, max(-1, i - 4), -1):
                if _phrase_end(words[k]):
                    break
                bg_slots.add(k)
        if w in ("on", "against", "over", "before") or (w == "of" and i > 0 and words[i - 1] == "front"):
            for k in range(i + 1, min(len(words), i + 4)):
                if _phrase_end(words[k]):
                    break
                bg_slots.add(k)
    return bg_slots


def _read_colours(words: list[str], bg_slots: set[int], found: dict[str, tuple[str, str]]) -> None:
    """Note in `found` the first coat pattern, background colour and fur colour of `words`."""
    fur_syn, bg_syn, pat_syn = _lookup_table(FUR_SYNONYMS), _lookup_table(BG_SYNONYMS), _lookup_table(_PATTERN_WORDS)
    cat_at = [i for i, w in enumerate(words) if w in _CAT_WORDS]
    for i, w in enumerate(words):
        if w in pat_syn:
            found.setdefault("pattern", (pat_syn[w], w))
        elif i in bg_slots and w in bg_syn:
            found.setdefault("background", (bg_syn[w], w))
        elif w == "red" and (i + 1 in cat_at or i + 2 in cat_at):  # "a red cat" is a ginger cat
            found.setdefault("fur", ("ginger", w))
        elif w in fur_syn and i not in bg_slots:
            found.setdefault("fur", (fur_syn[w], w))
        elif w in bg_syn:  # a bare background colour or scene ("blue, a cat", "in a meadow") means the backdrop
            found.setdefault("background", (bg_syn[w], w))


def rewrite_prompt(text: str, defaults: dict[str, str] | None = None) -> str:
    """
    Expand a short free-form prompt into the detailed wording the embedded model was trained on.

    A **rule-based stand-in** for the language model that systems such as DALL-E 3 use to rewrite
    prompts: synonyms are mapped onto the model's vocabulary ("orange kitty" -> "ginger cat",
    "retro game" -> "16-bit pixel art") and missing attributes are filled in with defaults
    (`DEFAULTS`, or `defaults`). A real language model understands far more; these rules only
    know the embedded model's six fur colours, six backgrounds and four styles.

    Taught in: chapter 3 (prompt rewriting).

    Example:
        >>> rewrite_prompt("orange kitty, retro game")
        'a ginger cat in 16-bit pixel art style on a blue background'
    """
    from .minisd.data import prompt_for

    p = parse_prompt(text, defaults)
    return prompt_for(p["fur"]["value"], p["background"]["value"], p["style"]["value"], p["pattern"]["value"])


def asked_for(prompt: str) -> dict[str, str]:
    """The fur, background and style a prompt names, in the model's words (what it leaves out is not asked),
    e.g. ``{"fur": "cream", "background": "green", "style": "cartoon"}``.

    Taught in: chapter 3; chapters 0 and 7 compare it with what a picture's pixels show (`shown_count`).
    """
    parsed = parse_prompt(prompt)
    return {k: parsed[k]["value"] for k in ("fur", "background", "style") if parsed[k]["from"]}


def shown_count(read: dict[str, str], asked: dict[str, str]) -> int:
    """How many of the `asked` things (`asked_for`) the pixel rules read in a picture (`read`:
    `minisd.metrics.classify_pixels`). In manga style the rules read fur as a tone (dark, mid, light), so
    a fur colour counts as shown when its tone is read there.

    Taught in: chapter 3; used in chapters 0 and 7.
    """
    from .minisd.data import MANGA_TONE

    def ok(k: str, v: str) -> bool:
        return read[k] == v or (k == "fur" and read["style"] == "manga" and read[k] == MANGA_TONE.get(v))

    return sum(ok(k, v) for k, v in asked.items())


def check_understood(text: str, fur: str | None = None, background: str | None = None,
                     style: str | None = None) -> str:
    """
    Did the rule-based stand-in read `text` the way you meant it? One line per attribute you name,
    each marked ✓ or ✗, and what to try when it is ✗. Never raises for a wrong reading: it is a
    learner's exercise, so it answers in words.

    Taught in: chapter 3 (practical path: Try it).

    Args:
        text (`str`): your prompt.
        fur, background, style (`str`, *optional*): what you meant, in the model's words (fur: black,
            white, grey, ginger, brown, cream; background: blue, green, red, yellow, pink, purple;
            style: photo, cartoon, manga, pixel).

    Returns:
        `str`: the rewrite, then one line per attribute, then a last line saying whether all matched.
    """
    from .minisd.data import BACKGROUNDS, FUR_COLOURS, STYLES

    text = check_text(text)
    choices = {"fur": list(FUR_COLOURS), "background": list(BACKGROUNDS), "style": list(STYLES)}
    meant = {k: v for k, v in (("fur", fur), ("background", background), ("style", style)) if v is not None}
    understood = parse_prompt(text)
    lines = [f"you wrote:          {text}", f"the stand-in says:  {rewrite_prompt(text)}"]
    right = 0
    for what, value in meant.items():
        got = understood[what]
        source = f"from your word '{got['from']}'" if got["from"] else "as a default (it found no word for it)"
        if value not in choices[what]:
            lines.append(f"? {what}: '{value}' is not one of the model's words for it; choose one of "
                         f"{', '.join(choices[what])} for my_{what}.")
        elif got["value"] == value:
            right += 1
            lines.append(f"✓ {what}: read as '{got['value']}' {source}, as you meant.")
        else:
            lines.append(f"✗ {what}: read as '{got['value']}' {source}, but you meant '{value}'. "
                         f"Try another word for it in my_prompt.")
    if meant:
        lines.append(f"The stand-in understood {right} of the {len(meant)} things you meant"
                     + (": well done." if right == len(meant) else "."))
    return "\n".join(lines)
