"""The counter-based keyed draws of gm_engine.generator.keyed against pure-Python SplitMix64."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gm_engine.generator.keyed import GOLDEN_GAMMA, keyed_normal, keys, mix64, words

M64 = (1 << 64) - 1


def py_mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def py_key(seed: int, stream: int, site: int, real: int) -> int:
    h = py_mix64((seed + GOLDEN_GAMMA) & M64)
    for v in (stream, site, real):
        h = py_mix64(h ^ ((v + GOLDEN_GAMMA) & M64))
    return h


def test_words_are_splitmix64_bit_for_bit():
    # Steele et al. (2014): output c of seed s is mix64(s + (c + 1) * gamma)
    k = keys(7, 1, np.array([0, 5, 10 ** 9]), np.array([0, 3]))
    assert k.dtype == torch.int64 and k.shape == (3, 2)
    for i, site in enumerate([0, 5, 10 ** 9]):
        for j, real in enumerate([0, 3]):
            assert k[i, j].item() & M64 == py_key(7, 1, site, real)
            got = [w & M64 for w in words(k[i, j], 6).tolist()]
            ref = [py_mix64((k[i, j].item() + (c + 1) * GOLDEN_GAMMA) & M64) for c in range(6)]
            assert got == ref
    # a known SplitMix64 value: the first output of seed 0
    assert words(torch.tensor(0), 1).item() & M64 == 0xE220A8397B1DCDAF


def test_mix64_extreme_bit_patterns():
    z = torch.tensor([0, 1, -1, -(1 << 63), (1 << 63) - 1], dtype=torch.int64)
    assert [v & M64 for v in mix64(z).tolist()] == [py_mix64(v & M64) for v in z.tolist()]


def test_normals_are_keyed_per_site_and_standard():
    a = keyed_normal(keys(3, 1, np.array([4, 9]), np.array([0, 1])), (3, 100))
    b = keyed_normal(keys(3, 1, np.array([9]), np.array([1])), (3, 100))
    assert a.shape == (2, 2, 3, 100) and a.dtype == torch.float32
    assert torch.equal(a[1, 1], b[0, 0])  # the draw does not depend on the other sites
    assert not torch.equal(a[0, 0], a[1, 0]) and not torch.equal(a[1, 0], a[1, 1])
    other = keyed_normal(keys(3, 2, np.array([4]), np.array([0])), (3, 100))
    assert not torch.equal(other[0, 0], a[0, 0])  # streams differ
    z = keyed_normal(keys(1, 1, np.arange(400), np.arange(2)), (1001,)).double()
    assert z.mean().item() == pytest.approx(0.0, abs=0.005)
    assert z.std().item() == pytest.approx(1.0, abs=0.005)
    assert (z ** 4).mean().item() == pytest.approx(3.0, abs=0.05)
    lag1 = (z[..., 1:] * z[..., :-1]).mean().item()
    assert abs(lag1) < 0.005
    assert abs(np.corrcoef(z[0, 0].numpy(), z[1, 0].numpy())[0, 1]) < 0.1


def test_negative_ids_are_refused():
    with pytest.raises(ValueError):
        keys(1, 1, np.array([-1]), np.array([0]))
    with pytest.raises(ValueError):
        keys(-1, 1, np.array([0]), np.array([0]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_draws_equal_cpu_draws():
    k = keys(11, 1, np.arange(64), np.arange(2))
    cpu = keyed_normal(k, (3, 4096))
    gpu = keyed_normal(k.cuda(), (3, 4096)).cpu()
    assert torch.equal(words(k, 50), words(k.cuda(), 50).cpu())
    assert torch.allclose(cpu, gpu, rtol=1e-6, atol=1e-6)


def _normals_out_of_place(key: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """keyed_normal as first written (no in-place operations): the bits runs were made with."""
    n = int(np.prod(shape))
    w = words(key, (n + 1) // 2)
    u1 = (((w >> 32) & 0xFFFFFFFF).to(torch.float64) + 0.5) * 2.0 ** -32
    u2 = ((w & 0xFFFFFFFF).to(torch.float64) + 0.5) * 2.0 ** -32
    r = torch.sqrt(-2.0 * torch.log(u1))
    theta = (2.0 * np.pi) * u2
    z = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=-1)
    return z.reshape(*key.shape, -1)[..., :n].float().reshape(*key.shape, *shape)


@pytest.mark.parametrize("shape", [(3, 4096), (65, 16), (5,)])
def test_in_place_normals_keep_the_bits(shape):
    """The in-place Box-Muller of keyed_normal gives the same float32 bits as the plain one."""
    k = keys(11, 1, np.array([0, 4, 10 ** 6]), np.array([0, 2]))
    assert torch.equal(keyed_normal(k, shape), _normals_out_of_place(k, shape))
