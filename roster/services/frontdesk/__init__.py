"""Read models for the front desk: a day's sessions, a session's check-in list, walk-in search,
closing and the end-of-day list (the desk's writes are in ``services.attendance``).

Each loads everything its page shows in a fixed number of queries, so the
templates never lazy-load and a class of 30 sets costs what a class of 3 does.
"""

from roster.services.frontdesk.checkin import (  # noqa: F401
    CheckinPage, PatientSet, Row, SearchHit, SearchOption, checkin_page, walk_in_fragment, walk_in_search,
    warm_walk_in_search,
)
from roster.services.frontdesk import with_user  # noqa: F401
from roster.services.frontdesk.closing import ClosePage, close_page, local_moment  # noqa: F401
from roster.services.frontdesk.sessions import (  # noqa: F401
    OPEN_SESSIONS_LIMIT, DayRow, OpenRow, arrivals, day_sessions, facilitator_of, load_session,
    found_desk_session, load_session_and_class, open_sessions,
)
