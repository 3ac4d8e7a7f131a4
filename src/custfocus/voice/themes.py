"""Themes of comments: the company's pinned themes first, then themes discovered in the rest.

Pinned themes are named lists of keywords and phrases (``voice.toml`` or ``[voice]`` of
``custfocus.toml``)::

    [themes]
    "late delivery" = ["late", "delay*", "where is my order", "still waiting"]
    "billing" = { keywords = ["invoice", "charged twice", "refund*"] }

    discover = "auto"   # or a number of themes to discover, or 0 for pinned themes only

A keyword matches whole words, case-insensitively; a trailing ``*`` matches any ending; a phrase
matches its words in order with any spacing. Discovery (TF-IDF + NMF, deterministic) runs on the
comments' text with the pinned keywords blanked out, so it finds what the pinned themes do not cover.
A comment belongs to every theme it mentions (0, 1 or several); there is no bin of leftovers.
"""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from custfocus.errors import InputError

# Contractions the token pattern keeps whole, and the words any customer comment uses whatever it is
# about (the shop, the order, the experience, how it was overall): none of them names a subject.
CONTRACTIONS = frozenset({"don't", "didn't", "i'm", "it's", "i've", "can't", "won't", "wasn't", "isn't",
                          "doesn't", "i'd", "you're", "they're", "that's", "there's", "i'll", "couldn't"})
COMMENT_FILLER = frozenset({
    "really", "just", "got", "get", "also", "like", "thing", "things", "time", "times", "bit", "lot", "way",
    "did", "does", "make", "made", "use", "used", "overall", "honestly", "honest", "fair", "whole", "far",
    "guess", "okay", "ok", "fine", "decent", "average", "usual", "expected", "experience", "order",
    "ordered", "orders", "bought", "buy", "buying", "thanks", "thank", "shop", "shopping", "store",
    "company", "customer", "service", "product", "products", "item", "items", "say", "said", "think",
    "know", "want", "wanted", "need", "needed", "went", "come", "came", "going", "good", "great",
    "bad", "better", "best", "nice", "ever", "recommend", "again", "still", "definitely",
})
MAX_DISCOVERY_SAMPLE = 30_000  # NMF is fitted on at most this many comments, then applied to all
CANDIDATE_COUNTS = (4, 6, 8, 10, 12, 15, 20)  # numbers of discovered themes tried by discover="auto"
STABILITY_FLOOR = 0.75  # mean cosine of matched themes across two halves needed to accept a count
STABILITY_SAMPLE = 12_000  # comments used to compare refits on two halves
MEMBERSHIP_SHARE = 0.25  # a comment is in a theme that explains at least this share of its text
MEMBERSHIP_FLOOR = 0.08  # ... and at least this much of it in absolute terms (rows have norm 1)
TOP_TERM_SHARE = 0.15  # a theme's top terms load at least this share of its first one
EVALUATIVE_VALENCE = 1.5
MIN_COMMENTS_TO_DISCOVER = 200
WORD = r"[a-z][a-z']+"
TOKEN_PATTERN = rf"(?u)\b{WORD}\b"


@dataclass(frozen=True)
class PinnedTheme:
    name: str
    keywords: tuple[str, ...]

    def pattern(self) -> re.Pattern:
        return re.compile("|".join(_keyword_regex(k) for k in self.keywords), re.IGNORECASE)


@dataclass(frozen=True)
class VoiceSettings:
    pinned: tuple[PinnedTheme, ...] = ()
    discover: int | str = "auto"  # "auto", or how many themes to discover (0 = none)


@dataclass(frozen=True)
class Themes:
    """The themes of a set of comments and which comment mentions which."""

    names: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]  # top terms (pinned: its keywords)
    pinned: tuple[bool, ...]
    membership: sparse.csr_matrix  # bool, (comments, themes)
    discovery_note: str  # how the discovered themes were chosen, in words

    @property
    def count(self) -> int:
        return len(self.names)

    def dense(self) -> np.ndarray:
        return self.membership.toarray().astype(bool)


def _keyword_regex(keyword: str) -> str:
    words = keyword.strip().split()
    parts = [re.escape(w.rstrip("*")) + (r"\w*" if w.endswith("*") else "") for w in words]
    return r"\b" + r"\s+".join(parts) + r"\b"


def read_settings(raw: dict, source: str | None) -> VoiceSettings:
    """Check the [voice] settings (or voice.toml) and say what is wrong with them, naming the file."""
    where = source or "the voice settings"
    unknown = set(raw) - {"themes", "discover"}
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; expected themes and discover.")
    discover = raw.get("discover", "auto")
    whole = isinstance(discover, int) and not isinstance(discover, bool)
    if not (discover == "auto" or (whole and 0 <= discover <= 30)):
        raise InputError(f"{where}: discover must be \"auto\" or a whole number from 0 to 30, not {discover!r}.")
    themes = raw.get("themes", {})
    if not isinstance(themes, dict):
        raise InputError(f"{where}: themes must be a table of names and keyword lists.")
    pinned = []
    for name, spec in themes.items():
        keywords = spec.get("keywords") if isinstance(spec, dict) else spec
        if isinstance(keywords, str):
            keywords = [keywords]
        if (not isinstance(keywords, list) or not keywords
                or not all(isinstance(k, str) and k.strip().strip("*") for k in keywords)):
            raise InputError(f"{where}: theme '{name}' needs a list of keywords or phrases in quotes, "
                             f"got {keywords!r}.")
        pinned.append(PinnedTheme(str(name), tuple(k.strip() for k in keywords)))
    return VoiceSettings(tuple(pinned), discover)


def find_themes(comments: pd.Series, settings: VoiceSettings = VoiceSettings()) -> Themes:
    """Pinned themes by keyword, then discovered ones; ``comments`` is a Series of non-empty strings."""
    text = comments.astype(str).reset_index(drop=True)
    columns, names, terms, pinned = [], [], [], []
    rest = text
    for theme in settings.pinned:
        pattern = theme.pattern()
        columns.append(text.str.contains(pattern).to_numpy())
        names.append(theme.name)
        terms.append(theme.keywords)
        pinned.append(True)
        rest = rest.str.replace(pattern, " ", regex=True)
    from threadpoolctl import threadpool_limits

    # NMF's many small matrix products run faster on one BLAS thread than fighting over two cores.
    with threadpool_limits(1, user_api="blas"):
        discovered = _discover(rest, settings.discover, taken=set(names))
    for name, top, member in discovered.themes:
        columns.append(member)
        names.append(name)
        terms.append(top)
        pinned.append(False)
    membership = (sparse.csr_matrix(np.column_stack(columns).astype(bool)) if columns
                  else sparse.csr_matrix((len(text), 0), dtype=bool))
    return Themes(tuple(names), tuple(terms), tuple(pinned), membership, discovered.note)


@dataclass(frozen=True)
class _Discovered:
    themes: list[tuple[str, tuple[str, ...], np.ndarray]]
    note: str


def _vectorizer(n_docs: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    # Words in fewer than ~0.2% of comments (typos, names) carry no theme; those in half are filler.
    # Strongly evaluative words ("great", "terrible") are left to sentiment: a theme is a subject.
    return TfidfVectorizer(lowercase=True, token_pattern=TOKEN_PATTERN,
                           stop_words=sorted(_stop_words() | _evaluative_words()),
                           ngram_range=(1, 2), min_df=max(3, int(0.002 * n_docs)), max_df=0.5,
                           sublinear_tf=True, max_features=20_000, dtype=np.float32)


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS | CONTRACTIONS | COMMENT_FILLER


def _discover(text: pd.Series, discover: int | str, taken: set[str]) -> _Discovered:
    if discover == 0:
        return _Discovered([], "Discovery is switched off (discover = 0): only the pinned themes are used.")
    usable = text.str.count(r"[A-Za-z]{2,}") >= 2
    if usable.sum() < MIN_COMMENTS_TO_DISCOVER:
        return _Discovered([], f"Too few comments ({int(usable.sum()):,}; at least "
                               f"{MIN_COMMENTS_TO_DISCOVER} needed) to discover themes.")
    order = _sample_order(len(text))
    sample = order[:MAX_DISCOVERY_SAMPLE]
    vectorizer = _vectorizer(len(sample))
    try:
        fitted = vectorizer.fit_transform(text.iloc[sample])
    except ValueError:  # every word is too rare or a stop word
        return _Discovered([], "No words are shared by enough comments to discover themes.")
    vocabulary = vectorizer.get_feature_names_out()
    if discover == "auto":
        count, note = _choose_count(fitted)
    else:
        count, note = int(discover), f"{discover} themes were asked for (discover = {discover})."
    count = min(count, fitted.shape[1] - 1, fitted.shape[0] - 1)
    if count < 1:
        return _Discovered([], "Too few distinct words to discover themes.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _nmf(count).fit(fitted)
    if any("iterations" in str(w.message) for w in caught):
        note += f" NMF stopped at its {_nmf(count).max_iter} iteration limit before full convergence."
    matrix = vectorizer.transform(text)
    weights = model.transform(matrix)
    loadings = model.components_
    tops = [_top_terms(loading, vocabulary) for loading in loadings]
    members = _membership(weights, loadings) & _says_a_top_term(matrix, tops, vocabulary)
    themes, used = [], set(taken)
    for k in np.argsort(-members.sum(axis=0), kind="stable"):  # the most mentioned first
        top = tops[k]
        member = members[:, k]
        if not top or not member.any():
            continue
        label = _label(top, used)
        used.add(label)
        themes.append((label, top, member))
    return _Discovered(themes, note)


@functools.cache
def _evaluative_words() -> frozenset[str]:
    """Words VADER rates strongly (|valence| >= 1.5 of 4): 'great', 'terrible', 'disappointing'."""
    from importlib.resources import files

    lines = files("vaderSentiment").joinpath("vader_lexicon.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(word for word, valence, *_ in (line.split("\t") for line in lines if line.count("\t") >= 2)
                     if abs(float(valence)) >= EVALUATIVE_VALENCE and re.fullmatch(WORD, word))


def _sample_order(n: int) -> np.ndarray:
    """A fixed shuffle of the rows: the same comments give the same sample on any machine."""
    return np.random.default_rng(20_240_607).permutation(n)


def _nmf(count: int):
    from sklearn.decomposition import NMF

    # nndsvda starts from an SVD, so there is no random start: the same data give the same themes.
    return NMF(n_components=count, init="nndsvda", solver="cd", beta_loss="frobenius", max_iter=400,
               tol=1e-4, alpha_W=0.0, alpha_H="same", l1_ratio=0.0, random_state=0)


def _choose_count(matrix: sparse.csr_matrix) -> tuple[int, str]:
    """The largest candidate count whose themes come back when NMF is refitted on each half.

    Stability across halves is what "the themes are real" means operationally: a theme that is an
    artefact of one sample does not reappear in an independent one.
    """
    from scipy.optimize import linear_sum_assignment

    matrix = matrix[:STABILITY_SAMPLE]  # rows are already in a fixed random order
    halves = np.arange(matrix.shape[0]) % 2 == 0
    scores = {}
    for count in CANDIDATE_COUNTS:
        if count >= min(matrix.shape) // 2:
            break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a half's fit only needs to be close to compare themes
            loadings = [_nmf(count).fit(matrix[side]).components_ for side in (halves, ~halves)]
        unit = [h / np.maximum(np.linalg.norm(h, axis=1, keepdims=True), 1e-12) for h in loadings]
        similarity = unit[0] @ unit[1].T
        rows, cols = linear_sum_assignment(-similarity)
        scores[count] = float(similarity[rows, cols].mean())
    if not scores:
        return 2, "Two themes: too few comments to compare more."
    stable = [c for c, s in scores.items() if s >= STABILITY_FLOOR]
    count = max(stable) if stable else max(scores, key=scores.get)
    shown = ", ".join(f"{c}: {s:.2f}" for c, s in scores.items())
    return count, (f"{count} themes: the largest number whose themes reappear when refitted on two "
                   f"halves of the comments (mean cosine of matched themes {shown}; floor "
                   f"{STABILITY_FLOOR}).")


def _membership(weights: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    contribution = weights * np.linalg.norm(loadings, axis=1)
    total = contribution.sum(axis=1, keepdims=True)
    share = np.divide(contribution, total, out=np.zeros_like(contribution), where=total > 0)
    return (share >= MEMBERSHIP_SHARE) & (contribution >= MEMBERSHIP_FLOOR)


def _says_a_top_term(matrix: sparse.csr_matrix, tops: list[tuple[str, ...]], vocabulary: np.ndarray) -> np.ndarray:
    """Whether each comment contains one of each theme's top terms: a theme's members say it."""
    index = {term: i for i, term in enumerate(vocabulary)}
    listed = np.zeros((len(vocabulary), len(tops)), dtype=np.float32)
    for k, top in enumerate(tops):
        listed[[index[t] for t in top], k] = 1.0
    return np.asarray((matrix > 0).astype(np.float32) @ listed) > 0


def _top_terms(loading: np.ndarray, vocabulary: np.ndarray, count: int = 8) -> tuple[str, ...]:
    order = np.argsort(-loading, kind="stable")[:count]
    return tuple(str(vocabulary[i]) for i in order if loading[i] > TOP_TERM_SHARE * loading[order[0]])


def _label(top: tuple[str, ...], used: set[str]) -> str:
    """The top terms, dropping a word already inside an earlier phrase: 'late delivery / waiting'."""
    chosen: list[str] = []
    for term in top:
        if any(term in c.split() or c in term.split() for c in chosen):
            if " " in term and all(term not in c for c in chosen) and not any(" " in c for c in chosen):
                chosen = [c for c in chosen if c not in term.split()] + [term]
            continue
        chosen.append(term)
        if len(chosen) == 2:
            break
    label = " / ".join(chosen)
    while label in used:
        label += " (2)"
    return label
