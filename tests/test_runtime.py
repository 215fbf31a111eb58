"""Where and how torch runs: thread policy and seeding."""

import pytest
import torch

from skmlp._runtime import SMALL_STEP_WORK, seeded, thread_budget


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("batch_size, hidden, threads", [
    (200, (100,), 1),                                  # scikit-learn's default network
    (200, (SMALL_STEP_WORK // 200 + 1,), 2),           # just above the threshold
    (200, (256, 256), 2),
])
def test_small_steps_run_on_one_thread_and_the_setting_is_restored(
        batch_size, hidden, threads, two_threads):
    with thread_budget(batch_size, hidden):
        assert torch.get_num_threads() == threads
    assert torch.get_num_threads() == 2


def test_thread_setting_is_restored_when_the_block_raises(two_threads):
    with pytest.raises(RuntimeError), thread_budget(1, (1,)):
        raise RuntimeError
    assert torch.get_num_threads() == 2


def test_seeded_block_is_reproducible_and_leaves_the_global_generator_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    with seeded(7, "cpu"):
        first = torch.rand(3)
    with seeded(7, "cpu"):
        second = torch.rand(3)
    assert torch.equal(first, second)
    assert torch.equal(torch.rand(1), expected_next)


def test_seeding_a_cpu_fit_queues_no_seed_for_the_gpus(monkeypatch):
    # torch.manual_seed would seed every GPU too (on a CPU-only machine it
    # queues that for CUDA's lazy start), beyond what fork_rng restores
    seeded_gpus = []
    monkeypatch.setattr(torch.cuda, "manual_seed_all", seeded_gpus.append)
    with seeded(7, "cpu"):
        torch.rand(1)
    assert seeded_gpus == []
