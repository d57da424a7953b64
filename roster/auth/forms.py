from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from roster.models import ROLES
from roster.permissions import ROLE_LABELS


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(message="Enter your e-mail address.")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password.")])
    submit = SubmitField("Sign in")


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False)])
    role = SelectField("Role", choices=[(r, ROLE_LABELS[r]) for r in ROLES])
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=10)])
    submit = SubmitField("Create account")


class TokenForm(FlaskForm):
    label = StringField("What the token is for", validators=[DataRequired(), Length(max=120)])
    submit = SubmitField("Create token")


class ConfirmForm(FlaskForm):
    """An empty form: a button that carries the CSRF token."""

    submit = SubmitField("Confirm")
