"""Password hashing with argon2id, and the one check every new password passes.

The check follows the NCSC's password guidance: a minimum length, a generous maximum, a deny-list
of common passwords, and no composition rules (no "one capital, one digit, one symbol"), which
only push people to predictable variations.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn  # type: ignore[import-untyped]  # zxcvbn ships no type hints
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

_hasher = PasswordHasher()

# Verified against when the email is unknown, so a wrong email costs the same time as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_LENGTH = 12
# Long enough for any passphrase or password manager; bounded so hashing and the deny-list check
# cannot be made to take long.
MAX_LENGTH = 128

# The 30,000 most common passwords from breach corpora, as zxcvbn ships them (lower case).
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# zxcvbn's score 3 is about 10^8 guesses: below it the password is a common one with a small
# change ("password1234", "monkey123456", a keyboard row, a sequence), the breached-style passwords
# a deny-list of exact entries misses.
_MIN_SCORE = 3

_NOT_LETTERS_OR_DIGITS = re.compile(r"[\W_]+")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _squashed(text: str) -> str:
    return _NOT_LETTERS_OR_DIGITS.sub("", text.casefold())


def password_problem(password: str, *, email: str = "", name: str = "", own: bool = True) -> str | None:
    """A GOV.UK-style message saying what is wrong with a new password, else None.

    ``email`` and ``name`` are the account's; ``own`` says whether the person typing is its owner
    (the message then says "your", else "the user's").
    """
    whose = "your" if own else "the user's"
    if not password.strip():
        return "Password must not be only spaces"
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    if len(set(password)) == 1:
        return "Password must not be one character repeated"
    squashed = _squashed(password)
    for part in (email, name):
        if _squashed(part) and _squashed(part) in squashed:
            return f"Password must not contain {whose} name or email address"
    if password.casefold() in COMMON_PASSWORDS or password.strip().casefold() in COMMON_PASSWORDS:
        return "Password is a commonly used password. Choose a different one, such as 3 random words"
    # No user_inputs: zxcvbn keeps them in a module-level dictionary, which threads would share.
    if zxcvbn(password, max_length=MAX_LENGTH)["score"] < _MIN_SCORE:
        return (
            "Password is too easy to guess: it is close to a commonly used password or a simple "
            "pattern. Choose a different one, such as 3 random words"
        )
    return None
