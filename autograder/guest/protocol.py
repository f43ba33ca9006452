"""The runner's events: one JSON object per line, from the sandbox to the grader.

Shared by both sides, so that neither matches the other's texts:

    {"event": CELL_START, "index": i}
    {"event": CELL, "index": i, "status": "ok" | "error", "error": str | None, "limit": LIMIT}
    {"event": CLASSES, "classes": {name: {"defined": bool, "error": str | None}}}
    {"event": CASE_START, "id": id}
    {"event": CASE, "id": id, "result": {...} | None, "error": str | None, "limit": LIMIT}
    {"event": DONE}

`limit` (one of LIMITS, or None) says that the error is a limit of the runner or the sandbox
(its timer, the memory limit, ...), not a mistake of the code. Everything in an event is
untrusted: student code runs in the process that writes them.
"""

CELL_START = "cell-start"
CELL = "cell"
CLASSES = "classes"
CASE_START = "case-start"
CASE = "case"
DONE = "done"
KINDS = (CELL_START, CELL, CLASSES, CASE_START, CASE, DONE)

TIME, CPU, MEMORY, PROCESSES = "time", "cpu", "memory", "processes"
LIMITS = (TIME, CPU, MEMORY, PROCESSES)
TIMEOUTS = (TIME, CPU)  # limits that mean "too slow"


def limit(value):
    """`value` if it names a limit, else None (an event's field is never trusted)."""
    return value if value in LIMITS else None
