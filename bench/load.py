"""`make load`: a front-desk morning against two app servers sharing one PostgreSQL.

    .venv/bin/python bench/load.py --servers http://127.0.0.1:P1,http://127.0.0.1:P2 --database-url URL

16 desks (threads, each with its own keep-alive connection to one of the
servers, alternating) sign in and open today's page once before the clock
starts (as a desk does before the doors open), then work through today's
enrolled caregivers: open today,
type a walk-in search, check in (one in ten a double tap: the same check-in sent
twice at once, once to each server), now and then undo a check-in (and, half the
time, check the caregiver in again). A session is closed as soon as its last
caregiver is done, by the desk that did that one (standing in for the session's
facilitator): closes come through the morning, as classes end, not all at once.
Meanwhile one biller exports the whole year. Then the database must
hold every intended check-in exactly once and nothing else; throughput and p95
are compared with a trivial JSON route (/healthz) hit the same way, same run.
Loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

PASSWORD = "roster-demo-2026"


class Desk:
    """One connection to one server, with a session cookie and/or a Bearer token."""

    def __init__(self, base: str, token: str | None = None):
        parts = urlsplit(base)
        assert parts.hostname in ("127.0.0.1", "localhost"), "loopback only"
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.token = token

    def request(self, method: str, path: str, body=None, form: dict | None = None) -> tuple[int, bytes, float]:
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.token and path.startswith("/api/"):
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif form is not None:
            from urllib.parse import urlencode

            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        start = time.perf_counter()
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt:
                    raise
        elapsed = (time.perf_counter() - start) * 1000
        for cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if value:
                self.cookies[name.strip()] = value
            else:
                self.cookies.pop(name.strip(), None)
        return response.status, payload, elapsed

    def login(self, email: str) -> None:
        import re

        _, page, _ = self.request("GET", "/login")
        token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        csrf = token.group(1).decode() if token else ""
        status, _, _ = self.request("POST", "/login", form={"email": email, "password": PASSWORD, "csrf_token": csrf})
        assert status == 302, f"login failed for {email}: {status}"


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.answers: dict[tuple[str, int], int] = defaultdict(int)  # (kind, status): how often
        self.ended: list[tuple[float, str, float]] = []  # (when it ended, kind, ms)

    def add(self, kind: str, status: int, ms: float) -> None:
        with self.lock:
            self.times[kind].append(ms)
            self.ended.append((time.perf_counter(), kind, ms))
            self.answers[kind, status] += 1

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = defaultdict(int)
        for (_, status), n in self.answers.items():
            counts[status] += n
        return dict(sorted(counts.items()))


def p95(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))] if ordered else None


# --------------------------------------------------------------------------- set-up


def prepare(database_url: str, desks: int):
    """Tokens for the desks and the biller; today's sessions and who may come (enrolled first)."""
    from bench.cases import todays_sessions
    from roster import create_app
    from roster.domain.recurrence import utc_to_local
    from roster.extensions import db
    from roster.models import (
        Caregiver, CaregiverLink, ClassSession, Enrollment, EnrollmentCaregiver, Patient, User, utcnow,
    )
    from roster.services import accounts, scheduling

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        tz = app.config["CLINIC_TIMEZONE"]
        today = utc_to_local(utcnow(), tz).date()
        start, end = scheduling.local_day_bounds(today, tz)
        sessions = todays_sessions(start, end, utcnow())
        enrolled = set(db.session.execute(
            sa.select(Enrollment.class_id, EnrollmentCaregiver.caregiver_id, Enrollment.patient_id)
            .join(EnrollmentCaregiver, EnrollmentCaregiver.enrollment_id == Enrollment.id)
            .where(Enrollment.status == "enrolled")).tuples().all())
        rows = db.session.execute(
            sa.select(ClassSession.id, ClassSession.class_id, CaregiverLink.caregiver_id, Patient.id, Patient.mrn,
                      Caregiver.last_name)
            .join(Enrollment, Enrollment.class_id == ClassSession.class_id)
            .join(Patient, Patient.id == Enrollment.patient_id)
            .join(CaregiverLink, CaregiverLink.patient_id == Patient.id)
            .join(Caregiver, Caregiver.id == CaregiverLink.caregiver_id)
            .where(ClassSession.id.in_([s for s, _ in sessions]), Enrollment.status == "enrolled")
            .order_by(ClassSession.id, CaregiverLink.id)).tuples().all()
        pairs = sorted(rows, key=lambda r: ((r[1], r[2], r[3]) not in enrolled, r[0], r[2]))
        # one account per desk, as at a clinic: sixteen sign-ins of one account from one address
        # in a minute is what the sign-in throttle is there to stop (429)
        desk_emails = [f"desk{k + 1:02d}@roster.demo" for k in range(desks)]
        for email in desk_emails:
            if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
                accounts.create_user(email, "front_desk", PASSWORD, f"Desk {email[4:6]}")
        tokens = {}
        for email in ("frontdesk@roster.demo", "biller@roster.demo", "admin@roster.demo"):
            user = db.session.scalar(sa.select(User).where(User.email == email))
            tokens[email] = accounts.create_token(user, "load")
        db.session.commit()
        year_from = db.session.scalar(sa.text("SELECT min(date_of_service) FROM billing_line"))
        closings = _closings([s for s, _ in sessions], utcnow())
    return {"today": today, "sessions": [s for s, _ in sessions], "pairs": pairs, "tokens": tokens,
            "desk_emails": desk_emails, "closings": closings, "year_from": year_from, "app": app}


def _closings(session_ids: list[int], now) -> dict[int, dict]:
    """What each session's facilitator enters to close it: the class's facilitator, and when it ran: as
    scheduled, or (a session scheduled later today, when the load runs early) its length ending a minute
    ago, so that every close is accepted."""
    from datetime import timedelta

    from roster.domain.recurrence import utc_to_local
    from roster.extensions import db
    from roster.models import ClassSession, GroupClass

    rows = db.session.execute(
        sa.select(ClassSession.id, ClassSession.starts_at, ClassSession.ends_at, GroupClass.timezone,
                  GroupClass.facilitator_id)
        .join(GroupClass, GroupClass.id == ClassSession.class_id).where(ClassSession.id.in_(session_ids))).all()
    closings = {}
    for sid, starts, ends, tz, facilitator_id in rows:
        end = min(ends, now - timedelta(minutes=1))
        start, end = (utc_to_local(t, tz).strftime("%Y-%m-%dT%H:%M") for t in (end - (ends - starts), end))
        closings[sid] = {"facilitator_id": facilitator_id, "patients_present": [],
                         "started_at": start, "ended_at": end}
    return closings


# --------------------------------------------------------------------------- the morning


def open_desk(k: int, servers: list[str], plan: dict, my_pairs: list, desks: list) -> None:
    """Before the doors open: the desk signs in (scrypt: ~0.1 s of a server's CPU, by design) and opens
    today's page and one search once, untimed, as a desk does at the start of its day."""
    token = plan["tokens"]["frontdesk@roster.demo"]
    page = Desk(servers[k % len(servers)])
    page.login(plan["desk_emails"][k])
    page.request("GET", "/frontdesk/today")
    if my_pairs:
        page.request("GET", f"/frontdesk/sessions/{my_pairs[0][0]}/search?q={quote(my_pairs[0][5].split()[0][:3])}")
    desks[k] = (page, Desk(servers[k % len(servers)], token), Desk(servers[(k + 1) % len(servers)], token),
                Desk(servers[k % len(servers)], plan["tokens"]["admin@roster.demo"]))


def desk_morning(k: int, plan: dict, my_pairs: list, stats: Stats, desk: tuple,
                 intended: dict, lock: threading.Lock, seed: int, left: dict) -> None:
    rng = random.Random(seed + k)
    page, api, other, closer = desk
    for n, (sid, _, cg, _, mrn, last) in enumerate(my_pairs):
        if n % 5 == 0:
            stats.add("today", *page.request("GET", "/frontdesk/today")[::2])
        query = quote(last.split()[0][:4])
        stats.add("search", *page.request("GET", f"/frontdesk/sessions/{sid}/search?q={query}")[::2])
        body = {"caregiver_id": cg, "patient_mrn": mrn}
        path = f"/api/v1/sessions/{sid}/checkins"
        if rng.random() < 0.10:  # a double tap: the same check-in twice at once, on both servers
            second = threading.Thread(target=lambda: stats.add("checkin", *other.request("POST", path, body)[::2]))
            second.start()
            stats.add("checkin", *api.request("POST", path, body)[::2])
            second.join()
        else:
            stats.add("checkin", *api.request("POST", path, body)[::2])
        with lock:
            intended[(sid, cg, mrn)] = True
        if rng.random() < 0.08:  # checked in the wrong person: undo, and half the time do it again
            stats.add("undo", *api.request("DELETE", f"{path}/{cg}?patient_mrn={mrn}")[::2])
            with lock:
                intended[(sid, cg, mrn)] = False
            if rng.random() < 0.5:
                stats.add("checkin", *api.request("POST", path, body)[::2])
                with lock:
                    intended[(sid, cg, mrn)] = True
        with lock:
            left[sid] -= 1
            last = left[sid] == 0
        if last:  # every caregiver of this session is done: it is closed now
            close(closer, plan, sid, stats)


def close(api: "Desk", plan: dict, sid: int, stats: Stats) -> None:
    """The session's facilitator closes it: who ran it, when (no patient marked present)."""
    stats.add("close", *api.request("POST", f"/api/v1/sessions/{sid}/close", plan["closings"][sid])[::2])


def exporter(servers: list[str], plan: dict, out: dict) -> None:
    api = Desk(servers[0], plan["tokens"]["biller@roster.demo"])
    out["started"] = time.perf_counter()
    status, payload, ms = api.request("POST", "/api/v1/billing/exports",
                                      {"from": plan["year_from"].isoformat(), "to": plan["today"].isoformat()})
    out.update(status=status, ms=ms, body=payload[:200].decode(errors="replace"), ended=time.perf_counter())


def trivial(k: int, servers: list[str], count: int, stats: Stats) -> None:
    desk = Desk(servers[k % len(servers)])
    for _ in range(count):
        stats.add("trivial", *desk.request("GET", "/healthz")[::2])


# --------------------------------------------------------------------------- checking and reporting


def tree_cpu(roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds (user + system) so far of each named group of processes and all their descendants
    (the gunicorn masters with their workers; the postmaster with its backends), read from /proc. A
    process that started since the last reading counts from zero; one that ended is missed."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    parent, cpu = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parent[int(name)], cpu[int(name)] = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
    children = defaultdict(list)
    for pid, ppid in parent.items():
        children[ppid].append(pid)
    totals = {}
    for group, pids in roots.items():
        seen, todo = set(), [p for p in pids if p in cpu]
        while todo:
            pid = todo.pop()
            if pid not in seen:
                seen.add(pid)
                todo.extend(children.get(pid, ()))
        totals[group] = sum(cpu[pid] for pid in seen)
    return totals


def cpu_per_request(before: dict[str, float], after: dict[str, float], client: float, requests: int) -> dict:
    """Milliseconds of CPU per request of each group between two readings, and of this client."""
    spent = {group: after[group] - before.get(group, 0.0) for group in after} | {"client": client}
    return {group: round(1000 * seconds / max(1, requests), 2) for group, seconds in spent.items()}


def _p95_between(stats: Stats, kinds: tuple[str, ...], start: float | None, end: float | None) -> float | None:
    if start is None:
        return None
    times = [ms for at, kind, ms in stats.ended if kind in kinds and at >= start and (end is None or at < end)]
    return round(p95(times), 1) if times else None


def verify(plan: dict, intended: dict) -> dict:
    """Every intended check-in exactly once; nothing that was undone; nothing else."""
    from roster.extensions import db

    with plan["app"].app_context():
        rows = db.session.execute(sa.text(
            "SELECT c.session_id, c.caregiver_id, p.mrn, count(*) FROM check_in c JOIN patient p ON p.id = c.patient_id "
            "WHERE c.session_id IN (%s) GROUP BY c.session_id, c.caregiver_id, p.mrn"
            % ",".join(str(s) for s in plan["sessions"]))).tuples().all()
        db.session.remove()
    stored = {(s, c, m): n for s, c, m, n in rows}
    want = {key for key, on in intended.items() if on}
    return {
        "intended": len(want),
        "lost": sum(1 for key in want if stored.get(key, 0) == 0),
        "doubled": sum(1 for key in want if stored.get(key, 0) > 1),
        "unexpected": sum(1 for key in stored if key not in want),
    }


def run(servers: list[str], database_url: str, desks: int, per_desk: int, seed: int,
        cpu_of: dict[str, list[int]] | None = None) -> dict:
    plan = prepare(database_url, desks)
    pairs = plan["pairs"][:desks * per_desk]
    if not pairs:
        raise SystemExit("No sessions today to check in to: load needs bench data with sessions today.")
    stats, intended, lock, export = Stats(), {}, threading.Lock(), {}
    failures: list[str] = []

    def guarded(target):
        """A desk that stops on an error fails the run (it is never silently one desk fewer)."""
        def run_desk(*args):
            try:
                target(*args)
            except Exception as exc:  # noqa: BLE001 - reported, and the run fails
                with lock:
                    failures.append(f"{target.__name__}: {exc!r}"[:300])
        return run_desk

    shares = [pairs[k::desks] for k in range(desks)]
    opened: list = [None] * desks
    threads = [threading.Thread(target=guarded(open_desk), args=(k, servers, plan, shares[k], opened))
               for k in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise SystemExit(f"A desk could not sign in: {failures[0]}")
    cpu_of = cpu_of or {}
    cpu_before, client_before = tree_cpu(cpu_of), time.process_time()
    started = time.perf_counter()
    biller = threading.Thread(target=guarded(exporter), args=(servers, plan, export))
    left = defaultdict(int)  # caregivers of each session still to do: the desk that does its last one closes it
    for pair in pairs:
        left[pair[0]] += 1
    threads = [threading.Thread(target=guarded(desk_morning),
                                args=(k, plan, shares[k], stats, opened[k], intended, lock, seed, left))
               for k in range(desks)]
    for t in threads:
        t.start()
    biller.start()
    for t in threads:
        t.join()
    morning = time.perf_counter() - started
    biller.join()
    requests = sum(len(v) for k, v in stats.times.items())
    # the morning's CPU (the export's included: it ran through it) per desk request
    morning_cpu = cpu_per_request(cpu_before, tree_cpu(cpu_of), time.process_time() - client_before, requests)
    trivial_stats = Stats()
    per = max(1, requests // desks)
    cpu_before, client_before = tree_cpu(cpu_of), time.process_time()
    started = time.perf_counter()
    threads = [threading.Thread(target=trivial, args=(k, servers, per, trivial_stats)) for k in range(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trivial_seconds = time.perf_counter() - started
    trivial_cpu = cpu_per_request(cpu_before, tree_cpu(cpu_of), time.process_time() - client_before, per * desks)
    every = [ms for v in stats.times.values() for ms in v]
    throughput = requests / morning
    trivial_throughput = per * desks / trivial_seconds
    result = {
        "name": "load_front_desk_morning", "database": "postgresql", "servers": len(servers), "desks": desks,
        "requests": requests, "seconds": round(morning, 2), "throughput": round(throughput, 1),
        "p95": round(p95(every), 1), "median": round(statistics.median(every), 1),
        # Little's law for a closed loop (each desk sends its next request when the last one answers): the
        # mean answer is desks / throughput whatever the code does; a request costing k times the average's
        # CPU, sharing the machine with the others, takes about k times that mean
        "mean": round(statistics.mean(every), 1), "desks_over_throughput_ms": round(desks * 1000 / throughput, 1),
        "checkin_p95": round(p95(stats.times["checkin"]), 1), "checkins": len(stats.times["checkin"]),
        # check-ins that ended while the year's export ran, and those after it; the same for closes
        "checkin_during_export_p95": _p95_between(stats, ("checkin",), export.get("started"), export.get("ended")),
        "checkin_after_export_p95": _p95_between(stats, ("checkin",), export.get("ended"), None),
        "close_during_export_p95": _p95_between(stats, ("close",), export.get("started"), export.get("ended")),
        "close_p95": round(p95(stats.times["close"]), 1) if stats.times["close"] else None,
        "sessions": len(left),
        "search_p95": round(p95(stats.times["search"]), 1), "today_p95": round(p95(stats.times["today"]), 1),
        "status_counts": stats.statuses(),
        "answers": {f"{kind} {status}": n for (kind, status), n in sorted(stats.answers.items())},
        "errors_5xx": sum(n for s, n in stats.statuses().items() if s >= 500),
        "export_status": export.get("status"), "export_seconds": round(export.get("ms", 0) / 1000, 2),
        "export_body": export.get("body"),
        "trivial_throughput": round(trivial_throughput, 1), "trivial_p95": round(p95(trivial_stats.times["trivial"]), 1),
        "ratio": round(throughput / trivial_throughput, 3), "unit": "ms, requests/s",
        # where the time goes: CPU ms per request of the servers, the database and this client
        "cpu_ms_per_request": morning_cpu, "trivial_cpu_ms_per_request": trivial_cpu,
        "desk_failures": failures,
    } | verify(plan, intended)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", required=True, help="comma-separated base URLs on 127.0.0.1")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--desks", type=int, default=16)
    parser.add_argument("--per-desk", type=int, default=40, help="check-ins each desk works through")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", default=None)
    parser.add_argument("--cpu-of", action="append", default=[], metavar="NAME=PID,PID",
                        help="report the CPU per request of these processes and their descendants")
    opts = parser.parse_args()
    cpu_of = {name: [int(p) for p in pids.split(",") if p] for name, _, pids in (c.partition("=") for c in opts.cpu_of)}
    result = run(opts.servers.split(","), opts.database_url, opts.desks, opts.per_desk, opts.seed, cpu_of)
    line = json.dumps(result)
    print(line)
    if opts.out:
        with open(opts.out, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    closed = result["answers"].get("close 200", 0)
    ok = (result["lost"] == 0 and result["doubled"] == 0 and result["unexpected"] == 0
          and result["errors_5xx"] == 0 and result["export_status"] == 201 and not result["desk_failures"]
          and closed == result["sessions"])
    for failure in result["desk_failures"]:
        print("desk failed:", failure)
    print("load: " + ("OK" if ok else "FAILED") + f" - {result['intended']} intended check-ins, lost {result['lost']}, "
          f"doubled {result['doubled']}, unexpected {result['unexpected']}, 5xx {result['errors_5xx']}, "
          f"export {result['export_status']} in {result['export_seconds']} s; {result['throughput']} req/s "
          f"(trivial {result['trivial_throughput']}, ratio {result['ratio']}), check-in p95 {result['checkin_p95']} ms "
          f"({result['checkin_during_export_p95']} ms during the export, {result['checkin_after_export_p95']} ms after it), "
          f"close p95 {result['close_p95']} ms ({result['close_during_export_p95']} ms during the export; "
          f"mean answer {result['mean']} ms, desks / throughput {result['desks_over_throughput_ms']} ms; "
          f"{closed} of {result['sessions']} sessions closed); CPU ms per request: {result['cpu_ms_per_request']} "
          f"(/healthz: {result['trivial_cpu_ms_per_request']})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
