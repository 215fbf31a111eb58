"""Where and how torch runs: device choice, seeding and thread policy."""

import threading
from contextlib import contextmanager

import torch

#: Below this many multiply-adds per row of a batch (batch size times the sum
#: of hidden widths), a second intra-op thread costs more in synchronisation
#: than it saves: measured on 2 cores, (100,) at batch 200 runs 0.33 ms per
#: step on one thread and 0.35 ms on two, while (256, 128, 64) at batch 200
#: runs 1.05 ms on one and 0.82 ms on two.
SMALL_STEP_WORK = 65_536


#: Held while a fit changes torch's process-wide state, its random generators
#: and its thread setting: fits in threads of one process take turns, so that
#: each stays reproducible and the setting before them comes back. Reentrant,
#: for a fit inside a fit (a callback's). Predictions do not take it.
_PROCESS_STATE = threading.RLock()


def resolve_device(device):
    """Map the ``device`` parameter to a torch device string.

    ``'auto'`` picks CUDA when it is available. Asking for CUDA on a machine
    without it, or for a GPU it does not have, is an error rather than a
    silent fall-back to the CPU, and so is a string torch does not read as a
    device.
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"device={device!r} is not a torch device: {err}") from err
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine; use device='cpu' or device='auto'.")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(f"device={device!r} was requested but this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s), numbered from 0.")
    elif parsed.type == "meta":
        raise ValueError(f"device={device!r} holds no data (tensors there have shapes only), "
                         "so a network cannot train on it; use device='cpu' or a GPU.")
    elif parsed.type != "cpu":
        try:  # mps, xpu, ...: whether this torch build and machine have it
            torch.empty(0, device=parsed)
        except (RuntimeError, AssertionError) as err:
            raise ValueError(f"device={device!r} is not available in this torch build or "
                             "on this machine; use device='cpu' or device='auto'.") from err
    return str(device)


@contextmanager
def seeded(seed, device):
    """Run a block with torch's global generators seeded, then restore them.

    Weight initialisation and dropout draw from torch's global generators;
    forking them keeps a fit reproducible whatever the caller's global state,
    and leaves that state untouched. Fits in other threads wait meanwhile.
    """
    cuda = [torch.device(device)] if str(device).startswith("cuda") else []
    with _PROCESS_STATE, torch.random.fork_rng(devices=cuda):
        # the generators of this fit's devices only: torch.manual_seed would
        # also seed every other GPU's, which fork_rng does not restore, and it
        # costs ~150 µs a call (a stack trace kept for CUDA's lazy start)
        torch.default_generator.manual_seed(seed)
        for gpu in cuda:
            with torch.cuda.device(gpu):
                torch.cuda.manual_seed(seed)
        yield


@contextmanager
def thread_budget(batch_size, hidden_layer_sizes):
    """Limit torch's intra-op threads for one fit or predict call.

    Small steps run on one thread: on a busy machine two threads stall
    much more than they gain. Larger steps use torch's current setting,
    which already honours ``OMP_NUM_THREADS``, joblib's per-worker limits
    and ``threadpoolctl.threadpool_limits``. The previous setting is
    restored afterwards.
    """
    with _PROCESS_STATE:
        before = torch.get_num_threads()
        work = batch_size * max(sum(hidden_layer_sizes), 1)
        torch.set_num_threads(1 if work < SMALL_STEP_WORK else before)
        try:
            yield
        finally:
            torch.set_num_threads(before)
