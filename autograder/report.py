"""What the grader writes for each student and for the class.

- `results.json` in Gradescope's schema (score, tests[] with name, score, max_score, status,
  output, visibility); its outputs are HTML (`output_format`), so that Gradescope shows the
  summary, each failure with its hint apart, why code was stopped and what it printed;
  `extra_data` keeps, for the class report, each test's hint key and the stops (see
  `run_submission.add_stop`);
- `feedback.html`: one self-contained page; every text that comes from the submission is
  escaped, and only public cases get plots with their expected paths;
- `grades.csv`: one row per student, with why when not graded; no cell a spreadsheet runs.
"""

import base64
import csv
import html
import io
import json
import unicodedata

PRINTED_CHARS = 2000  # of what the code printed, shown to the student
MESSAGE_CHARS = 3000  # of one test's message
MAX_STOPS = 50  # stop records kept in results.json


def results_json(grade):
    """The Gradescope results document of one graded submission."""
    return {
        "score": grade.score,
        "execution_time": round(grade.seconds, 1),
        "output": summary_html(grade),
        "output_format": "html",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [
            {
                "name": t.name,
                "score": t.score,
                "max_score": t.max_score,
                "status": "passed" if t.passed else "failed",
                "output": failure_html(t, _hints(grade)),
                "output_format": "html",
                "visibility": "visible",
                "extra_data": {"hint": t.hint},
            }
            for t in grade.tests
        ],
        "extra_data": {
            "student": grade.student,
            "assignment": grade.assignment.name if grade.assignment else None,
            "max_score": grade.max_score,
            "notes": grade.notes,
            "not_graded": grade.error,  # why the whole submission could not be graded
            "stopped": grade.stops[:MAX_STOPS],
        },
    }


def _bounded(text, limit):
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... ({len(text) - limit} more characters)"


def _hints(grade):
    return grade.assignment.hints if grade.assignment is not None else {}


def failure_html(test, hints):
    """One test's output as HTML: its message, then its hint (from `hints`, the assignment's
    vocabulary) in a paragraph of its own."""
    if test.passed:
        return ""
    e = html.escape
    hint = f" Hint: {hints[test.hint]}" if test.hint in hints else ""
    message = test.output.removesuffix(hint) if hint else test.output
    text = f"<p>{e(_bounded(message, MESSAGE_CHARS))}</p>"
    return text + (f"<p><b>Hint:</b> {e(hints[test.hint])}</p>" if hint else "")


def summary_html(grade):
    """The submission's summary as HTML: score, cells that failed or were stopped, other code
    stopped (the notes say the same in one line each), and what the code printed (bounded)."""
    e = html.escape
    parts = [f"<p><b>{grade.score:g} / {grade.max_score:g}</b>. {e(grade.summary())}</p>"]
    cells = [f"<li>cell {index}: {e(why)}</li>" for index, why in grade.failed_cells]
    if cells:
        parts.append(f"<p>Cells that failed or were stopped:</p><ul>{''.join(cells)}</ul>")
    cells_stopped = {f"cell {index}" for index, _ in grade.failed_cells}  # listed above
    stopped = [s for s in grade.stops if s["where"] not in cells_stopped]
    if stopped:
        items = "".join(f"<li>{e(s['where'])}: {e(s['reason'])}</li>" for s in stopped)
        parts.append(f"<p>Stopped by a limit or a crash:</p><ul>{items}</ul>")
    if grade.printed.strip():
        printed = _bounded(grade.printed, PRINTED_CHARS)
        parts.append(f"<p>What your code printed:</p><pre>{e(printed)}</pre>")
    return "\n".join(parts)


STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;
text-align:left;vertical-align:top}td p{margin:0 0 .5rem}
td:last-child{overflow-wrap:anywhere;width:55%}
.passed{color:#1a7f37}.failed{color:#cf222e}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap}
img{max-width:100%}
"""


def feedback_html(grade, plots=()):
    """The student's feedback page (a string of HTML)."""
    e = html.escape
    sections = ""
    exercises = dict.fromkeys(t.exercise for t in grade.tests)  # in the order students read
    for exercise in exercises:
        tests = [t for t in grade.tests if t.exercise == exercise]
        rows = "".join(
            f'<tr><td class="{"passed" if t.passed else "failed"}">'
            f"{'passed' if t.passed else 'failed'}</td>"
            f"<td>{e(t.name.split(': ', 1)[-1])}</td>"
            f"<td>{t.score:g} / {t.max_score:g}</td><td>{failure_html(t, _hints(grade))}</td></tr>"
            for t in tests
        )
        got, most = sum(t.score for t in tests), sum(t.max_score for t in tests)
        sections += (
            f"<h2>{e(exercise)}: {got:g} / {most:g}</h2><table><tr><th></th><th>Test</th>"
            f"<th>Points</th><th>What to look at</th></tr>{rows}</table>\n"
        )
    title = grade.assignment.title if grade.assignment else "Optimizers with Core APIs"
    figures = "".join(
        f'<figure><img alt="{e(title)}" src="data:image/png;base64,{png}">'
        f"<figcaption>{e(title)}</figcaption></figure>"
        for title, png in plots
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Feedback: {e(grade.student)}</title>
<style>{STYLE}</style></head><body>
<h1>{e(title)}: feedback</h1>
<p>Student: <b>{e(grade.student)}</b>.</p>
{summary_html(grade)}
{sections}
{f"<h2>Your paths on the notebook's runs</h2>{figures}" if figures else ""}
<p><small>Only the notebook's own runs show expected values; the other tests use settings the
notebook does not show, and their expected values are not shown here.</small></p>
</body></html>
"""


def public_plots(run, assignment):
    """(title, base64 PNG) of the assignment's figures of the student's public runs against the
    expected ones (its `public_plots` hook; hidden cases are never drawn)."""
    if assignment.public_plots is None:
        return []
    plots = assignment.public_plots(run, assignment.references())
    return [(title, base64.b64encode(png).decode()) for title, png in plots]


def new_figure(figsize):
    """A Matplotlib figure drawn with Agg, outside pyplot (nothing global, nothing to close)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def figure_png(fig, dpi=80):
    """The PNG bytes of `fig`."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def warm_up():
    """Draw one small figure as `public_plots` does (loads fonts, Agg's first draw): the next
    figures of this process are drawn about twice as fast."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.6, 2.9))
    ax = fig.subplots()
    ax.plot([1, 2], [0.0, 1.0])
    ax.set_title("warm-up", fontsize=9)
    ax.set_xlabel("iteration")
    ax.legend(["expected"], loc="lower left", fontsize=8)
    fig.savefig(io.BytesIO(), format="png", dpi=80)


# Characters that make a spreadsheet read a cell as a formula, once leading blanks are skipped
# (full-width and small forms included: NFKC maps them to these).
FORMULA_STARTS = frozenset("=+-@\u2212")


def _cell(value):
    """A CSV cell that spreadsheets will not evaluate as a formula: a text whose first visible
    character starts a formula, or that starts with a control character, gets a leading `'`."""
    text = str(value)
    visible = next((char for char in text if not _blank(char)), "")
    if unicodedata.normalize("NFKC", visible)[:1] in FORMULA_STARTS or (
        text and unicodedata.category(text[0])[0] == "C"
    ):
        return "'" + text
    return text


def _blank(char):
    return unicodedata.category(char)[0] in "ZC"  # separators, controls, format characters


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def grades_csv(results_by_student, assignment):
    """CSV text with one row per student from {student: results.json document}: the score, a
    column per test of `assignment` and, last, why the student was not graded (empty if
    graded)."""
    names = assignment.all_shown_names()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(c) for c in ("student", "score", "max_score", *names, "not_graded")])
    for student, doc in sorted(results_by_student.items()):
        extra = doc.get("extra_data") or {}
        scores = {t.get("name"): t.get("score") for t in doc.get("tests", [])}
        writer.writerow(
            [
                _cell(student),
                _number(doc.get("score")),
                _number(extra.get("max_score")),
                *(_number(scores.get(n)) for n in names),
                _cell(extra.get("not_graded") or ""),
            ]
        )
    return out.getvalue()


def course_grades_csv(graded):
    """CSV text with one row per student over several lessons, from [(Assignment, {student:
    results.json document})] in course order: a score column per lesson (empty where the
    student has no row: nothing submitted), the total, the total of the lessons' maximums, and
    the lessons in which the student was not graded."""
    students = sorted({student for _, docs in graded for student in docs})
    most = sum(float(lesson.max_score()) for lesson, _ in graded)
    out = io.StringIO()
    writer = csv.writer(out)
    header = ("student", *(lesson.name for lesson, _ in graded), "total", "max_total", "not_graded")
    writer.writerow([_cell(c) for c in header])
    for student in students:
        mine = [(lesson, by_student.get(student)) for lesson, by_student in graded]
        scores = [None if doc is None else _number(doc.get("score")) for _, doc in mine]
        not_graded = [
            lesson.name
            for lesson, doc in mine
            if doc is not None and (doc.get("extra_data") or {}).get("not_graded")
        ]
        total = sum(score for score in scores if score is not None)
        writer.writerow(
            [
                _cell(student),
                *("" if score is None else score for score in scores),
                total,
                most,
                " ".join(not_graded),
            ]
        )
    return out.getvalue()


def dump_json(document):
    return json.dumps(document, indent=1, allow_nan=False) + "\n"
