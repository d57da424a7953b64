"""What every request pays before its own work: one read of who is asking, nothing more."""

import re

USER_READ = re.compile(r'\bFROM\s+"?user"?(\s|$)', re.IGNORECASE)  # "user" is quoted on PostgreSQL
TOKEN_READ = re.compile(r"\bFROM\s+api_token\b", re.IGNORECASE)


def test_a_signed_in_request_reads_its_user_once_and_an_api_call_its_token_and_user_in_one(
        client, login, api, count_queries):
    login("front_desk")
    with count_queries() as trivial:
        assert client.get("/healthz").status_code == 200
    # the whole fixed cost of a signed-in request: its user (and session version), read once
    assert trivial.count == 1 and USER_READ.search(trivial.statements[0]), trivial.statements
    with count_queries() as page:
        assert client.get("/frontdesk/today").status_code == 200
    assert sum(bool(USER_READ.search(s)) for s in page.statements) == 1, page.statements

    desk = api("front_desk")
    assert desk.get("/facilitators").status_code == 200  # the first call of the minute records the token's use
    with count_queries() as call:
        assert desk.get("/facilitators").status_code == 200
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
