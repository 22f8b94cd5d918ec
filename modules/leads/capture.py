"""Web-form capture: public forms that file leads straight into a division.

`POST /api/v1/forms/<key>` needs no login and no XSRF token — the form key names a
`LeadForm` (division, source, campaign, CORS allow-list, default owner). The submission path:

1. unknown or inactive key → 404; a browser `Origin` outside the allow-list → 403;
2. per-IP rate limit per form (`rate_per_minute`, default 10) → 429 with `Retry-After`;
3. honeypot: a non-empty `website_url` (a field real visitors never see) answers 201 like
   a success but nothing is kept — bots learn nothing;
4. the fields are cleaned like any lead (422 naming bad fields: the page can show them);
   a name and at least one of mobile / e-mail / WeChat are required;
5. score the lead (before the transaction: scoring only reads its rules), then in one
   transaction: the rest of `pipeline.before_insert` (choose the owner, start the clocks),
   one INSERT writing all of it, `pipeline.after_insert` (the owner's note and outbox event),
   one audit entry carrying the visitor's IP; answer 201 `{"ok": true}` (no id: the caller is
   anonymous).

The rate limiter is an in-process token bucket: with N web processes a visitor gets up to N
times the rate (nginx `limit_req` in front is the cross-process limit; see deploy notes).

Form administration (`/api/v1/leads/forms`) goes through the door like any model
(`model/lead_form`, division scope).
"""
from __future__ import annotations

import functools
import re
import secrets
import threading
import time

from core.db import atomic, is_postgres
from core.web.base import APIError
from modules.base.models import User
from modules.contacts.common import (as_pk, check_input, division_id, insert_in_scope,
                                     unprocessable, update_in_scope)
from modules.leads import pipeline
from modules.leads.breakdown import store_of
from modules.leads.importer.batch import PIPELINE_COLUMNS
from modules.leads.models import SOURCES, Lead
from modules.leads.models_capture import LeadForm
from modules.leads.validation import Refs, clean
from security.crud import get_or_404, require_model, scoped_select
from security.serialisation import serialise

HONEYPOT = "website_url"
FORM_FIELDS = ("name", "company", "title", "mobile", "email", "wechat", "region", "industry",
               "budget", "need")
ORIGIN_RE = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")
MAX_UTM = 200
CHANNEL_NAMES = ("mobile", "email", "wechat")


class RateLimiter:
    """Token buckets per key: `rate` tokens a minute, bursts up to `rate` (thread-safe)."""

    def __init__(self, clock=time.monotonic, max_keys: int = 100_000):
        self._clock = clock
        self._buckets: dict[tuple, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def take(self, key: tuple, rate: int) -> float:
        """0 when allowed (a token is spent), else the seconds until the next token."""
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(rate), now))
            tokens = min(float(rate), tokens + (now - last) * rate / 60.0)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self._trim()
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1 - tokens) * 60.0 / rate

    def _trim(self) -> None:
        if len(self._buckets) > self._max_keys:  # forget the oldest half (full buckets anyway)
            for key in sorted(self._buckets, key=lambda k: self._buckets[k][1])[
                    : self._max_keys // 2]:
                del self._buckets[key]


LIMITER = RateLimiter()


# ------------------------------------------------------------------ public submission
FORM_FIELDS_READ = ("id", "key", "name", "division", "source", "campaign", "allowed_origins",
                    "owner", "rate_per_minute", "active")


def active_form(key: str) -> LeadForm:
    from modules.leads import rawsql

    found = rawsql.load(LeadForm, FORM_FIELDS_READ, '"key" = ? AND "active" = ?', (key, True))
    form = found[0] if found else None
    if form is None:
        raise APIError(404, "表单不存在 / no such form", code="not_found")
    return form


def origin_allowed(form: LeadForm, origin: str | None) -> bool:
    """Requests without an Origin (server-to-server) are allowed; a browser's must be listed."""
    return not origin or origin in (form.allowed_origins or [])


def _utm(data: dict) -> dict:
    return {k: str(v)[:MAX_UTM] for k, v in data.items()
            if isinstance(k, str) and k.startswith("utm_") and len(k) <= 40}


def submit(ctx, form: LeadForm, data: dict, limiter: RateLimiter = LIMITER) -> int | None:
    """File one submission; returns the new lead's id (None when the honeypot caught it).
    `ctx` is a system context carrying the visitor's IP."""
    wait = limiter.take((form.key, ctx.ip), max(1, form.rate_per_minute))
    if wait:
        raise APIError(429, "提交过于频繁，请稍后再试 / too many submissions, try again later",
                       code="too_many_requests", fields={"retry_after": int(wait) + 1})
    if str(data.get(HONEYPOT) or "").strip():
        return None
    values, errors = clean({k: data[k] for k in FORM_FIELDS if k in data}, Refs.load())
    if not any(values.get(c) for c in ("mobile", "email", "wechat")) and not (
            set(errors) & {"mobile", "email", "wechat"}):
        errors["mobile"] = "请留下手机、邮箱或微信 / leave a mobile, e-mail or WeChat"
    if errors:
        raise unprocessable(errors)
    return _insert(ctx, form, values, _utm(data))


def _insert(ctx, form: LeadForm, values: dict, utm: dict) -> int:
    from security import audit

    now = ctx.now()
    row = {**values, "source": form.source, "campaign": form.campaign, "form_key": form.key,
           "division": form.division_id, "owner": form.owner_id, "status": "new",
           "status_changed_at": now, "created_at": now, "updated_at": now,
           "custom": {"utm": utm} if utm else {}}
    lead = _as_new(row)
    for step in _before_insert_steps(locked=False):
        step(ctx, [lead])  # scoring: reads rules only, so it runs before the write lock
    with atomic(release_early=True):  # the cursor and audit-head row locks go at COMMIT
        for step in _before_insert_steps(locked=True):
            step(ctx, [lead])  # owner (round-robin cursor), clocks: written by the INSERT
        data = lead.__data__
        store_of(ctx).flush()  # the score breakdown's text, if new (scored before the lock)
        pk = _insert_row({**row, "score_breakdown": data["score_breakdown"],
                          **{k: data[k] for k in PIPELINE_COLUMNS if k in data}},
                         getattr(lead, "breakdown_json", None))
        data["id"] = pk
        pipeline.after_insert(ctx, [lead])  # the new owner's note and outbox event
        audit.record(ctx, "create", model=Lead._meta.table_name, res_id=pk,
                     details={"form": form.key}, division_id=form.division_id)
    return pk


LOCK_FREE_STEPS = (("modules.leads.scoring", "score_new"),)


def _before_insert_steps(locked: bool) -> list:
    """`pipeline.BEFORE_INSERT` split in two, order kept: the leading steps that only read
    settings and change the in-memory lead (`LOCK_FREE_STEPS`: scoring) run before the
    transaction; the rest (assignment: the cursor under its row lock) inside it. Every
    statement inside the transaction holds SQLite's write lock (BEGIN IMMEDIATE) and every
    other writer waits for it: scoring's rule read and evaluation were a quarter of that
    hold per capture (2×4 bench profile)."""
    steps = pipeline.BEFORE_INSERT
    split = 0
    while split < len(steps) and steps[split] in LOCK_FREE_STEPS:
        split += 1
    chosen = steps[split:] if locked else steps[:split]
    return [func for func in (pipeline._step(m, n) for m, n in chosen) if func is not None]


def _insert_row(row: dict, breakdown: str | None = None) -> int:
    """INSERT the lead as the import does (`importer.sql.InsertPlan`: every column's default
    computed here, channels encrypted and blind-indexed by `importer.crypt`, SQL text built
    once per process) — what `Lead.insert(row)` stores, without peewee building the query
    (a fifth of the capture transaction's CPU, pyinstrument)."""
    from modules.leads.importer.crypt import BatchCrypter

    plan, specs = _plan(is_postgres())
    crypter = BatchCrypter(specs)
    values = plan.template({k: v for k, v in row.items() if k not in CHANNEL_NAMES})
    if breakdown is not None:  # as scoring stores it (`breakdown.pointer`)
        values[plan.position["score_breakdown"]] = breakdown
    for spec in specs:
        values[plan.position[spec.name]] = crypter.encrypt(spec, row.get(spec.name))
        values[plan.position[spec.index_name]] = crypter.index(spec, row.get(spec.name))
    return plan.insert_one(values)


@functools.lru_cache(maxsize=2)
def _plan(postgres: bool):
    from modules.leads.importer.crypt import channels
    from modules.leads.importer.sql import InsertPlan

    return InsertPlan(), channels()


def _as_new(row: dict) -> Lead:
    """The new lead, before its INSERT, with every column scoring and assignment read (their
    `COLUMNS`) for `pipeline.before_insert`. Channels are present as given (in memory only:
    scoring asks whether they are filled)."""
    lead = Lead.__new__(Lead)
    lead.__data__ = {"score": 0, "score_breakdown": [], "hot": False, "last_activity_at": None,
                     "first_response_at": None, "first_response_due_at": None,
                     "pool_entered_at": None, "merged_into": None, **row, "id": None}
    lead._dirty = set()
    lead.__rel__ = {}
    return lead


# ------------------------------------------------------------------ administration
def _clean_form(data: dict, creating: bool) -> dict:
    problems, values = {}, {}
    if "name" in data or creating:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
            problems["name"] = "必填，最多 100 字 / required, at most 100 characters"
        else:
            values["name"] = name.strip()
    if "source" in data:
        if data["source"] not in SOURCES:
            problems["source"] = "可选 / one of: " + ", ".join(SOURCES)
        else:
            values["source"] = data["source"]
    if "campaign" in data:
        campaign = data["campaign"]
        if campaign is not None and (not isinstance(campaign, str) or len(campaign) > 100):
            problems["campaign"] = "最多 100 字 / at most 100 characters"
        else:
            values["campaign"] = campaign.strip() if campaign else None
    if "allowed_origins" in data:
        origins = data["allowed_origins"]
        if not isinstance(origins, list) or not all(
                isinstance(o, str) and ORIGIN_RE.match(o) for o in origins):
            problems["allowed_origins"] = ("需要来源列表，如 https://www.example.com / a list of "
                                           "origins like https://www.example.com")
        else:
            values["allowed_origins"] = sorted(set(origins))
    _clean_scalars(data, values, problems)
    if problems:
        raise unprocessable(problems)
    return values


def _clean_scalars(data: dict, values: dict, problems: dict) -> None:
    if "active" in data:
        if not isinstance(data["active"], bool):
            problems["active"] = "必须是 true/false / must be true or false"
        else:
            values["active"] = data["active"]
    if "rate_per_minute" in data:
        rate = data["rate_per_minute"]
        if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= 600:
            problems["rate_per_minute"] = "1–600"
        else:
            values["rate_per_minute"] = rate
    if "owner" in data:
        owner = data["owner"]
        pk = as_pk(owner) if owner is not None else None
        if owner is not None and (pk is None or not User.select().where(
                (User.id == pk) & (User.active == True)).exists()):  # noqa: E712
            problems["owner"] = "没有这个在职用户 / no such active user"
        else:
            values["owner"] = pk


def create_form(ctx, data: dict) -> dict:
    require_model(ctx, LeadForm, "create")
    check_input(ctx, LeadForm, data, "create", ("key", "division", "created_by"))
    values = _clean_form(data, creating=True)
    system = {"key": secrets.token_urlsafe(12), "division": division_id(ctx),
              "created_by": ctx.user_id}
    pk = insert_in_scope(ctx, LeadForm, values, system)
    return get_form(ctx, pk)


def update_form(ctx, form_id, data: dict) -> dict:
    require_model(ctx, LeadForm, "update")
    check_input(ctx, LeadForm, data, "write", ("key", "division", "created_by"))
    values = _clean_form(data, creating=False)
    form = get_or_404(ctx, LeadForm, form_id, "read")
    update_in_scope(ctx, LeadForm, form.id, values)
    return get_form(ctx, form.id)


def get_form(ctx, form_id) -> dict:
    return serialise(ctx, LeadForm, [get_or_404(ctx, LeadForm, form_id, "read")])[0]


def list_forms(ctx) -> list[dict]:
    rows = scoped_select(ctx, LeadForm, "list").order_by(LeadForm.id).limit(500)
    return serialise(ctx, LeadForm, rows)
