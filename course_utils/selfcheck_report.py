"""What every lesson's self-check returns and prints (no TensorFlow here).

`SelfCheck` holds one (case, passed, message, answer) per public case; `print_report` prints them,
each hint once (a later case with the same hint, or the same whole message, says "as above.").
"""

HINT = "\n      Hint: "  # starts the hint in a case's message


class SelfCheck:
    """The outcome of `check`: one (name, passed, message, path) per case, and a figure."""

    def __init__(self, optimizer, results, figure=None):
        self.optimizer, self.results, self.figure = optimizer, results, figure

    @property
    def passed(self):
        return all(ok for _, ok, _, _ in self.results)

    def __repr__(self):
        done = sum(ok for _, ok, _, _ in self.results)
        return f"<SelfCheck of {self.optimizer}: {done} of {len(self.results)} public cases pass>"


def print_report(report, cases_are):
    """Print `report` case by case; `cases_are` says what its public cases are, in words."""
    print(
        f"Self-check of {report.optimizer} on the public cases ({cases_are}). The grader runs "
        "more cases than these."
    )
    given = set()
    for case, ok, message, _ in report.results:
        message, _, hint = message.partition(HINT)
        if hint:
            message += HINT + ("as above." if hint in given else hint)
            given.add(hint)
        elif not ok and message in given:
            message = "as above."
        elif not ok:
            given.add(message)
        print(f"  {'PASS' if ok else 'FAIL'}  {case}" + ("" if ok else f": {message}"))
    done = sum(ok for _, ok, _, _ in report.results)
    print(f"{done} of {len(report.results)} public cases pass.")
