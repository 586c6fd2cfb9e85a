"""How guessable a shared secret is: a conservative estimate of its bits, for start-up checks.

An HS256 token is forged by whoever finds its key, and the search runs offline, as fast as
HMAC runs, against any token the attacker holds. Length alone says nothing (`'a' * 32`,
`'changeme' * 4` and `'a'` followed by 31 spaces are 32 bytes each), so the estimate counts
only what a guesser cannot predict:

    bits = novel characters x log2(alphabet)

- **alphabet**: the size of the smallest of these sets that holds every character of the
  secret: digits (10); hex digits, lowercase or uppercase (16); lowercase letters, or
  uppercase ones (26); either with digits (36); lowercase letters, digits, space, `-`, `_`
  and `.` (40: words with separators); letters and digits (62); the base64 and base64url
  alphabets together, with `=` (67); printable ASCII (95). A secret with any other
  character counts 95 too.
- **novel**: a character is predictable, and counts nothing, when it
  - repeats the one before it (`aaaa`, 31 spaces);
  - continues a sequence: the same step as the one before it, a step of 1 to 5 code
    points up or down (`abcd`, `4321`, `acegi`);
  - continues a walk along a keyboard row: it and the character before it are neighbours
    on one row of a QWERTY keyboard, and so are the two before (`qwerty`, `asdf`, `7890`);
  - ends three characters (case ignored) that already appeared earlier in the secret
    (`changemechangeme`: the second `changeme` adds its first two characters only).

A generated secret is almost all novel: 43 base64 characters (32 random bytes) estimated at
255 bits on average and never under 218 in 100,000 draws; 64 hex digits at 234, never under
188. What this cannot see is words: a phrase of 40 lowercase
letters estimates like 40 random ones. It refuses the lazy and the repetitive; a secret
still has to come from a generator (`openssl rand -base64 48`), which the docs say.
"""

from __future__ import annotations

import itertools
import math
import string

_LOWER, _UPPER, _DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
# (size, characters), smallest first; `string.printable` is not one: it has \t\n\r\x0b\x0c.
_ALPHABETS: tuple[tuple[int, frozenset[str]], ...] = tuple(
    (len(set(characters)), frozenset(characters))
    for characters in (
        _DIGITS,
        "0123456789abcdef",
        "0123456789ABCDEF",
        _LOWER,
        _UPPER,
        _LOWER + _DIGITS,
        _UPPER + _DIGITS,
        _LOWER + _DIGITS + " -_.",  # words and numbers with separators
        _LOWER + _UPPER + _DIGITS,
        _LOWER + _UPPER + _DIGITS + "+/-_=",  # base64 and base64url, with padding
        _LOWER + _UPPER + _DIGITS + string.punctuation + " ",  # printable ASCII
    )
)
_WIDEST = 95
# Rows of a QWERTY keyboard, unshifted and shifted: walks along them are predictable.
_ROWS = ("1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./",
         "!@#$%^&*()_+", "QWERTYUIOP{}", "ASDFGHJKL:\"", "ZXCVBNM<>?")
_NEIGHBOURS = frozenset(
    pair for row in _ROWS for a, b in itertools.pairwise(row) for pair in (a + b, b + a)
)
SEQUENCE_STEP_MAX = 5
# RFC 7518 3.2: an HS256 key must be at least as long as the hash, 256 bits.
HS_SECRET_MIN_BYTES = 32
# And not guessable: 2^128 offline HMAC guesses are out of anyone's reach.
HS_SECRET_MIN_BITS = 128
GENERATE_A_SECRET = "generate one with `openssl rand -base64 48`"


def alphabet_size(secret: str) -> int:
    """The size of the smallest usual alphabet holding every character of `secret`."""
    characters = set(secret)
    return next((size for size, alphabet in _ALPHABETS if characters <= alphabet), _WIDEST)


def novel_characters(secret: str) -> int:
    """How many characters of `secret` are neither runs, sequences, keyboard walks nor
    repeats of three characters seen before (see the module's docstring)."""
    novel = 0
    seen: set[str] = set()
    folded = secret.casefold() if len(secret.casefold()) == len(secret) else secret
    for index in range(len(secret)):
        triple = folded[index - 2:index + 1] if index >= 2 else ""
        if not _predictable(secret, index) and triple not in seen:
            novel += 1
        if triple:
            seen.add(triple)
    return novel


def _predictable(secret: str, index: int) -> bool:
    if index == 0:
        return False
    character, before = secret[index], secret[index - 1]
    if character == before:
        return True
    if index == 1:
        return False
    earlier = secret[index - 2]
    step = ord(character) - ord(before)
    if step == ord(before) - ord(earlier) and 0 < abs(step) <= SEQUENCE_STEP_MAX:
        return True
    return before + character in _NEIGHBOURS and earlier + before in _NEIGHBOURS


def estimated_bits(secret: str) -> float:
    """A conservative estimate of the bits a guesser must search to find `secret`."""
    if not secret:
        return 0.0
    return novel_characters(secret) * math.log2(alphabet_size(secret))


def secret_weakness(secret: str, name: str = "JWT_SECRET") -> str | None:
    """Why production refuses `secret` as the setting `name` (JWT_SECRET, VISIT_SECRET: one
    rule for every HMAC key), in one line; None when it may serve."""
    size = len(secret.encode("utf-8", "surrogatepass"))
    if size < HS_SECRET_MIN_BYTES:
        return (f"{name} has {size} bytes; production needs at least"
                f" {HS_SECRET_MIN_BYTES} random bytes")
    bits = estimated_bits(secret)
    if bits < HS_SECRET_MIN_BITS:
        return (f"{name} is guessable: an estimated {bits:.0f} bits (repeats, runs,"
                f" sequences and keyboard walks count nothing); production needs at least"
                f" {HS_SECRET_MIN_BITS}")
    return None
