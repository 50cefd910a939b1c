"""Batch sizes from a card's memory: the generator's batches and the IMs' passes."""
from __future__ import annotations

import pytest
import torch

from gm_engine.generator.model import (
    GPU_BATCH_MAX,
    GPU_BATCH_MIN,
    GPU_BYTES_PER_ROW,
    GPU_RESERVE_BYTES,
    GPU_ROW_BLOCK,
    gpu_batch_for,
)
from gm_engine.gpu_memory import available_memory, power_of_two_within
from gm_engine.ims import torch_ims


@pytest.mark.parametrize(("n", "want"), [(0, 4), (1, 4), (5, 4), (8, 8), (1023.9, 512),
                                         (1024, 1024), (10 ** 9, 4096)])
def test_power_of_two_within(n, want):
    assert power_of_two_within(n, 4, 4096) == want


def test_gpu_batch_follows_the_cards_memory():
    gib = 1 << 30
    assert gpu_batch_for(None) == GPU_BATCH_MIN  # no reading (MPS)
    assert gpu_batch_for(4 * gib) == GPU_BATCH_MIN == GPU_ROW_BLOCK  # a small card: one block
    assert gpu_batch_for(140 * gib) == GPU_BATCH_MAX  # an H200
    b = gpu_batch_for(12 * gib)  # a 12 GB card: 8,192 rows fit past the reserve
    assert b == 8192 and GPU_RESERVE_BYTES + b * GPU_BYTES_PER_ROW <= 12 * gib
    for avail in (4, 12, 24, 80, 140):  # whole row blocks, never a padded one
        assert gpu_batch_for(avail * gib) % GPU_ROW_BLOCK == 0


def test_no_reading_off_cuda():
    assert available_memory("cpu") is None
    assert torch_ims._block_samples(torch.device("cpu")) == torch_ims._BLOCK_SAMPLES


def test_cpu_generator_keeps_its_row_blocks(tmp_path):
    from engine_helpers import make_tiny_model_card

    from gm_engine.generator import load_model
    from gm_engine.generator.model import CPU_ROW_BLOCK

    gen = load_model(str(make_tiny_model_card(tmp_path / "m")), "cpu")
    assert gen.default_batch() == CPU_ROW_BLOCK
    gen.batch_rows = 256  # a benchmark's choice
    assert gen.default_batch() == 256


def test_ims_passes_follow_the_cards_memory(monkeypatch):
    """On CUDA the IMs' pass size grows with the available memory, between the CPU's
    block (a small or busy card) and 16 times it."""
    block = torch_ims._BLOCK_SAMPLES
    for avail, want in [(0, block), (1 << 30, block),
                        (8 * block * torch_ims._CUDA_BYTES_PER_SAMPLE, 8 * block),
                        (1 << 40, 16 * block)]:
        monkeypatch.setattr(torch_ims, "available_memory", lambda dev, a=avail: a)
        assert torch_ims._block_samples(torch.device("cpu")) == want
