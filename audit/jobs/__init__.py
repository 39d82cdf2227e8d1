"""Background jobs: a row per job in the database (the source of truth) and huey as the transport.

`models.py` holds the job row, `services.py` creating, claiming, renewing, finishing and recovering jobs (every
change one conditional UPDATE, so two workers never run one job at once), `kinds.py` wires each domain's job
functions by name, `runner.py` runs one job in a worker, `queue.py` sets huey up (embedded SQLite or Redis) and
`results.py` keeps the files jobs make.
"""
