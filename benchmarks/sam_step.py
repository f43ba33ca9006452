"""Lesson 4: a compiled SAM step against a compiled plain step of the same base optimizer.

For Keras SGD and Keras Adam, time per epoch of `digits.make_train_step` on the lesson's MLP:
the base optimizer alone, and the solution's SAM around a fresh one (`minimize(loss_fn, vars)`,
two gradients a step). The four steps alternate epoch by epoch. Measured at the lesson's batch
(128 images, where a step's fixed cost of a graph call weighs most) and with the whole training
set as one batch (where the gradients dominate, so 2x is the floor). Prints each step's median
and SAM's ratio to its base (target: at most 2.3x).

    .venv/bin/python benchmarks/sam_step.py [--epochs N] [--rho R]
"""

import argparse
import statistics

import tensorflow as tf
from compiled_steps import BATCH, ratio, timed_epochs

from course_utils import digits
from solutions.sam_sharpness import SAM

BASES = {
    "SGD": lambda: tf.keras.optimizers.SGD(0.05),
    "Adam": lambda: tf.keras.optimizers.Adam(1e-3),
}
TARGET = 2.3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60, help="timed epochs per step and batch")
    parser.add_argument("--rho", type=float, default=0.05, help="SAM's rho")
    args = parser.parse_args()
    for batch_size in (BATCH, len(digits.load_split().y_train)):
        optimizers = {}
        for name, base in BASES.items():
            optimizers[f"Keras {name}"] = base()
            optimizers[f"SAM around {name}"] = SAM(base(), rho=args.rho)
        seconds = timed_epochs(optimizers, args.epochs, batch_size)
        print(f"{f'compiled steps, batch {batch_size}':<28}{'epoch (ms)':>12}{'SAM / base':>32}")
        for name in BASES:
            base, sam = f"Keras {name}", f"SAM around {name}"
            overall, pairs, low, high = ratio(seconds, sam, base)
            print(f"{base:<28}{1000 * statistics.median(seconds[base]):>12.2f}")
            spread = f"{overall:.2f}x (pairs {pairs:.2f}x, {low:.2f}-{high:.2f})"
            print(f"{sam:<28}{1000 * statistics.median(seconds[sam]):>12.2f}{spread:>32}")
    print(f"target: SAM at most {TARGET}x its base optimizer's step (two gradients: floor 2x)")


if __name__ == "__main__":
    main()
