"""Execute a notebook top to bottom in a fresh kernel and keep what it shows."""

import base64
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute_notebook(path, timeout=600, kernel_name="python3", cwd=None):
    """Run every cell of the notebook at `path` in a fresh kernel; return the executed notebook.

    Raises `nbclient.exceptions.CellExecutionError` at the first cell that fails.
    """
    nb = nbformat.read(str(path), as_version=4)
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


def save_figures(nb, out_dir, stem="figure"):
    """Write every PNG the notebook displayed into `out_dir`; return the paths written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            png = output.get("data", {}).get("image/png")
            if png:
                target = out_dir / f"{stem}-{len(written) + 1}.png"
                target.write_bytes(base64.b64decode(png))
                written.append(target)
    return written
