from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length

from roster.forms import MultiCheckboxField, optional_id


class PairForm(FlaskForm):
    """A caregiver and the patient they came for (hidden fields of a check-in or undo button)."""

    caregiver_id = IntegerField("Caregiver", validators=[InputRequired()])
    patient_id = IntegerField("Patient", validators=[InputRequired()])


class PresentForm(FlaskForm):
    patient_id = IntegerField("Patient", validators=[InputRequired()])
    present = SelectField("Present", choices=[("yes", "Patient is here"), ("no", "Patient is not here")])


class CloseForm(FlaskForm):
    facilitator_id = SelectField("Facilitator who ran the session", coerce=optional_id)
    started_at = TimeField("Actual start", validators=[InputRequired(message="Enter the time the session started.")])
    ended_at = TimeField("Actual end", validators=[InputRequired(message="Enter the time the session ended.")])
    patients_present = MultiCheckboxField("Patients who were present")


class ReopenForm(FlaskForm):
    reason = StringField(
        "Why re-open it?",
        validators=[DataRequired(message="Say why the session is re-opened."), Length(max=300)],
    )
