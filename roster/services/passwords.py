"""What makes a password acceptable when a person chooses one."""

from __future__ import annotations

import re

from flask import current_app
from werkzeug.security import generate_password_hash

MIN_PASSWORD_LENGTH = 10

# Words that make up most breached passwords once digits and symbols are stripped from their ends.
COMMON_WORDS = frozenset("""
password passw0rd pass passwd welcome letmein qwerty qwertyuiop asdfgh asdfghjkl zxcvbnm admin administrator
iloveyou monkey dragon sunshine football baseball princess master shadow superman batman trustno1 abc123
roster clinic rehab therapy hospital health medical changeme secret login access hello whatever freedom
summer winter spring autumn fall january february march april june july august september october november
december michael jennifer charlie jordan hunter starwars computer internet mustang soccer hockey
""".split())

COMMON_PASSWORDS = frozenset("""
1234567890 12345678910 0123456789 0987654321 9876543210 1111111111 1234512345 1qaz2wsx3edc qwerty12345
qwertyuiop1 password12 password123 password1234 passw0rd123 iloveyou12 welcome123 letmein123 abcdefghij
abc1234567 123qweasdzxc qazwsxedcrfv 1q2w3e4r5t 1q2w3e4r5t6y zaq12wsxcde 123456789a a123456789
""".split())

SEQUENCES = ("abcdefghijklmnopqrstuvwxyz", "01234567890", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb")


def password_problem(password: str, email: str = "", name: str = "") -> str | None:
    """None when acceptable, else a sentence that says what to change."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > 200:
        return "Use at most 200 characters."
    lowered = password.lower()
    local = email.split("@")[0].lower() if email else ""
    if email and (email.lower() in lowered or (len(local) >= 4 and local in lowered)):
        return "Do not use your e-mail address in your password."
    for part in (name or "").lower().split():
        if len(part) >= 4 and part in lowered:
            return "Do not use your name in your password."
    core = re.sub(r"^[\W\d_]+|[\W\d_]+$", "", lowered)
    if lowered in COMMON_PASSWORDS or core in COMMON_WORDS or re.sub(r"[\W_]", "", lowered) in COMMON_PASSWORDS:
        return "That password is too common; attackers try it first. Use a few unrelated words."
    if _trivial(lowered):
        return "That password follows a simple pattern (repeats or a run of keys). Use a few unrelated words."
    return None


def _trivial(text: str) -> bool:
    if len(set(text)) < 4:
        return True
    for period in range(1, 5):  # "abcabcabcabc", "12121212..."
        if len(text) >= 2 * period and text == (text[:period] * (len(text) // period + 1))[: len(text)]:
            return True
    compact = re.sub(r"[\W_]", "", text)
    for seq in SEQUENCES:
        if len(compact) >= 6 and (compact in seq or compact in seq[::-1]):
            return True
    return False


def hash_method() -> str:
    """The app's ``PASSWORD_HASH_METHOD``: scrypt unless configured (the test suite picks a cheap
    method, as Django's tests do, because scrypt costs ~0.1 s by design)."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")


def hash_password(password: str) -> str:
    """A salted hash made with the app's hash method."""
    return generate_password_hash(password, method=hash_method())
