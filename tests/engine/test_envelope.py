"""Band-envelope representation and shaped-noise synthesis (gm_engine.generator.envelope)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gm_engine.generator.envelope import (
    EnvelopeConfig,
    band_log_amplitude,
    bin_amplitude,
    default_band_edges,
    envelope_to_waveform,
)
from gm_engine.ims import compute_ims


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def windowed_noise(n: int, seed: int) -> torch.Tensor:
    """Boore-style records: Saragoni-Hart windowed noise with a omega-squared-like spectrum."""
    rng = np.random.default_rng(seed)
    t = np.arange(4096) * 0.01
    out = np.empty((n, 4096))
    f = np.fft.rfftfreq(4096, 0.01)
    for i in range(n):
        dur = rng.uniform(4, 20)
        env = (t / dur) ** 2 * np.exp(-2 * t / dur)
        x = rng.standard_normal(4096) * env
        fc = rng.uniform(0.3, 3.0)
        shape = (f / fc) ** 2 / (1 + (f / fc) ** 2) * np.exp(-np.pi * 0.04 * f)
        out[i] = np.fft.irfft(np.fft.rfft(x) * shape, 4096) * rng.uniform(0.05, 0.5)
    return torch.from_numpy(out)


def test_band_edges_cover_all_bins_with_single_low_bins():
    e = default_band_edges(129, 32)
    assert e[0] == 0 and e[-1] == 129 and len(e) == 33
    assert all(b > a for a, b in zip(e[:-1], e[1:]))
    assert e[:5] == [0, 1, 2, 3, 4]  # 0.39 Hz bins kept single below ~2 Hz
    with pytest.raises(ValueError):
        default_band_edges(10, 32)


def test_config_round_trips_through_card_dict():
    cfg = EnvelopeConfig()
    back = EnvelopeConfig.from_dict(cfg.to_dict())
    assert back.band_edges == cfg.band_edges and back.stft == cfg.stft
    assert (cfg.n_bands, cfg.n_frames) == (32, 65)


def test_bin_amplitude_keeps_each_band_power():
    cfg = EnvelopeConfig()
    la = band_log_amplitude(windowed_noise(3, 0), cfg)
    amp = bin_amplitude(la, cfg)
    back = torch.log10(torch.einsum("bk,...km->...bm", cfg.band_matrix(amp.dtype), amp ** 2).sqrt()
                       + cfg.stft.floor)
    torch.testing.assert_close(back, la, rtol=0, atol=1e-6)


def test_shaped_noise_reproduces_the_envelope_and_the_ims():
    cfg = EnvelopeConfig()
    x = windowed_noise(40, 1)
    la = band_log_amplitude(x, cfg)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    y = envelope_to_waveform(la, noise, cfg)
    # band levels of the synthetic record: unbiased wherever there is signal
    # (all cells above the floor's range, so no selection on the noise of la)
    diff = (band_log_amplitude(y, cfg) - la)[la > -5]
    assert abs(float(diff.mean())) < 0.05  # log10 units (corpus records: -0.003)
    ims = ["PGA", "SA(0.1)", "SA(1.0)"]
    a = compute_ims(x.numpy()[:, None].repeat(3, 1), 0.01, ims, horizontal="H1")
    b = compute_ims(y.numpy()[:, None].repeat(3, 1), 0.01, ims, horizontal="H1")
    for im in ims:
        r = np.log(b[im] / a[im])
        # the same envelope with another noise draw: IMs unbiased within the
        # random-phase scatter (~0.1-0.3 ln, so the mean of 40 is within ~0.1)
        assert abs(r.mean()) < 0.15, im
        assert r.std() < 0.45, im


def test_synthesis_is_deterministic_for_given_noise():
    cfg = EnvelopeConfig()
    la = band_log_amplitude(windowed_noise(2, 3), cfg)
    noise = torch.randn(2, 4096, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.testing.assert_close(envelope_to_waveform(la, noise, cfg),
                               envelope_to_waveform(la, noise.clone(), cfg), rtol=0, atol=0)


def test_cpu_synthesis_equals_the_reference_and_ignores_its_neighbours():
    """The CPU's frame-major synthesis (in blocks) is bin_amplitude + shape_noise to
    rounding, and a record's bits do not depend on the records around it (the
    viewer regenerates sites alone)."""
    from gm_engine.generator.envelope import SYNTHESIS_BLOCK, shape_noise

    cfg = EnvelopeConfig()
    g = torch.Generator().manual_seed(3)
    n = SYNTHESIS_BLOCK * 2 + 5
    la = torch.randn(n, 3, cfg.n_bands, cfg.n_frames, generator=g, dtype=torch.float64) * 0.3 - 2
    wn = torch.randn(n, 3, cfg.stft.n_samples, generator=g, dtype=torch.float64)
    reference = shape_noise(bin_amplitude(la, cfg), wn, cfg)
    got = envelope_to_waveform(la, wn, cfg)
    torch.testing.assert_close(got, reference, rtol=1e-12, atol=1e-12 * float(reference.abs().max()))
    la32, wn32 = la[:SYNTHESIS_BLOCK].float(), wn[:SYNTHESIS_BLOCK].float()
    block = envelope_to_waveform(la32, wn32, cfg)
    perm = torch.randperm(SYNTHESIS_BLOCK, generator=g)
    assert torch.equal(envelope_to_waveform(la32[perm], wn32[perm], cfg), block[perm])
    alone = envelope_to_waveform(la32[5:6].expand(SYNTHESIS_BLOCK, -1, -1, -1),
                                 wn32[5:6].expand(SYNTHESIS_BLOCK, -1, -1), cfg)
    assert torch.equal(alone[0], block[5])
