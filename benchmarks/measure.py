"""Run a command in a fresh process and measure it: wall time and, per grading worker, memory.

A worker is the process that runs the grader's tasks: the grader itself when it grades in-process
(one job), else each of its multiprocessing children. A worker's memory is sampled over its whole
process tree (its sandbox, zygote and the current submission's child included), as the sum of
resident set sizes (RSS: pages shared between the zygote and its child are counted twice) and
of proportional set sizes (PSS: shared pages split between their users).
"""

import dataclasses
import os
import subprocess
import threading
import time

import psutil

SAMPLE_SECONDS = 0.25


@dataclasses.dataclass
class Measurement:
    seconds: float
    returncode: int
    output: str
    peak_rss: dict  # worker pid -> peak RSS sum of its tree (bytes)
    peak_pss: dict  # worker pid -> peak PSS sum of its tree (bytes)

    def worst(self):
        """(peak RSS, peak PSS) of the worker that used most, in bytes."""
        return max(self.peak_rss.values(), default=0), max(self.peak_pss.values(), default=0)


def _workers(root):
    try:
        children = root.children()
    except psutil.Error:
        return []
    spawned = [c for c in children if "multiprocessing" in " ".join(_cmdline(c))]
    workers = [c for c in spawned if "resource_tracker" not in " ".join(_cmdline(c))]
    return workers or [root]


def _cmdline(process):
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _tree_memory(process):
    rss = pss = 0
    try:
        tree = [process] + process.children(recursive=True)
    except psutil.Error:
        return 0, 0
    for p in tree:
        try:
            info = p.memory_full_info()
            rss, pss = rss + info.rss, pss + info.pss
        except psutil.Error:
            pass
    return rss, pss


def run(cmd, env=None, cwd=None):
    """Run `cmd` (a list) to the end, in `cwd` if given; its Measurement."""
    env = dict(os.environ if env is None else env, TF_CPP_MIN_LOG_LEVEL="2")
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    peak_rss, peak_pss, done = {}, {}, threading.Event()

    def sample():
        root = psutil.Process(proc.pid)
        while not done.wait(SAMPLE_SECONDS):
            for worker in _workers(root):
                rss, pss = _tree_memory(worker)
                peak_rss[worker.pid] = max(peak_rss.get(worker.pid, 0), rss)
                peak_pss[worker.pid] = max(peak_pss.get(worker.pid, 0), pss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = proc.communicate()[0].decode(errors="replace")
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    return Measurement(seconds, proc.returncode, output, peak_rss, peak_pss)


def machine():
    """One line describing this machine."""
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line)
    except (OSError, StopIteration):
        pass
    memory = psutil.virtual_memory().total / 2**30
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores ({model}), {memory:.0f} GiB; load average before: {load:.2f}"
