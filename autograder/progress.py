"""Progress of a batch: a live bar with ETA and running counts on a terminal, plain lines otherwise.

progress = Progress(total)          # a bar if standard output is a terminal, else lines
progress = Progress(total, log)     # one plain line per event, given to `log`
progress.update(student, document, error)
progress.close()
"""

import sys
import time


class Progress:
    """Counts graded submissions (full marks, partial, zero, not graded) and estimates the rest."""

    def __init__(self, total, log=None, stream=None):
        self.total, self.done, self.start = total, 0, time.monotonic()
        self.counts = {"full": 0, "partial": 0, "zero": 0, "not graded": 0}
        stream = stream or sys.stdout
        self.log = log or (lambda line: print(line, file=stream, flush=True))
        self.bar = _RichBar(total, stream) if log is None and stream.isatty() else None

    def note(self, line):
        """A line of its own (above the bar, if there is one)."""
        (self.bar.print if self.bar else self.log)(line)

    def update(self, student, document, error):
        """One more submission done: `document` (its results) or `error` (not graded)."""
        self.done += 1
        if error:
            self.counts["not graded"] += 1
            outcome = f"NOT GRADED ({error})"
        else:
            score, top = document["score"], document["extra_data"]["max_score"]
            self.counts["full" if score >= top else "partial" if score > 0 else "zero"] += 1
            outcome = f"{score:g} / {top:g}"
        if self.bar:
            if error:
                self.bar.print(f"{student}: {outcome}")
            self.bar.advance(self.tally())
        else:
            progress = f"[{self.done}/{self.total}] {student}: {outcome}"
            self.log(f"{progress} ({self.tally()}, {self.eta()})")

    def tally(self):
        """The running counts, e.g. 'full 3, partial 1, zero 0, not graded 0'."""
        return ", ".join(f"{name} {count}" for name, count in self.counts.items())

    def eta(self):
        """Time left at the rate so far, e.g. 'ETA 1:05' (or 'done')."""
        left = self.total - self.done
        if left <= 0:
            return "done"
        seconds = (time.monotonic() - self.start) / max(self.done, 1) * left
        return f"ETA {int(seconds // 60)}:{int(seconds % 60):02d}"

    def close(self):
        if self.bar:
            self.bar.stop()


class _RichBar:
    """A rich progress bar: done/total, elapsed, time remaining and the running counts."""

    def __init__(self, total, stream):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[tally]}"),
            console=Console(file=stream),
        )
        self.task = self.progress.add_task("grading", total=total, tally="")
        self.progress.start()

    def print(self, line):
        self.progress.console.print(line, markup=False, highlight=False)

    def advance(self, tally):
        self.progress.update(self.task, advance=1, tally=tally)

    def stop(self):
        self.progress.stop()
