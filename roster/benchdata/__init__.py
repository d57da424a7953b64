"""A believable health-system year for benchmarks and load tests (`roster bench-data`).

`plan.py` makes the rows (people, classes, sessions, enrolments) from a seed;
`attendance.py` adds the check-ins, closes the past sessions and derives their
billing lines with the same pure rule book the services use; `load.py` writes
everything with bulk INSERTs into an empty database. Deterministic for a given
seed and "today".
"""
