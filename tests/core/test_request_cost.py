"""What every request pays before its own work: one read of who is asking, nothing more."""

import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from roster.extensions import db

USER_READ = re.compile(r'\bFROM\s+"?user"?(\s|$)', re.IGNORECASE)  # "user" is quoted on PostgreSQL
TOKEN_READ = re.compile(r"\bFROM\s+api_token\b", re.IGNORECASE)


@contextmanager
def statements_run(app):
    """The statement objects handed to the database layer (not their SQL): a statement built once
    at import is the very same object on every request."""
    run: list = []
    with app.app_context():
        engine = db.engine
    listener = lambda conn, clause, multiparams, params, options: run.append(clause)  # noqa: E731
    sa.event.listen(engine, "before_execute", listener)
    try:
        yield run
    finally:
        sa.event.remove(engine, "before_execute", listener)


def test_a_signed_in_request_reads_its_user_once_and_an_api_call_its_token_and_user_in_one(
        app, client, login, api, count_queries):
    from roster.auth.sessions import USER_BY_ID
    from roster.services.tokens import TOKEN_AND_USER

    login("front_desk")
    with count_queries() as trivial, statements_run(app) as run:
        assert client.get("/healthz").status_code == 200
    # the whole fixed cost of a signed-in request: its user (and session version), read once, by a
    # statement built once (not built and keyed again on every request as session.get does)
    assert trivial.count == 1 and USER_READ.search(trivial.statements[0]), trivial.statements
    assert run == [USER_BY_ID], run
    with app.app_context():  # and no round trip to ping the server first (see test_database_away)
        assert not db.engine.pool._pre_ping
    with count_queries() as page:
        assert client.get("/frontdesk/today").status_code == 200
    assert sum(bool(USER_READ.search(s)) for s in page.statements) == 1, page.statements

    desk = api("front_desk")
    assert desk.get("/facilitators").status_code == 200  # the first call of the minute records the token's use
    with count_queries() as call, statements_run(app) as run:
        assert desk.get("/facilitators").status_code == 200
    assert run[0] is TOKEN_AND_USER and TOKEN_AND_USER not in run[1:], run
    token_reads = [s for s in call.statements if TOKEN_READ.search(s)]
    assert len(token_reads) == 1 and re.search(r'\bJOIN\s+"?user"?\s', token_reads[0]), call.statements
    assert not any(USER_READ.search(s) for s in call.statements), call.statements
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in call.statements)  # use recorded once a minute


def test_a_page_works_out_the_clinic_locale_once_however_many_dates_it_writes(client, login, monkeypatch):
    from roster import templating

    asked, babel = [], []
    clinic_locale, get_locale = templating.clinic_locale, templating.get_locale
    monkeypatch.setattr(templating, "clinic_locale", lambda: asked.append(1) or clinic_locale())
    monkeypatch.setattr(templating, "get_locale", lambda: babel.append(1) or get_locale())
    login("front_desk")
    html = client.get("/frontdesk/today").get_data(as_text=True)
    assert 'lang="en-US"' in html and len(asked) >= 2 and len(babel) == 1, (len(asked), len(babel))


def test_local_time_answers_a_repeated_date_from_its_cache(app):
    from datetime import datetime, timezone

    from roster.templating import local_time

    at = datetime(2026, 11, 27, 21, 0, tzinfo=timezone.utc)
    with app.test_request_context("/"):
        first = local_time(at)
        hits = local_time.cache_info().hits
        assert local_time(at) == first and first.startswith("Fri, Nov 27, 2026, 3:00")
        assert local_time.cache_info().hits == hits + 1
        assert local_time(None) == "" and "4:00" in local_time(at, "America/New_York")


def test_a_page_knows_its_user_as_plain_values_and_only_a_view_that_needs_the_record_loads_it(
        app, client, login, count_queries):
    from flask import template_rendered
    from flask_login import current_user
    from roster.auth.sessions import PageUser, signed_in_user
    from roster.models import User

    user = login("facilitator", name="Fay Cilitator")
    seen = []

    def record(sender, template, context, **extra):
        who = current_user._get_current_object()
        seen.append((who, [o for o in db.session.identity_map.values() if isinstance(o, User)]))
        if isinstance(who, PageUser):  # the record, for a view that changes it: one more read, the same person
            record_ = signed_in_user()
            assert isinstance(record_, User) and (record_.id, record_.email) == (who.id, who.email)

    with template_rendered.connected_to(record, app):
        assert client.get("/frontdesk/today").status_code == 200
    who, loaded = seen[0]
    # no ORM User of every column per request: the row's columns the pages, permissions and steps read
    assert isinstance(who, PageUser) and loaded == [], (who, loaded)
    with app.app_context():
        row = db.session.get(User, user.id)
        assert (who.id, who.email, who.name, who.role, who.session_version, who.facilitator_id) == (
            row.id, row.email, row.name, row.role, row.session_version, row.facilitator_id)
        assert (who.must_change_password, who.two_factor_enabled, who.get_id()) == (False, False, row.get_id())
    with pytest.raises(AttributeError):  # frozen: a view that writes to its user takes signed_in_user()
        who.name = "changed"


def test_a_page_asked_again_builds_no_address_and_each_path_prefix_keeps_its_own(client, login, monkeypatch):
    from werkzeug.routing import MapAdapter

    builds = []
    build = MapAdapter.build
    monkeypatch.setattr(MapAdapter, "build", lambda self, *a, **k: builds.append(a[0]) or build(self, *a, **k))
    login("facilitator")
    pages = {}
    for prefix in ("", "/clinic"):
        first = client.get("/frontdesk/today", base_url=f"http://localhost{prefix}").get_data(as_text=True)
        del builds[:]
        again = client.get("/frontdesk/today", base_url=f"http://localhost{prefix}").get_data(as_text=True)
        # the stylesheet, script, account and sign-out links, the navigation and the other days' links:
        # worked out once per app and path prefix (templating.cached_url), not on every page
        assert builds == [] and again.count('href="') == first.count('href="') > 10, builds
        pages[prefix] = again
    assert 'href="/static/roster.css"' in pages[""] and 'href="/clinic/static/roster.css"' in pages["/clinic"]
    assert 'action="/clinic/logout"' in pages["/clinic"] and 'action="/logout"' in pages[""]
    assert pages["/clinic"].count('="/clinic/') == pages[""].count('="/') > 10



def test_the_desks_pages_read_their_own_first_rows_in_their_users_statement_and_pg_sends_no_begin_for_a_read(
        app, build, client, login):
    """Issue 12, the desk's busiest GETs (make load: the today page 8%, the walk-in fragment 40%): the today page
    reads the day's sessions, the fragment its session, in the signed-in user's statement (``read_with_user``); on
    PostgreSQL a plain read sends no BEGIN and no COMMIT, and the fragment's one-word search, which asks for the
    walk-in statement's generic plan (transaction-local), runs in a transaction begun with that statement. Round
    trips on PostgreSQL: /healthz 1, today 1, the fragment 4 (a query of short words: 2 or 3); before: 3, 4, 5."""
    from roster.auth.sessions import USER_BY_ID
    from roster.services.frontdesk.with_user import FRAGMENT_READ, FRAGMENT_READ_GENERIC, TODAY_READ
    from tests.frontdesk.desk import make_scene
    from tests.wire import on_the_wire

    desk = make_scene(build, sets=2)
    build.caregiver([desk.patients[0]], first_name="Wanda", last_name="Walker")
    login("front_desk")
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    fragment = f"/frontdesk/sessions/{desk.session_id}/search"

    def sent_by(path: str, **query) -> tuple[list[str], list, str]:
        client.get(path, query_string=query)  # the second time, as a desk's morning sees it
        with on_the_wire(app) as sent, statements_run(app) as run:
            response = client.get(path, query_string=query)
        return [kind if kind == "SQL" else text for kind, text in sent], run, response.get_data(as_text=True)

    begun = ["BEGIN"] if postgresql else []
    ended = ["COMMIT"] if postgresql else []
    assert sent_by("/healthz")[:2] == (["SQL"], [USER_BY_ID])
    kinds, run, html = sent_by("/frontdesk/today")
    assert (kinds, run) == (["SQL"], [TODAY_READ]) and desk.group_class.title in html
    kinds, run, html = sent_by(fragment, q="walker")
    # psycopg sends the BEGIN with the first statement (after this listener heard it)
    assert kinds == ["SQL"] + begun + ["SQL"] + ended, kinds
    assert run[0] is (FRAGMENT_READ_GENERIC if postgresql else FRAGMENT_READ) and len(run) == 2, run
    assert "Wanda Walker" in html
    kinds, run, html = sent_by(fragment, q="wa w")  # short words: custom plans, no transaction
    assert run[0] is FRAGMENT_READ and kinds == ["SQL"] * len(run) and len(run) in (2, 3), (kinds, run)
    assert "Wanda Walker" in html
    kinds, run, _ = sent_by(f"/frontdesk/sessions/{desk.session_id + 999}/search", q="walker")
    assert len(run) == 1 and kinds == ["SQL"] + begun + ["ROLLBACK"] * postgresql, kinds  # no such session: 404


def test_a_cookie_verified_once_is_remembered_yet_still_expires_and_a_changed_cookie_is_verified_again(
        app, client, login, monkeypatch):
    """edge.CookieSessions: a desk's cookie is verified (base64, zlib, HMAC, tagged JSON) once per worker, then only
    its age is checked, as itsdangerous checks it; each request gets its own copy of what it held; a cookie
    tampered with, or too old, is refused as before."""
    import time

    from itsdangerous import URLSafeTimedSerializer

    login("front_desk")
    verified = []
    loads = URLSafeTimedSerializer.loads
    monkeypatch.setattr(URLSafeTimedSerializer, "loads",
                        lambda self, *a, **k: verified.append(k.get("salt", self.salt)) or loads(self, *a, **k))
    assert client.get("/frontdesk/today").status_code == 200
    assert client.get("/frontdesk/today").status_code == 200 and verified.count("cookie-session") <= 1
    cookie = client.get_cookie("session").value

    with client.session_transaction() as session:  # a request that changes its copy (flashes a message)...
        session["_flashes"] = [("info", "Just once.")]
    assert "Just once." in client.get("/frontdesk/today").get_data(as_text=True)
    client.set_cookie("session", cookie)  # ...leaves the remembered cookie as it was
    assert "Just once." not in client.get("/frontdesk/today").get_data(as_text=True)

    client.set_cookie("session", cookie[:-2] + ("A" if cookie[-2] != "A" else "B") + cookie[-1])
    assert client.get("/frontdesk/today").status_code == 302  # tampered: not signed in
    client.set_cookie("session", cookie)
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + lifetime + 5)
    assert client.get("/frontdesk/today").status_code == 302  # remembered, but too old now: not signed in
    monkeypatch.setattr(time, "time", lambda: now)
    client.set_cookie("session", cookie)  # (the refusal's sign-in message came in a new cookie)
    assert client.get("/frontdesk/today").status_code == 200


def test_a_csrf_token_signed_in_this_second_is_not_signed_again_and_is_accepted(app, client, login, monkeypatch):
    """templating.csrf_token: within a second the signed token of one raw token is the same bytes; it is signed once."""
    import flask_wtf.csrf

    from roster import templating

    login("front_desk")
    signed = []
    generate = flask_wtf.csrf.generate_csrf
    monkeypatch.setattr(templating, "generate_csrf", lambda: signed.append(1) or generate())
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    now = int(__import__("time").time())
    monkeypatch.setattr(__import__("time"), "time", lambda: now + 0.5)  # one second for the whole test
    pages = [client.get("/frontdesk/today").get_data(as_text=True) for _ in range(3)]
    assert len(signed) == 1 and len({token.search(page).group(1) for page in pages}) == 1
    with app.test_request_context("/"):
        from flask import session

        with client.session_transaction() as kept:
            session.update(kept)
        assert generate() == token.search(pages[-1]).group(1)  # what Flask-WTF itself signs this second
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/logout", data={"csrf_token": token.search(pages[-1]).group(1)}).status_code == 302
