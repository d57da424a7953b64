from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from roster.auth import bp
from roster.auth.forms import ConfirmForm, LoginForm, TokenForm, UserForm
from roster.extensions import db
from roster.forms import show_service_error
from roster.models import ApiToken, User, utcnow
from roster.permissions import public, requires, signed_in
from roster.services import ServiceError, accounts, calendar


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
        cfg = current_app.config
        user, problem = accounts.authenticate(
            form.email.data, form.password.data, utcnow(),
            cfg["LOGIN_MAX_FAILURES"], cfg["LOGIN_LOCK_MINUTES"],
        )
        if user:
            login_user(user)
            return redirect(safe_next(request.args.get("next")) or home_for(user))
        if problem == "locked":
            flash(
                f"Too many failed attempts. Sign-in for this address is paused for "
                f"{cfg['LOGIN_LOCK_MINUTES']} minutes.",
                "error",
            )
            status = 429
        else:
            flash("That e-mail and password do not match an active account.", "error")
            status = 401 if request.method == "POST" else 200
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@public
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        logout_user()
        flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account")
@signed_in
def account():
    return render_template("auth/account.html", feeds=feed_links(current_user.calendar_secret), form=ConfirmForm())


def feed_links(secret: str) -> dict[str, list[tuple[str, str]]]:
    """Heading -> (label, subscription URL) for every calendar feed the staff member may use."""
    subjects = calendar.feed_subjects()

    def link(endpoint: str, **args) -> str:
        return url_for(endpoint, secret=secret, _external=True, **args)

    return {
        "Whole clinic": [("Every class", link("calendar.clinic_feed"))],
        "Classes": [(title, link("calendar.class_feed", class_id=cid)) for cid, title in subjects.classes],
        "Facilitators": [(name, link("calendar.facilitator_feed", facilitator_id=fid))
                         for fid, name in subjects.facilitators],
        "Rooms": [(room, link("calendar.room_feed", room=room)) for room in subjects.rooms],
    }


@bp.route("/account/calendar-secret", methods=["POST"])
@signed_in
def reset_calendar_secret():
    if ConfirmForm().validate_on_submit():
        accounts.reset_calendar_secret(current_user)
        flash("Your calendar links have changed. Old links no longer work.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/staff", methods=["GET", "POST"])
@requires("users.manage")
def users():
    form = UserForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(form.email.data, form.role.data, form.password.data, form.name.data)
        except ServiceError as exc:
            show_service_error(form, exc)
        else:
            flash(f"Account for {form.email.data} created.", "success")
            return redirect(url_for("auth.users"))
    staff, tokens = accounts.staff_and_tokens()
    return render_template(
        "auth/users.html", form=form, staff=staff, tokens=tokens,
        token_form=TokenForm(), confirm=ConfirmForm(), new_token=None,
    )


@bp.route("/staff/<int:user_id>/tokens", methods=["POST"])
@requires("users.manage")
def create_token(user_id: int):
    user = db.get_or_404(User, user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Say what the token is for.", "error")
        return redirect(url_for("auth.users"))
    raw = accounts.create_token(user, form.label.data)
    staff, tokens = accounts.staff_and_tokens()
    return render_template(
        "auth/users.html", form=UserForm(formdata=None), staff=staff, tokens=tokens,
        token_form=TokenForm(formdata=None), confirm=ConfirmForm(), new_token=raw, token_user=user,
    )


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@requires("users.manage")
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if ConfirmForm().validate_on_submit():
        accounts.revoke_token(token, utcnow())
        flash("Token revoked.", "success")
    return redirect(url_for("auth.users"))
