"""Signing in through the real API: password login, TOTP enrolment for users who need a second
factor (administrators), and API tokens minted from the resulting session.

Used by the fuzzer and the benchmarks, so every request they make is authenticated the way a
client's would be (`Authorization: Bearer hk_...` needs no XSRF header)."""
from __future__ import annotations

import time

import requests


class SignInError(RuntimeError):
    pass


def _code(secret: str, spent: set[int]) -> str:
    """A TOTP code for a time step not used yet (each code is single-use)."""
    import pyotp

    totp = pyotp.TOTP(secret)
    step = totp.timecode(time.time())
    while step in spent:
        if step < totp.timecode(time.time()) + 1:
            step += 1
        else:
            time.sleep(1)
    spent.add(step)
    return totp.generate_otp(step)


def sign_in(base_url: str, login: str, password: str, *, totp_secret: str | None = None
            ) -> tuple[requests.Session, str | None]:
    """A `requests.Session` signed in as `login` (XSRF header set) and the user's TOTP secret
    (enrolled here when the account needs one and has none)."""
    http = requests.Session()
    spent: set[int] = set()
    body = {"login": login, "password": password}
    if totp_secret:
        body["totp"] = _code(totp_secret, spent)
    answer = http.post(f"{base_url}/api/v1/auth/login", json=body, timeout=30)
    if answer.status_code != 200:
        raise SignInError(f"login {login!r}: {answer.status_code} {answer.text[:300]}")
    data = answer.json()
    http.headers["X-XSRF-Token"] = data["xsrf_token"]
    if data["state"] == "pending_2fa":
        setup = http.post(f"{base_url}/api/v1/auth/totp/setup", timeout=30)
        if setup.status_code != 200:
            raise SignInError(f"totp setup {login!r}: {setup.status_code} {setup.text[:300]}")
        totp_secret = setup.json()["secret"]
        confirm = http.post(f"{base_url}/api/v1/auth/totp/confirm",
                            json={"code": _code(totp_secret, spent)}, timeout=30)
        if confirm.status_code != 200:
            raise SignInError(f"totp confirm {login!r}: {confirm.status_code} {confirm.text[:300]}")
        http.headers["X-XSRF-Token"] = confirm.json()["xsrf_token"]
    return http, totp_secret


def mint_token(http: requests.Session, base_url: str, name: str = "bench") -> tuple[int, str]:
    """`POST /api/v1/auth/tokens` from a signed-in session → (token id, secret)."""
    answer = http.post(f"{base_url}/api/v1/auth/tokens", json={"name": name}, timeout=30)
    if answer.status_code != 201:
        raise SignInError(f"token: {answer.status_code} {answer.text[:300]}")
    data = answer.json()
    return data["id"], data["token"]


def api_token(base_url: str, login: str, password: str, name: str = "bench") -> tuple[int, str]:
    """Sign in (enrolling TOTP if needed) and mint an API token: (token id, secret)."""
    http, _ = sign_in(base_url, login, password)
    try:
        return mint_token(http, base_url, name)
    finally:
        http.close()
