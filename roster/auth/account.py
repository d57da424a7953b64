"""Your account: password, two-factor sign-in, your API tokens, your calendar links."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from roster.auth import bp
from roster.auth.forms import ChangePasswordForm, ConfirmForm, PasswordConfirmForm, TwoFactorForm
from roster.auth.sessions import signed_in_user, start_session
from roster.auth.views import SETUP_REQUIRED, home_for
from roster.extensions import db
from roster.forms import show_service_error
from roster.models import ApiToken, utcnow
from roster.permissions import signed_in
from roster.services import ServiceError, accounts, calendar, signin
from roster.transactions import discard_changes

SETUP_KEY = "two_factor_setup_secret"


@bp.route("/account")
@signed_in
def account():
    me = signed_in_user()
    class_filter = request.args.get("class", "").strip()[:100]
    subjects = calendar.feed_subjects(class_filter)
    return render_template(
        "auth/account.html", feeds=feed_links(me.calendar_secret, subjects), form=ConfirmForm(),
        class_filter=class_filter, classes_total=subjects.classes_total,
        tokens=accounts.tokens_of(me), now=utcnow(),
        two_factor_required=signin.two_factor_required(me),
        recovery_left=signin.recovery_codes_left(me) if me.two_factor_enabled else 0,
        password_form=PasswordConfirmForm(formdata=None),
    )


def feed_links(secret: str, subjects: calendar.FeedSubjects) -> dict[str, list[tuple[str, str]]]:
    """Heading -> (label, subscription URL) for the calendar feeds listed (classes: those ``subjects`` holds)."""

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
        accounts.reset_calendar_secret(signed_in_user())
        flash("Your calendar links have changed. Old links no longer work.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@signed_in
def revoke_own_token(token_id: int):
    token = db.get_or_404(ApiToken, token_id)
    if token.user_id != current_user.id:
        abort(404)
    if ConfirmForm().validate_on_submit():
        accounts.revoke_token(token, utcnow())
        flash("Token revoked. Anything using it stops working now.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        user = signed_in_user()
        try:
            accounts.change_password(user, form.current_password.data, form.new_password.data,
                                     form.confirm_password.data)
        except ServiceError as exc:
            show_service_error(form, exc)
            status = 422
        else:
            setup_required = session.get(SETUP_REQUIRED)
            start_session(user)  # this session carries the new version; every other one has ended
            flash("Your password is changed. Any other place you were signed in has been signed out.", "success")
            if setup_required:
                session[SETUP_REQUIRED] = True
                return redirect(url_for("auth.two_factor"))
            return redirect(home_for(user))
    elif form.is_submitted():
        status = 422
    return render_template("auth/change_password.html", form=form), status


@bp.route("/account/two-factor", methods=["GET"])
@signed_in
def two_factor():
    if current_user.two_factor_enabled:
        return redirect(url_for("auth.account") + "#two-factor")
    return _setup_page(TwoFactorForm(formdata=None))


def _setup_page(form: TwoFactorForm, status: int = 200):
    secret = session.get(SETUP_KEY)
    if not secret:
        secret = session[SETUP_KEY] = signin.new_secret()
    uri = signin.provisioning_uri(current_user, secret)
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return render_template("auth/two_factor.html", form=form, secret=grouped, qr=signin.qr_svg_data_uri(uri),
                           required=signin.two_factor_required(current_user)), status


@bp.route("/account/two-factor", methods=["POST"])
@signed_in
def two_factor_confirm():
    if current_user.two_factor_enabled:
        return redirect(url_for("auth.account"))
    form = TwoFactorForm()
    if not form.validate_on_submit():
        return _setup_page(form, 422)
    try:
        codes = signin.enable_two_factor(signed_in_user(), session.get(SETUP_KEY, ""), form.code.data, utcnow())
    except ServiceError as exc:
        show_service_error(form, exc)
        return _setup_page(form, 422)
    session.pop(SETUP_KEY, None)
    session.pop(SETUP_REQUIRED, None)
    return render_template("auth/recovery_codes.html", codes=codes, first_time=True)


@bp.route("/account/recovery-codes", methods=["POST"])
@signed_in
def new_recovery_codes():
    form = PasswordConfirmForm()
    me = signed_in_user()
    if not form.validate_on_submit() or not signin.verify_password(me.password_hash, form.password.data):
        flash("Enter your password to make new recovery codes.", "error")
        return redirect(url_for("auth.account") + "#two-factor")
    try:
        codes = signin.regenerate_recovery_codes(me)
    except ServiceError as exc:
        discard_changes()
        flash(exc.message, "error")
        return redirect(url_for("auth.account"))
    return render_template("auth/recovery_codes.html", codes=codes, first_time=False)


@bp.route("/account/two-factor/off", methods=["POST"])
@signed_in
def two_factor_off():
    form = PasswordConfirmForm()
    if form.validate_on_submit():
        try:
            signin.disable_two_factor(signed_in_user(), form.password.data)
        except ServiceError as exc:
            discard_changes()
            flash(" ".join([exc.message, *exc.fields.values()]), "error")
        else:
            flash("Two-factor sign-in is off. Your recovery codes no longer work.", "success")
    else:
        flash("Enter your password to turn two-factor sign-in off.", "error")
    return redirect(url_for("auth.account") + "#two-factor")
