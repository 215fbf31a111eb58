"""Test-session settings shared by every test module."""

import torch

# pytest-xdist runs one worker per core; a second torch thread per worker
# would oversubscribe the cores, and on a busy machine torch's threads can
# stall each other many times over. One thread per worker keeps the suite's
# time predictable; skmlp's own thread policy is tested in test_runtime.py.
torch.set_num_threads(1)
