"""The Staff page (administrators): accounts, roles, deactivation, resets, unlocks, API tokens."""

from __future__ import annotations

from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from roster.auth import bp
from roster.auth.sessions import signed_in_user
from roster.auth.views import after_sign_in
from roster.auth.forms import ConfirmForm, EditUserForm, SecurityForm, TokenForm, UserForm
from roster.extensions import db
from roster.forms import show_service_error
from roster.models import ApiToken, User, utcnow
from roster.permissions import requires
from roster.services import ServiceError, accounts, people, signin
from roster.transactions import discard_changes


def _staff_page(form: UserForm, status: int = 200, **extra):
    staff = accounts.staff_list()
    security = SecurityForm(formdata=None, require_two_factor=signin.clinic_settings().require_two_factor)
    return render_template("auth/users.html", form=form, staff=staff, security=security, **extra), status


@bp.route("/staff", methods=["GET", "POST"])
@requires("users.manage")
def users():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user, temp = accounts.create_user_with_temporary_password(form.email.data, form.role.data,
                                                                      form.name.data)
        except ServiceError as exc:
            show_service_error(form, exc)
            return _staff_page(form, exc.status)
        return _staff_page(UserForm(formdata=None), 201, created=user, temp_password=temp)
    return _staff_page(form, 422 if form.is_submitted() else 200)


@bp.route("/staff/security", methods=["POST"])
@requires("users.manage")
def security():
    form = SecurityForm()
    if form.validate_on_submit():
        if signin.set_require_two_factor(bool(form.require_two_factor.data)):
            flash("Two-factor sign-in is now " + ("required" if form.require_two_factor.data else "optional")
                  + " for administrators and billers.", "success")
            me = signed_in_user()  # its session version as the setting left it
            if signin.two_factor_required(me) and not me.two_factor_enabled:
                return after_sign_in(me, None)  # the setting signed everyone concerned out; you set it up now
    return redirect(url_for("auth.users"))


def _user_page(user: User, form: EditUserForm | None = None, status: int = 200, **extra):
    tokens = accounts.tokens_of(user)
    form = form or _edit_form(user, formdata=None)
    return render_template(
        "auth/user.html", user=user, form=form, tokens=tokens, token_form=TokenForm(formdata=None),
        confirm=ConfirmForm(), delayed=accounts.is_delayed(user, utcnow()), now=utcnow(), **extra,
    ), status


def _edit_form(user: User, **kw) -> EditUserForm:
    form = EditUserForm(obj=user, **kw).with_facilitators(people.all_facilitators())
    if not form.is_submitted() or kw.get("formdata", True) is None:
        form.facilitator_id.data = str(user.facilitator_id or "")
    return form


@bp.route("/staff/<int:user_id>", methods=["GET", "POST"])
@requires("users.manage")
def user(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _edit_form(user)
    if form.validate_on_submit():
        try:
            changed = accounts.update_user(user, form.name.data, form.role.data, current_user,
                                           facilitator_id=form.facilitator())
        except ServiceError as exc:
            show_service_error(form, exc)
            return _user_page(db.get_or_404(User, user_id), form, exc.status)
        flash("Saved." if changed else "Nothing to change.", "success")
        return redirect(url_for("auth.user", user_id=user_id))
    return _user_page(user, form, 422 if form.is_submitted() else 200)


def _act(user_id: int, action, done: str):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("auth.user", user_id=user_id))
    try:
        action(user)
    except ServiceError as exc:
        discard_changes()
        flash(exc.message, "error")
        return redirect(url_for("auth.user", user_id=user_id))
    flash(done, "success")
    return redirect(url_for("auth.user", user_id=user_id))


@bp.route("/staff/<int:user_id>/deactivate", methods=["POST"])
@requires("users.manage")
def deactivate(user_id: int):
    return _act(user_id, lambda u: accounts.set_active(u, False, current_user, utcnow()),
                "Deactivated. Their sessions, API tokens and calendar links stopped working.")


@bp.route("/staff/<int:user_id>/reactivate", methods=["POST"])
@requires("users.manage")
def reactivate(user_id: int):
    return _act(user_id, lambda u: accounts.set_active(u, True, current_user, utcnow()),
                "Reactivated. They sign in with their password; API tokens stay revoked.")


@bp.route("/staff/<int:user_id>/unlock", methods=["POST"])
@requires("users.manage")
def unlock(user_id: int):
    return _act(user_id, accounts.unlock, "Failed sign-in attempts forgotten; they can sign in now.")


@bp.route("/staff/<int:user_id>/reset-password", methods=["POST"])
@requires("users.manage")
def reset_password(user_id: int):
    user = db.get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("auth.user", user_id=user_id))
    temp = accounts.reset_password(user, utcnow())
    return _user_page(user, temp_password=temp)


@bp.route("/staff/<int:user_id>/tokens", methods=["POST"])
@requires("users.manage")
def create_token(user_id: int):
    user = db.get_or_404(User, user_id)
    form = TokenForm()
    if not form.validate_on_submit():
        flash("Say what the token is for" + (" and give a valid date." if form.expires_on.errors else "."), "error")
        return redirect(url_for("auth.user", user_id=user_id))
    expires = None
    if form.expires_on.data:
        clinic = ZoneInfo(current_app.config["CLINIC_TIMEZONE"])  # the end of that day at the clinic
        expires = datetime.combine(form.expires_on.data, time(23, 59, 59), tzinfo=clinic).astimezone(timezone.utc)
    try:
        raw = accounts.create_token(user, form.label.data, expires, utcnow())
    except ServiceError as exc:
        flash(" ".join(exc.fields.values()) or exc.message, "error")
        return redirect(url_for("auth.user", user_id=user_id))
    return _user_page(user, new_token=raw)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@requires("users.manage")
def revoke_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if ConfirmForm().validate_on_submit():
        accounts.revoke_token(token, utcnow())
        flash("Token revoked.", "success")
    return redirect(url_for("auth.user", user_id=token.user_id))
