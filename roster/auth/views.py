"""Signing in and out, and the steps a signed-in person must finish first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from roster.auth import bp
from roster.auth.forms import CodeForm, ConfirmForm, LoginForm
from roster.auth.sessions import PENDING_KEY, pending_user, remember_pending, signed_in_user, start_session
from roster.extensions import db
from roster.models import User, utcnow
from roster.permissions import public
from roster.services import accounts, signin, throttle

# While a password must be replaced or two-factor set up, only these pages open.
PASSWORD_STEP = {"auth.change_password", "auth.logout", "auth.index"}
TWO_FACTOR_STEP = PASSWORD_STEP | {"auth.two_factor", "auth.two_factor_confirm"}
SETUP_REQUIRED = "two_factor_setup_required"


def safe_next(target: str | None) -> str | None:
    """Only a local path may follow sign-in (no scheme, no host, no //)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user: User) -> str:
    return {
        "front_desk": url_for("frontdesk.today"),
        "facilitator": url_for("frontdesk.today"),
        "biller": url_for("billing.review"),
    }.get(user.role, url_for("schedule.classes"))


def limits() -> dict[str, throttle.Limit]:
    """The throttle's limits; the tight one (this e-mail from this address) follows LOGIN_MAX_FAILURES."""
    cfg = current_app.config
    if cfg.get("LOGIN_LIMITS"):
        return cfg["LOGIN_LIMITS"]
    pair = throttle.DEFAULT_LIMITS["pair"]
    return {**throttle.DEFAULT_LIMITS,
            "pair": replace(pair, free=cfg.get("LOGIN_MAX_FAILURES", pair.free),
                            window=timedelta(minutes=cfg.get("LOGIN_LOCK_MINUTES", 15)))}


def wait_words(wait: timedelta) -> str:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@bp.before_app_request
def finish_account_steps():
    """A temporary password must be replaced, and two-factor set up where the clinic requires it."""
    if request.blueprint == "api" or request.endpoint in (None, "static"):
        return None
    if not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        if request.endpoint not in PASSWORD_STEP:
            flash("Choose your own password before you continue.", "info")
            return redirect(url_for("auth.change_password"))
    elif session.get(SETUP_REQUIRED) and not current_user.two_factor_enabled:
        # Set at sign-in (no query per request); turning the clinic setting on ends the sessions it concerns.
        if request.endpoint not in TWO_FACTOR_STEP:
            flash("The clinic requires two-factor sign-in for your role. Set it up to continue.", "info")
            return redirect(url_for("auth.two_factor"))
    return None


def after_sign_in(user: User, next_url: str | None):
    start_session(user)
    if not user.two_factor_enabled and signin.two_factor_required(user):
        session[SETUP_REQUIRED] = True
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    if session.get(SETUP_REQUIRED):
        return redirect(url_for("auth.two_factor"))
    return redirect(safe_next(next_url) or home_for(user))


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        attempt, candidate = signin.admit_password(form.email.data, request.remote_addr or "", utcnow(), limits())
        # The early commits of this view: the attempt is counted, and its throttle rows released,
        # before the slow password hash runs outside any transaction. The rest commits as usual.
        db.session.commit()
        outcome = signin.check_password(attempt, candidate, form.email.data, form.password.data)
        # And once more straight after it: a success takes back its charge on the rows every sign-in
        # shares (this address, everyone), which are then not held while the session starts.
        db.session.commit()
        if outcome.status == "ok":
            return after_sign_in(outcome.user, request.args.get("next"))
        if outcome.status == "code":
            remember_pending(outcome.user, safe_next(request.args.get("next")))
            return redirect(url_for("auth.login_code"))
        if outcome.status == "delayed":
            flash(f"Too many failed attempts. Try again in {wait_words(outcome.wait)}.", "error")
            status = 429
        else:
            flash("That e-mail and password do not match an active account.", "error")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/login/code", methods=["GET", "POST"])
@public
def login_code():
    user, next_url = pending_user()
    if user is None:
        flash("Sign in again, please.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        outcome = signin.check_code(user, form.code.data, utcnow(), limits())
        if outcome.status == "ok":
            session.pop(PENDING_KEY, None)
            return after_sign_in(user, next_url)
        if outcome.status == "delayed":
            form.code.errors.append(f"Too many wrong codes. Try again in {wait_words(outcome.wait)}.")
            status = 429
        else:
            form.code.errors.append("That code does not match. Use the newest code, or a recovery code.")
            status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login_code.html", form=form), status


@bp.route("/logout", methods=["POST"])
@public
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            accounts.sign_out(signed_in_user())  # every copy of this session cookie stops working
        logout_user()
        session.clear()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))
