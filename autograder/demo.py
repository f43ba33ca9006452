"""`make demo`: run the solution notebook and keep its figures."""

import time

import nbformat

from autograder import paths
from autograder.execute import execute_notebook, save_figures, stream_text


def run_demo(out_dir):
    """Execute the solution notebook in a fresh kernel; write it and its figures under `out_dir`."""
    start = time.perf_counter()
    nb = execute_notebook(paths.SOLUTION_NOTEBOOK)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out_dir / f"executed-{paths.NOTEBOOK_NAME}"))
    figures = save_figures(nb, out_dir / "figures", stem=paths.SOLUTION_NOTEBOOK.stem)
    print(stream_text(nb))
    print(f"Ran {paths.SOLUTION_NOTEBOOK.name} in {time.perf_counter() - start:.1f} s.")
    for figure in figures:
        print(f"figure: {figure}")
    return 0
