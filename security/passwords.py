"""argon2id password hashing and the configurable password policy."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A fixed hash to verify against when the user is unknown, so both answers take as long.
_DUMMY_HASH = _hasher.hash("huike-dummy-password-for-timing")


class PasswordPolicyError(ValueError):
    """The password does not satisfy the configured policy."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; runs a full verification even for a missing hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def check_policy(password: str, min_length: int = 10, login: str | None = None,
                 min_classes: int = 2) -> None:
    """Raise `PasswordPolicyError` (message in Chinese and English) if the password is weak."""
    problems = []
    if len(password) < min_length:
        problems.append(f"至少 {min_length} 个字符 / at least {min_length} characters")
    classes = sum([any(c.islower() for c in password), any(c.isupper() for c in password),
                   any(c.isdigit() for c in password), any(not c.isalnum() for c in password)])
    if classes < min_classes:
        problems.append(f"至少包含 {min_classes} 类字符（小写、大写、数字、符号） / "
                        f"mix at least {min_classes} character classes")
    if login and login.lower() in password.lower():
        problems.append("不能包含登录名 / must not contain the login name")
    if problems:
        raise PasswordPolicyError("；".join(problems))
