"""Where benchmark results go: one folder per run, with a Markdown summary."""

import shutil
from datetime import datetime


def stamped(prefix):
    """A run name from the benchmark's name and the current time."""
    return f"{prefix}-{datetime.now():%Y%m%d-%H%M%S}"


def results_folder(out, name, overwrite=False):
    """Create ``out/name``; an existing folder is replaced only with ``overwrite``."""
    folder = out / name
    if folder.exists():
        if not overwrite:
            raise SystemExit(f"{folder} exists; pass --overwrite to replace it, or choose "
                             "another --run name.")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def publish(folder, report):
    """Write ``summary.md`` and print the report with where it lies."""
    (folder / "summary.md").write_text(report)
    print(report)
    print(f"Results in {folder}/")
