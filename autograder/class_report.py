"""The class report: what a batch of graded submissions says about the class.

`write(out_dir, docs, assignment)` writes OUT/report.html and the PNGs it shows, OUT/report/*.png:

- the distribution of scores;
- the pass rate of every test;
- the common mistakes: the hints the class received, ranked by how many students got each, named
  for an instructor (the assignment's `mistakes`);
- the submissions stopped by a limit (time, CPU time, memory, processes) or a crash;
- the grading time per submission.

Everything is read from the results documents (`report.results_json`): test statuses, each
test's `extra_data.hint`, `extra_data.stopped` and `execution_time`; no message is parsed. Student
ids and stop reasons come from submissions: every string is escaped.
"""

import html
import io
import os
import statistics
from pathlib import Path

REPORT, FIGURES = "report.html", "report"
SHOWN_STOPS = 200  # rows of the table of stopped submissions


def mistakes(docs, assignment):
    """[(hint key, students who got it, {test name: students})], most students first.

    A student counts once per hint, however many of their tests gave it.
    """
    students, tests = {}, {}
    for doc in docs.values():
        seen = set()
        for test in doc.get("tests", []):
            key = (test.get("extra_data") or {}).get("hint")
            if test.get("status") == "passed" or key not in assignment.hints:
                continue
            seen.add(key)
            by_test = tests.setdefault(key, {})
            name = str(test.get("name"))
            by_test[name] = by_test.get(name, 0) + 1
        for key in seen:
            students[key] = students.get(key, 0) + 1
    ranked = sorted(students, key=lambda k: (-students[k], k))
    return [(key, students[key], tests[key]) for key in ranked]


def common_mistakes(docs, assignment, count=3):
    """Lines for the end of the terminal summary: the `count` most common mistakes."""
    ranked = mistakes(docs, assignment)[:count]
    if not ranked:
        return ["common mistakes: none (no failed test came with a hint)"]
    lines = [f"the {len(ranked)} most common mistakes (students who made each):"]
    for key, students, _ in ranked:
        lines.append(f"  {students}/{len(docs)}: {assignment.mistakes.get(key, key)}")
    return lines


def pass_rates(docs, assignment):
    """[(test name, students who passed it)] in the order students read the tests."""
    passed = dict.fromkeys(assignment.all_shown_names(), 0)
    for doc in docs.values():
        for test in doc.get("tests", []):
            if test.get("status") == "passed" and test.get("name") in passed:
                passed[test["name"]] += 1
    return list(passed.items())


def stops(docs):
    """[(student, stop record)] of every submission stopped by a limit or a crash."""
    return [
        (student, stop)
        for student, doc in sorted(docs.items())
        for stop in (doc.get("extra_data") or {}).get("stopped") or []
        if isinstance(stop, dict)
    ]


def write(out_dir, docs, assignment):
    """Write OUT/report.html and OUT/report/*.png for `docs` ({student: results document});
    returns the path of the page."""
    out_dir = Path(out_dir)
    figures_dir = out_dir / FIGURES
    figures_dir.mkdir(parents=True, exist_ok=True)
    figures = _figures(docs, assignment) if docs else {}
    for name, png in figures.items():
        _replace(figures_dir / name, png)
    page = out_dir / REPORT
    _replace(page, _page(docs, figures, assignment).encode())
    return page


def _replace(path, data):
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_bytes(data)
    os.replace(staging, path)


def _figures(docs, assignment):
    """{file name: PNG bytes}: scores, pass rates, grading times (Matplotlib, no pyplot)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    scores, top = _scores_of(docs)
    fig = Figure(figsize=(6.4, 2.8))
    ax = fig.subplots()
    ax.hist(scores, bins=[b - 0.5 for b in range(int(top) + 2)], color="tab:blue")
    ax.set_xlabel("score")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # students come whole
    ax.set_xlim(-1, top + 1)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.18)
    out = {"scores.png": _png(fig)}

    rates = pass_rates(docs, assignment)
    fig = Figure(figsize=(8, 0.6 + 0.22 * len(rates)))
    ax = fig.subplots()
    ax.barh(range(len(rates)), [100 * n / len(docs) for _, n in rates], color="tab:green")
    ax.set_yticks(range(len(rates)), [name for name, _ in rates], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("students who passed (%)")
    fig.subplots_adjust(left=0.5, right=0.98, top=0.99, bottom=0.6 / fig.get_figheight())
    out["pass_rates.png"] = _png(fig)

    fig = Figure(figsize=(6.4, 2.8))
    ax = fig.subplots()
    ax.hist(_times_of(docs), bins=20, color="tab:gray")
    ax.set_xlabel("grading time per submission (s)")
    ax.set_ylabel("students")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.95, bottom=0.18)
    out["times.png"] = _png(fig)
    return out


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _scores_of(docs):
    """([score of each document], the highest max_score): 0 for what a document lacks."""
    scores = [_number(doc.get("score")) for doc in docs.values()]
    top = max(_number((doc.get("extra_data") or {}).get("max_score")) for doc in docs.values())
    return scores, top


def _times_of(docs):
    return [_number(doc.get("execution_time")) for doc in docs.values()]


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;
text-align:left;vertical-align:top}td.n{text-align:right;white-space:nowrap}img{max-width:100%}
small{color:#555}
"""


def _page(docs, figures, assignment):
    n = len(docs)
    if not n:
        body = "<p>No submission has been graded yet.</p>"
    else:
        body = "\n".join(
            [
                _scores(docs),
                _img(figures, "scores.png", "Distribution of scores"),
                _mistakes(docs, assignment),
                "<h2>Pass rate of every test</h2>",
                _img(figures, "pass_rates.png", "Pass rate of every test"),
                _rates(docs, assignment),
                _stops(docs),
                _times(docs),
                _img(figures, "times.png", "Grading time per submission"),
            ]
        )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Class report</title>
<style>{STYLE}</style></head><body>
<h1>{html.escape(assignment.title)}: class report</h1>
<p>{n} graded submission{"" if n == 1 else "s"}.</p>
{body}
</body></html>
"""


def _img(figures, name, alt):
    if name not in figures:
        return ""
    return f'<p><img src="{FIGURES}/{name}" alt="{html.escape(alt)}"></p>'


def _scores(docs):
    scores, top = _scores_of(docs)
    scores = sorted(scores)
    full = sum(s >= top for s in scores)
    return (
        f"<h2>Scores</h2><p>Median {statistics.median(scores):g} of {top:g}; "
        f"{full} full marks, {sum(s == 0 for s in scores)} zero.</p>"
    )


def _mistakes(docs, assignment):
    e, ranked = html.escape, mistakes(docs, assignment)
    if not ranked:
        return "<h2>Common mistakes</h2><p>No failed test came with a hint.</p>"
    named = assignment.mistakes
    rows = "".join(
        f'<tr><td class="n">{students} of {len(docs)}</td><td><b>{e(named.get(key, key))}'
        f"</b><br><small>Hint they read: {e(assignment.hints[key])}</small></td><td><small>"
        + "<br>".join(f"{e(name)} ({count})" for name, count in sorted(tests.items()))
        + "</small></td></tr>"
        for key, students, tests in ranked
    )
    return (
        "<h2>Common mistakes</h2><p>The hints the class received, by how many students got "
        "each.</p><table><tr><th>Students</th><th>Mistake</th><th>In the tests</th></tr>"
        f"{rows}</table>"
    )


def _rates(docs, assignment):
    e = html.escape
    rows = "".join(
        f'<tr><td>{e(name)}</td><td class="n">{passed} of {len(docs)} '
        f"({100 * passed / len(docs):.0f} %)</td></tr>"
        for name, passed in pass_rates(docs, assignment)
    )
    return f"<table><tr><th>Test</th><th>Passed</th></tr>{rows}</table>"


def _stops(docs):
    e, found = html.escape, stops(docs)
    students = len({student for student, _ in found})
    title = f"<h2>Stopped by a limit or a crash</h2><p>{students} of {len(docs)} submissions.</p>"
    if not found:
        return title
    rows = "".join(
        f"<tr><td>{e(str(student))}</td><td>{e(str(stop.get('where')))}</td>"
        f"<td>{e(str(stop.get('limit') or 'crash or exit'))}</td>"
        f"<td>{e(str(stop.get('reason')))}</td></tr>"
        for student, stop in found[:SHOWN_STOPS]
    )
    more = f"<p>... and {len(found) - SHOWN_STOPS} more.</p>" if len(found) > SHOWN_STOPS else ""
    return (
        f"{title}<table><tr><th>Student</th><th>Where</th><th>Limit</th><th>Why</th></tr>"
        f"{rows}</table>{more}"
    )


def _times(docs):
    times = sorted(_times_of(docs))
    return (
        f"<h2>Grading time per submission</h2><p>Median {statistics.median(times):g} s, "
        f"slowest {times[-1]:g} s, {sum(times):.0f} s in all.</p>"
    )
