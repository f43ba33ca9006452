"""Execute a notebook top to bottom in a fresh kernel and keep what it shows."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute_notebook(path, timeout=600, kernel_name="python3", cwd=None, append=()):
    """Run every cell of the notebook at `path`, then code cells of the sources `append`, in a
    fresh kernel; return the executed notebook.

    Raises `nbclient.exceptions.CellExecutionError` at the first cell that fails.
    """
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.extend(nbformat.v4.new_code_cell(source) for source in append)
    cwd = Path(cwd) if cwd is not None else Path(path).resolve().parent
    client = NotebookClient(
        nb, timeout=timeout, kernel_name=kernel_name, resources={"metadata": {"path": str(cwd)}}
    )
    client.execute()
    return nb


def stream_text(nb):
    """Everything the notebook's cells printed, in order."""
    return "".join(
        output.get("text", "")
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "stream"
    )
