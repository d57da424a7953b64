from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from roster.models import ROLES
from roster.permissions import ROLE_LABELS

ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ROLES]


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(message="Enter your e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
    submit = SubmitField("Sign in")


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(message="Enter the code from your app or a recovery code."),
                                           Length(max=40)])
    submit = SubmitField("Continue")


class UserForm(FlaskForm):
    """A new account. The role has no default: the administrator chooses it."""

    name = StringField("Name", validators=[DataRequired(message="Enter the person's name."), Length(max=120)])
    email = EmailField("E-mail", validators=[
        DataRequired(message="Enter an e-mail address."),
        Length(max=254),
    ])
    role = SelectField("Role", choices=[("", "Choose a role…")] + ROLE_CHOICES,
                       validators=[DataRequired(message="Choose a role.")])
    submit = SubmitField("Create account")


class EditUserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Enter the person's name."), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired(message="Choose a role.")])
    # Choices are set by the view: "" (none) and the facilitator records.
    facilitator_id = SelectField("Facilitator record", choices=[("", "None")], validate_choice=False)
    submit = SubmitField("Save changes")

    def with_facilitators(self, facilitators) -> "EditUserForm":
        self.facilitator_id.choices = [("", "None")] + [(str(f.id), f.name) for f in facilitators]
        return self

    def facilitator(self) -> int | None:
        """The chosen record's id; None for none; -1 for something that is not an id (the service refuses it)."""
        value = (self.facilitator_id.data or "").strip()
        return None if not value else int(value) if value.isdigit() else -1


class TokenForm(FlaskForm):
    label = StringField("What the token is for", validators=[DataRequired(), Length(max=120)])
    expires_on = DateField("Expires on (optional)", validators=[Optional()])
    submit = SubmitField("Create token")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired(message="Enter your current password.")])
    new_password = PasswordField("New password", validators=[DataRequired(message="Choose a new password.")])
    confirm_password = PasswordField("New password again", validators=[
        DataRequired(message="Type the new password again.")])
    submit = SubmitField("Change password")


class TwoFactorForm(FlaskForm):
    code = StringField("Six-digit code from the app", validators=[
        DataRequired(message="Enter the code your app shows."), Length(max=12)])
    submit = SubmitField("Turn on two-factor sign-in")


class PasswordConfirmForm(FlaskForm):
    password = PasswordField("Your password", validators=[DataRequired(message="Enter your password.")])
    submit = SubmitField("Confirm")


class SecurityForm(FlaskForm):
    require_two_factor = BooleanField("Require two-factor sign-in for administrators and billers")
    submit = SubmitField("Save")


class ConfirmForm(FlaskForm):
    """An empty form: a button that carries the CSRF token."""

    submit = SubmitField("Confirm")
