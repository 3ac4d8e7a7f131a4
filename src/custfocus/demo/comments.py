"""The demo's comments: varied, realistic text composed from parts, with known themes.

Each planted theme (``PLANTED.voice.theme_effects``) has many sentence patterns whose slots are
filled from word lists ("{subject} arrived {days} days late{tail}."), so one theme is written in
hundreds of ways. A comment joins the sentences of the themes it mentions in random order, sometimes
with a connector ("Also, ..."), sometimes with a generic sentence matching the score or a neutral
remark ("First time buying here."); a comment that mentions no theme is such generic text only.
About one comment in ten has a typo (two letters swapped, one dropped or doubled).

Every late-delivery sentence contains one of the words the demo's tests look for ("late", "delay",
"on time", "waited", "waiting") and no other sentence does, and typos never touch those words, so
the planted mention shares can be recounted from the text.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa

from custfocus.demo.planted import THEMES

LATE_WORDS = re.compile(r"\b(?:late|delay\w*|on time|waited|waiting)\b", re.IGNORECASE)
TYPO_RATE = 0.1
FILLER_RATE = 0.2
GENERIC_WITH_THEME_RATE = 0.25
CONNECTOR_RATE = 0.35

SLOTS = {
    "subject": ("my parcel", "the parcel", "my order", "the package", "my delivery", "the sofa",
                "my shoes", "the order", "my groceries", "the gift", "the kettle", "my new phone case",
                "the toys", "the order for my mum", "my last order", "the lamp"),
    "days": ("two", "three", "four", "five", "6", "10", "several"),
    "late_tail": ("", "", "", " and nobody told me why", " with no update at all", ", very frustrating",
                  " again", " for the second time", ", not good enough", " which ruined the birthday",
                  " so I had to chase it", " and the tracking said nothing", " and no one answered the phone"),
    "item": ("the kettle", "the blender", "my jacket", "the headphones", "the toy", "the chair",
             "the charger", "the shoes", "the lamp", "the vacuum", "the frying pan", "this dress"),
    "period": ("a week", "two days", "a month", "one use", "three washes", "a fortnight"),
    "quality_tail": ("", "", ", really disappointed", ", had to return it", ", what a waste",
                     ", expected more from you", ", not acceptable"),
    "app_when": ("at checkout", "when I tried to pay", "every time I open it", "after the update",
                 "while adding items to the basket", "on my phone", "during payment"),
    "app_tail": ("", "", ", had to use the website instead", ", please fix it", ", so annoying",
                 ", gave up in the end"),
    "competitor": ("another shop", "the supermarket", "other websites", "your competitors", "the shop down the road",
                   "Amazon"),
    "staff": ("The staff", "The lady at the till", "The assistant", "The young man in the store",
              "The person on the phone", "Your agent", "The manager", "Everyone in the shop"),
    "kind": ("friendly", "kind", "lovely", "polite", "really nice", "so patient"),
    "helpful": ("helpful", "knowledgeable", "quick to help", "attentive", "very helpful"),
    "hours": ("24", "12", "20", "less than 24"),
    "fast_tail": ("", "", ", impressive", ", well done", ", great service", " and well packed",
                  ", faster than expected"),
}

PATTERNS = {
    "late delivery": (
        "{subject} arrived {days} days late{late_tail}.",
        "{subject} was delayed{late_tail}.",
        "Still waiting for {subject}{late_tail}.",
        "Waited {days} days for {subject}{late_tail}.",
        "{subject} didn't arrive on time{late_tail}.",
        "{subject} came late{late_tail}.",
        "Delivery was late{late_tail}.",
        "The courier was late{late_tail}.",
        "Late delivery{late_tail}.",
        "Why is {subject} always late?",
        "I've been waiting over a week for {subject}{late_tail}.",
        "{subject} showed up late and the box was wet{late_tail}.",
        "Delivery delayed {days} times{late_tail}.",
        "The delivery slot was missed and {subject} came {days} days late.",
    ),
    "product quality": (
        "{item} broke after {period}{quality_tail}.",
        "Poor quality{quality_tail}.",
        "{item} feels cheap and flimsy{quality_tail}.",
        "{item} stopped working after {period}{quality_tail}.",
        "Quality is not what it used to be{quality_tail}.",
        "The stitching came apart after {period}{quality_tail}.",
        "{item} was faulty out of the box{quality_tail}.",
        "Cheap materials, {item} fell apart quickly{quality_tail}.",
        "Not happy with the quality of {item}{quality_tail}.",
        "{item} is badly made{quality_tail}.",
        "The product was damaged and the quality is poor{quality_tail}.",
    ),
    "app problems": (
        "The app crashed {app_when}{app_tail}.",
        "Couldn't log in to the app{app_tail}.",
        "The app is so slow{app_tail}.",
        "Payment failed in the app {app_when}{app_tail}.",
        "The app froze {app_when}{app_tail}.",
        "Checkout in the app is broken{app_tail}.",
        "Buggy app{app_tail}.",
        "The app keeps logging me out{app_tail}.",
        "Can't find my orders in the app{app_tail}.",
        "Your app crashes {app_when}{app_tail}.",
        "App error {app_when}{app_tail}.",
    ),
    "price": (
        "Prices are higher than at {competitor}.",
        "A bit too expensive for what you get.",
        "Found the same thing cheaper at {competitor}.",
        "Prices went up again.",
        "Too pricey compared to {competitor}.",
        "Overpriced, to be honest.",
        "Expensive for what it is.",
        "The prices keep creeping up.",
        "I could get it for less at {competitor}, the price is too high.",
        "Not cheap, better value at {competitor}.",
    ),
    "friendly staff": (
        "{staff} was {kind} and {helpful}.",
        "{staff} went out of their way to help me.",
        "Lovely people, very kind.",
        "Friendly service, {staff_lower} answered all my questions.",
        "{staff} was so {helpful}, thank you!",
        "Staff were {kind} and patient.",
        "Great, helpful staff.",
        "Great staff, {kind} and {helpful}.",
        "{staff} was {kind}, made my day.",
        "Really {kind} staff in the store.",
    ),
    "fast delivery": (
        "Fast delivery{fast_tail}.",
        "{subject} arrived the next day{fast_tail}.",
        "Super quick shipping{fast_tail}.",
        "{subject} came sooner than expected{fast_tail}.",
        "Delivered within {hours} hours{fast_tail}.",
        "Quick delivery{fast_tail}.",
        "Speedy delivery{fast_tail}.",
        "Ordered in the evening and {subject} was here the next morning{fast_tail}.",
        "Really fast dispatch{fast_tail}.",
    ),
}

GENERIC = {  # the core of a sentence about the whole experience, by the score's band
    "detractor": ("not happy with this order", "disappointing", "I expected better", "not impressed",
                  "I will think twice before ordering again", "won't be coming back",
                  "a really poor experience", "very disappointed", "not good enough", "a terrible experience",
                  "would not recommend", "a let-down", "not what I hoped for"),
    "passive": ("it was okay", "nothing special", "fine, but could be better", "an average experience",
                "it does the job", "decent, nothing more", "some things good, some not", "OK I guess",
                "mostly fine", "not bad, not great", "as expected"),
    "promoter": ("great shop, I will buy again", "very happy", "everything was fine, thank you",
                 "always a good experience", "love shopping here", "would recommend to friends",
                 "brilliant as always", "excellent, thanks", "very pleased", "a pleasure as usual",
                 "top marks", "keep it up"),
}
OPENERS = ("", "", "", "Honestly, ", "To be honest, ", "Overall, ", "Well, ", "All in all, ", "So far ")
CLOSERS = ("", "", "", " this time", " overall", " to be fair", " on the whole")
FILLER_PARTS = {
    "did": ("I ordered", "I bought", "Got", "Picked up", "Ordered"),
    "what": ("a gift", "some bits", "a present", "the usual", "a few things", "something small"),
    "for": ("for my mum", "for the kids", "for work", "for my sister's birthday", "for the kitchen",
            "for a friend", "for myself", "for the garden"),
}
FILLER = ("Second order this month.", "First time buying here.", "Used the website this time.",
          "I shop here every week.", "Long-time customer.", "My partner recommended you.")
CONNECTORS = ("Also, ", "And ", "On top of that, ", "Plus ", "Besides, ")


def compose(rng: np.random.Generator, mentioned: np.ndarray, score: np.ndarray,
            commented: np.ndarray) -> pa.Array:
    """One comment per commented row (null elsewhere), mentioning the themes marked in ``mentioned``
    (bool, rows x len(THEMES)); rows that mention none get generic text matching ``score`` (0-10)."""
    band = np.where(score <= 6, "detractor", np.where(score <= 8, "passive", "promoter"))
    texts: list[str | None] = [None] * len(score)
    for row in np.flatnonzero(commented):
        sentences = [_sentence(rng, THEMES[k]) for k in rng.permutation(np.flatnonzero(mentioned[row]))]
        if not sentences or rng.random() < GENERIC_WITH_THEME_RATE:
            sentences.append(_generic(rng, band[row]))
        if rng.random() < FILLER_RATE:
            sentences.insert(0 if rng.random() < 0.5 else len(sentences), _filler(rng))
        texts[row] = _typo(rng, _join(rng, sentences)) if rng.random() < TYPO_RATE else _join(rng, sentences)
    return pa.array(texts, pa.string())


def _sentence(rng: np.random.Generator, theme: str) -> str:
    pattern = PATTERNS[theme][rng.integers(len(PATTERNS[theme]))]

    def fill(match: re.Match) -> str:
        name = match.group(1)
        options = SLOTS["staff"] if name == "staff_lower" else SLOTS[name]
        value = options[rng.integers(len(options))]
        return value[0].lower() + value[1:] if name == "staff_lower" else value

    return _capitalised(re.sub(r"\{(\w+)\}", fill, pattern))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[rng.integers(len(options))]


def _generic(rng: np.random.Generator, band: str) -> str:
    core = _pick(rng, GENERIC[band])
    closer = "" if "," in core else _pick(rng, CLOSERS)
    return _capitalised(_pick(rng, OPENERS) + core + closer) + ("!" if rng.random() < 0.1 else ".")


def _filler(rng: np.random.Generator) -> str:
    if rng.random() < 0.4:
        return _pick(rng, FILLER)
    return " ".join(_pick(rng, FILLER_PARTS[part]) for part in ("did", "what", "for")) + "."


def _join(rng: np.random.Generator, sentences: list[str]) -> str:
    parts = [sentences[0]]
    for sentence in sentences[1:]:
        if rng.random() < CONNECTOR_RATE and not re.match(r"I\b|I'", sentence):
            sentence = CONNECTORS[rng.integers(len(CONNECTORS))] + sentence[0].lower() + sentence[1:]
        parts.append(sentence)
    return " ".join(parts)


def _typo(rng: np.random.Generator, text: str) -> str:
    """One slip of the keyboard in a longer word that is not one of the tests' late-delivery words."""
    words = [m for m in re.finditer(r"[A-Za-z]{5,}", text) if not LATE_WORDS.fullmatch(m.group())]
    if not words:
        return text
    word = words[rng.integers(len(words))]
    w = word.group()
    i = 1 + int(rng.integers(len(w) - 2))  # never the first letter: the comment starts with a capital
    slip = rng.integers(3)
    typed = (w[:i] + w[i + 1] + w[i] + w[i + 2:] if slip == 0 and i + 1 < len(w)
             else w[:i] + w[i + 1:] if slip == 1 else w[:i] + w[i] + w[i:])
    return text[:word.start()] + typed + text[word.end():]


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:]
