"""TOTP second factor (RFC 6238 via pyotp): who needs it, enrolment, and one-time verification.

A user needs a second factor when `is_admin` and `security.admin_requires_2fa`, or when any of
their roles has `requires_2fa`. A user who enrolled voluntarily is asked for a code as well.
Codes of the previous, current and next 30-second step are accepted (clock drift), and each
step at most once: `last_step` only moves forward, with an atomic conditional update, so a code
cannot be replayed — not even by two simultaneous logins."""
from __future__ import annotations

import datetime as dt
import hmac

import pyotp

from modules.base.models import Role, User, UserRole
from security.auth.models import TotpDevice

DRIFT_STEPS = 1


def requires_2fa(user: User, settings) -> bool:
    if user.is_admin and settings["security"]["admin_requires_2fa"]:
        return True
    return (UserRole.select().join(Role)
            .where(UserRole.user == user, Role.requires_2fa == True)  # noqa: E712
            .exists())


def confirmed_device(user: User) -> TotpDevice | None:
    return TotpDevice.get_or_none(TotpDevice.user == user, TotpDevice.confirmed_at.is_null(False))


def _aware(now: dt.datetime) -> dt.datetime:
    return now.replace(tzinfo=dt.timezone.utc)


def begin(user: User, issuer: str, now: dt.datetime) -> tuple[str, str]:
    """Create (or replace) the user's unconfirmed enrolment; return (secret, otpauth URI)."""
    secret = pyotp.random_base32()
    TotpDevice.delete().where(TotpDevice.user == user,
                              TotpDevice.confirmed_at.is_null()).execute()
    TotpDevice.create(user=user, secret=secret, created_at=now)
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name=issuer)
    return secret, uri


def pending_device(user: User) -> TotpDevice | None:
    return TotpDevice.get_or_none(TotpDevice.user == user, TotpDevice.confirmed_at.is_null())


def matching_step(device: TotpDevice, code: str, now: dt.datetime) -> int | None:
    """The time step whose code equals `code` within the drift window, or None."""
    code = (code or "").strip()
    if not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(device.secret)
    current = totp.timecode(_aware(now))
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def consume(device: TotpDevice, code: str, now: dt.datetime, *, confirm: bool = False) -> bool:
    """Accept `code` once: True when it matches a step later than any step used before."""
    step = matching_step(device, code, now)
    if step is None:
        return False
    values = {TotpDevice.last_step: step}
    if confirm:
        values[TotpDevice.confirmed_at] = now
    updated = (TotpDevice.update(values)
               .where(TotpDevice.id == device.id, TotpDevice.last_step < step).execute())
    return updated == 1
