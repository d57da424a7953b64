"""Template globals and filters: navigation by role, local dates and times (Babel), permission checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import Flask, current_app, g, request, session, url_for
from flask_login import current_user
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from itsdangerous.encoding import base64_decode, bytes_to_int
from markupsafe import Markup, escape

from roster.domain import locale_format as lf

from roster.permissions import ROLE_LABELS, can, permission_of, role_can

# (label, endpoint) in the order they appear; a link shows to whoever may open its page (the
# permission its view @requires)
NAVIGATION = (
    ("Today", "frontdesk.today"),
    ("Classes", "schedule.classes"),
    ("Patients", "people.patients"),
    ("Caregivers", "people.caregivers"),
    ("Facilitators", "people.facilitators"),
    ("Open sessions", "frontdesk.end_of_day"),
    ("Billing", "billing.review"),
    ("Exports", "billing.exports"),
    ("Audit", "billing.audit"),
    ("Staff", "auth.users"),
    ("Billing settings", "billing.settings"),
)


def navigation_for_user() -> tuple[tuple[str, str, str], ...]:
    """(label, endpoint, address) of the links the signed-in user may follow. They follow from the role (what
    its permissions open) and the app's path prefix alone, so each app works them out once per role and prefix
    (every page showed eleven permission checks and address builds)."""
    user = current_user
    if not user or not user.is_authenticated:
        return ()
    role = user.role
    return _remembered("roster.navigation", (role, request.script_root), 65, lambda: tuple(  # roles x prefixes
        (label, ep, url_for(ep)) for label, ep in NAVIGATION if (perm := permission_of(ep)) and role_can(role, perm)))


def _remembered(name: str, key, limit: int, make: Callable):
    """``make()``, remembered per app under ``name`` by ``key``; the memo starts over when it holds ``limit``
    answers (its keys are few by nature: roles, path prefixes, the addresses pages use)."""
    known = current_app.extensions.setdefault(name, {})
    value = known.get(key)
    if value is None:
        value = make()
        if len(known) >= limit:
            known.clear()
        known[key] = value
    return value


def clinic_locale() -> str:
    """The locale dates and times are written in (``CLINIC_LOCALE``, default en_US); asked for by
    every date and time a page writes (hundreds), so it is worked out once per request."""
    locale = g.get("_roster_locale")
    if locale is None:
        locale = g._roster_locale = str(get_locale() or current_app.config["CLINIC_LOCALE"])
    return locale


def html_lang() -> str:
    return clinic_locale().replace("_", "-")


def _formatter(fn: Callable, takes_zone: bool = True) -> Callable:
    """A template filter over a domain formatter: blank for None, the clinic's locale and zone.

    The formatters are pure, and a busy page writes the same few days and times hundreds of
    times (Babel's pattern lookup is the slow part): answers are remembered."""
    fn = lru_cache(maxsize=8192)(fn)

    def apply(value, tz: str | None = None):
        if value is None or value == "":
            return ""
        if takes_zone:
            return fn(value, clinic_locale(), tz or current_app.config["CLINIC_TIMEZONE"])
        return fn(value, clinic_locale())
    apply.cache_info = fn.cache_info
    return apply


def local_iso_date(value: datetime | None, tz: str | None = None) -> str:
    """The local date as YYYY-MM-DD (for links and date inputs, not for reading)."""
    if value is None:
        return ""
    return lf.to_local(value, tz or current_app.config["CLINIC_TIMEZONE"]).date().isoformat()


# "Fri, Nov 27, 2026, 3:00 PM" in the zone ``tz`` (default the clinic's); one formatter and its cache
# for every call (it was made anew, with an empty cache, on each call)
local_time = _formatter(lf.day_and_clock)


# The same formats for messages written in views (flash)
format_clock = _formatter(lf.clock)
format_day = _formatter(lf.day)


_STAND_IN = 918273645546372819  # stands for the id in an address built once for many ids


def cached_url(endpoint: str, **values) -> str:
    """``url_for(endpoint, **values)``, remembered per app by the path prefix, the endpoint and the values (which
    must be hashable). A relative address follows from these alone, as the navigation's do: every page wrote the
    same stylesheet, script and account links anew (``url_for`` costs ~15-50 µs)."""
    # prefixes x endpoints x the values pages use (days, sessions)
    return _remembered("roster.addresses", (request.script_root, endpoint, *values.items()), 1024,
                       lambda: url_for(endpoint, **values))


class AddressById(NamedTuple):
    """``url_for(endpoint, **{name: i}, _anchor=anchor)`` for many ids from one build: the address around a
    stand-in id, the id filled in per call (the day's list links each of ~50 sessions three times, the billing
    review ~200 findings). A value (a tuple: hashed and compared without a Python call): rows rendered by
    ``cached_macro`` are remembered by the addresses they show."""
    before: str
    after: str

    @classmethod
    def of(cls, endpoint: str, name: str = "session_id", anchor: str | None = None) -> "AddressById":
        before, _, after = cached_url(endpoint, **{name: _STAND_IN}, _anchor=anchor).partition(str(_STAND_IN))
        return cls(before, after)

    def __call__(self, some_id: int) -> str:
        return f"{self.before}{int(some_id)}{self.after}"


def cached_macro(template: str, name: str, maxsize: int = 4096) -> Callable[..., Markup]:
    """``render(items, *more)``: macro ``name`` of ``template`` called as ``macro(item, *more)`` for each item,
    joined. Each output is remembered (per app, the last ``maxsize``) by the template, the clinic's locale
    and the arguments, so the macro must read nothing else (its arguments hashable values: frozen
    dataclasses, tuples). A page of many similar parts that seldom change between two requests (the
    day's sessions, re-opened by every desk) renders only those that did."""
    key = f"roster.cached_macro:{template}:{name}"

    def render(items, *more) -> Markup:
        app = current_app._get_current_object()
        remembered = app.extensions.get(key)
        if remembered is None:
            remembered = app.extensions[key] = lru_cache(maxsize=maxsize)(_call_macro)
        source, locale = app.jinja_env.get_template(template), clinic_locale()
        return Markup("".join([remembered(source, name, locale, item, *more) for item in items]))
    return render


# What a remembered part (``cached_macro``) writes where its forms' CSRF token goes: the token is new on every
# request, the part is not. Markup, so written as it is: no text a page shows can produce it (its "<" is escaped).
CSRF_SLOT = Markup("<csrf-token>")


def with_csrf_token(html: Markup, token: str) -> Markup:
    """``html`` with this request's CSRF ``token`` where its remembered parts wrote ``CSRF_SLOT``."""
    return Markup(str.replace(html, CSRF_SLOT, escape(token)))


def csrf_token() -> str:
    """Flask-WTF's ``generate_csrf`` (the template global ``csrf_token()``), remembered: its token is the session's
    raw token signed with the current second, so within a second it is the same bytes for the same raw token and
    key. A desk's pages and keystrokes come several a second: each signed it anew (serializer, key derivation,
    HMAC). The raw token is made and kept by ``generate_csrf`` as before, and forms check tokens as before."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is not None:
        return token
    secret, raw = current_app.config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key), session.get(field)
    tokens = current_app.extensions.setdefault("roster.csrf_tokens", {})
    token = tokens.get((secret, raw, int(time.time()))) if isinstance(raw, str) else None
    if token is not None:
        setattr(g, field, token)
        return token
    token = generate_csrf()
    if len(tokens) >= 1024:  # desks x seconds: kept only for the second it was signed in
        tokens.clear()
    tokens[(secret, session.get(field), bytes_to_int(base64_decode(token.rsplit(".", 2)[1])))] = token
    return token


def _call_macro(source, name: str, locale: str, *args) -> Markup:
    return getattr(source.module, name)(*args)  # ``locale``: part of the key (the macro's filters read it)


def init_templating(app: Flask) -> None:
    app.jinja_env.globals.update(
        can=can,
        csrf_token=csrf_token,  # in place of Flask-WTF's generate_csrf, which it calls
        cached_url=cached_url,
        csrf_slot=CSRF_SLOT,
        navigation_for_user=navigation_for_user,
        role_label=lambda role: ROLE_LABELS.get(role, role),
    )
    # Flask-WTF also hands every template its generate_csrf through a context processor, which would hide the
    # global: that processor goes (one call less a page), the global stands
    app.template_context_processors[None] = [
        processor for processor in app.template_context_processors[None]
        if getattr(processor, "__module__", None) != "flask_wtf.csrf"]
    app.jinja_env.globals.update(html_lang=html_lang, date_hint=lambda: lf.date_pattern_hint(clinic_locale()))
    app.jinja_env.filters.update(
        local_time=local_time,
        hm=format_clock,                          # 3:00 PM
        day=format_day,                           # Fri, Nov 27, 2026
        long_day=_formatter(lf.long_day),         # Friday, November 27, 2026
        short_day=_formatter(lf.short_day),       # Fri, Nov 27
        date=_formatter(lf.medium_date),          # Nov 27, 2026
        tzname=lambda tz: lf.zone_name(tz or current_app.config["CLINIC_TIMEZONE"], clinic_locale()),
        local_iso_date=local_iso_date,            # 2026-11-27, for links
        isodate=lambda d: d.isoformat() if d else "",
        with_csrf_token=with_csrf_token,
    )
