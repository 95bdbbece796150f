"""Did-you-mean for class and parameter names."""

from __future__ import annotations

from collections.abc import Iterable


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> tuple[str, ...]:
    """Did-you-mean: case-insensitive equals first, then difflib's close matches (also case-insensitive)."""
    import difflib  # only on the error path

    folded: dict[str, str] = {}
    for candidate in candidates:
        folded.setdefault(candidate.casefold(), candidate)
    exact = [c for f, c in folded.items() if f == word.casefold() and c != word]
    fuzzy = [folded[f] for f in difflib.get_close_matches(word.casefold(), list(folded), n=n, cutoff=0.6)]
    return tuple(dict.fromkeys(c for c in [*exact, *fuzzy] if c != word))[:n]
