"""Argument types and actions the benchmarks' command lines share: a value a
run cannot take is a usage error that names the option, before any work, not
a traceback from deep inside the run (or, for a results folder, a deleted
one)."""

import argparse
from pathlib import Path


def at_least(minimum):
    """An ``argparse`` type: an integer no smaller than ``minimum``."""

    def integer(text):
        value = int(text)  # argparse turns a ValueError into "invalid integer value"
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    integer.__name__ = "integer"  # the name argparse gives the type in its messages
    return integer


def n_jobs(text):
    """An ``argparse`` type: joblib's ``n_jobs``, any integer but 0 (-1: one per CPU)."""
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must not be 0: give the number of worker "
                                         "processes, or -1 for one per CPU")
    return value


def folder_name(text):
    """An ``argparse`` type: the name of one folder, to be made under ``--out``.

    No path: with ``--overwrite`` the folder is deleted first, and ``""``,
    ``.``, ``..`` or ``a/b`` would point at ``--out`` itself or elsewhere.
    """
    if text in ("", ".", "..") or Path(text).name != text:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a folder name: give one name (no '/'), made under --out")
    return text


def results_root(text):
    """An ``argparse`` type: the folder ``--out`` under which each run makes its own.

    It need not exist yet, but the nearest part of the path that exists must
    be a folder: a file there would fail only once the run came to make its
    folder.
    """
    path = Path(text)
    existing = next(part for part in (path, *path.parents) if part.exists())
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{str(existing)!r} is a file, not a folder for "
                                         "the results")
    return path


class Distinct(argparse.Action):
    """``action=`` of a list option whose values must differ: a repeated one
    would run twice, and count twice where a summary adds over the runs."""

    def __call__(self, parser, namespace, values, option_string=None):
        repeated = sorted({str(value) for value in values if values.count(value) > 1})
        if repeated:
            raise argparse.ArgumentError(self, f"{', '.join(repeated)} given more than once")
        setattr(namespace, self.dest, values)


#: A seed for numpy's and scikit-learn's random states, which take no negative one.
seed = at_least(0)


def add_out_option(parser):
    """Add ``--out``, which every benchmark command takes: where its results go."""
    parser.add_argument("--out", type=results_root, default="results", metavar="FOLDER",
                        help="folder under which the run makes its own results folder "
                             "(default: results)")
