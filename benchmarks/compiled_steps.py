"""Time per epoch of compiled training steps on the digits, the steps alternating epoch by epoch.

Shared by the benchmarks that compare two optimizers in `digits.make_train_step` (lessons 3 and
4): each optimizer trains its own `digits.MLP(seed=0)` on the same batches, and since the steps
take turns within every epoch, the machine's drift touches them alike.
"""

import statistics
import time

from course_utils import digits

BATCH = 128


def timed_epochs(optimizers, epochs, batch_size=BATCH):
    """{label: [seconds per epoch]} of each optimizer's compiled step (traced before timing); an
    epoch is every full batch of `batch_size` training images."""
    data = digits.load_split()
    steps, seconds = {}, {label: [] for label in optimizers}
    for label, optimizer in optimizers.items():
        steps[label] = digits.make_train_step(digits.MLP(seed=0), optimizer)
        steps[label](data.x_train[:batch_size], data.y_train[:batch_size])  # traced, not timed
    for epoch in range(epochs):
        batches = digits.batches(len(data.y_train), batch_size, seed=epoch)
        epoch_batches = [next(batches) for _ in range(len(data.y_train) // batch_size)]
        for label, step in steps.items():
            start = time.perf_counter()
            for batch in epoch_batches:
                step(data.x_train[batch], data.y_train[batch]).numpy()
            seconds[label].append(time.perf_counter() - start)
    return seconds


def ratio(seconds, label, baseline):
    """(median of `label`'s epochs / median of `baseline`'s, the epoch-pair ratios' median, min,
    max)."""
    pairs = [a / b for a, b in zip(seconds[label], seconds[baseline])]
    overall = statistics.median(seconds[label]) / statistics.median(seconds[baseline])
    return overall, statistics.median(pairs), min(pairs), max(pairs)
