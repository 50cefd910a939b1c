"""Low-frequency gain of shaped-noise waveforms (gm_engine/generator/lowfreq.py)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from engine_helpers import make_tiny_model_card

from gm_engine.errors import InputError
from gm_engine.generator import load_model
from gm_engine.generator.lowfreq import (
    LowFrequencyGain,
    fit_low_frequency_gain,
    smoothed_ln_fas,
)

DT = 0.01
FREQ = (0.05, 0.1, 0.2, 0.4, 1.0)
MAGS = (5.0, 7.0)
TABLE = ((-2.0, -1.5, -0.8, -0.2, 0.0), (-1.0, -0.5, -0.2, 0.1, 0.0))


def _gain(table=TABLE, n_fft: int = 4096) -> LowFrequencyGain:
    return LowFrequencyGain.from_dict({"freq_hz": FREQ, "magnitude": MAGS, "ln_gain": table,
                                       "n_fft": n_fft})


def test_gains_interpolate_in_ln_f_and_magnitude():
    g = _gain()
    n = 4000  # bins of 0.025 Hz: 0.05, 0.1, 0.2, 0.4 and 1.0 Hz are bins 2, 4, 8, 16, 40
    at = np.log(g.gains(np.array([5.0, 6.0, 7.0, 4.0, 9.0]), DT, n))
    np.testing.assert_allclose(at[0, [2, 4, 8, 16, 40]], TABLE[0], atol=1e-12)
    np.testing.assert_allclose(at[2, [2, 4, 8, 16, 40]], TABLE[1], atol=1e-12)
    np.testing.assert_allclose(at[1], 0.5 * (at[0] + at[2]), atol=1e-12)  # linear in M
    np.testing.assert_allclose(at[3], at[0])  # clamped to the magnitude nodes
    np.testing.assert_allclose(at[4], at[2])
    np.testing.assert_allclose(at[:, :3], at[:, [2]].repeat(3, 1))  # flat below the first node
    f = 0.025 * 6  # 0.15 Hz, between 0.1 and 0.2 Hz: linear in ln f
    t = np.log(f / 0.1) / np.log(2.0)
    np.testing.assert_allclose(at[0, 6], (1 - t) * TABLE[0][1] + t * TABLE[0][2], atol=1e-12)
    assert at.shape[1] == 41  # up to the last node; beyond it the gain is 1


def test_apply_scales_a_bin_centred_sinusoid_and_leaves_high_frequencies():
    g = _gain()
    t = np.arange(4096) * DT
    f_lo, f_hi = 8 / (4096 * DT), 300 / (4096 * DT)  # on FFT bins
    lo, hi = np.sin(2 * np.pi * f_lo * t), np.sin(2 * np.pi * f_hi * t)
    x = torch.from_numpy(np.stack([lo, hi, lo, hi])[:, None])  # (4, 1, T)
    mags = np.array([5.0, 5.0, 7.0, 7.0])
    y = g.apply(x, mags, DT).numpy()
    want = g.gains(np.array([5.0, 7.0]), DT, 4096)[:, 8]
    np.testing.assert_allclose(y[[0, 2], 0], x.numpy()[[0, 2], 0] * want[:, None], atol=1e-12)
    np.testing.assert_allclose(y[[1, 3], 0], x.numpy()[[1, 3], 0], atol=1e-12)


def test_apply_pads_so_a_late_pulse_does_not_wrap_to_the_start():
    x = torch.zeros(1, 1, 4096, dtype=torch.float64)
    x[0, 0, -200] = 1.0
    padded = _gain(n_fft=8192).apply(x, np.array([5.0]), DT)[0, 0].numpy()
    wrapped = _gain(n_fft=4096).apply(x, np.array([5.0]), DT)[0, 0].numpy()
    assert np.abs(padded[:1000]).max() < 0.1 * np.abs(wrapped[:1000]).max()


def test_malformed_gain_is_an_input_error():
    for bad in ({"freq_hz": FREQ}, {"freq_hz": FREQ, "magnitude": MAGS, "ln_gain": TABLE[:1],
                                     "n_fft": 4096},
                {"freq_hz": FREQ[::-1], "magnitude": MAGS, "ln_gain": TABLE, "n_fft": 4096}):
        with pytest.raises(InputError) as err:
            LowFrequencyGain.from_dict(bad)
        assert err.value.field == "model_card.synthesis.low_frequency_gain"


def test_fit_recovers_a_known_gain():
    """Records are white noise under a known gain; "generated" records other white
    noise under the gain being fitted: the fit must find the known table."""
    rng = np.random.default_rng(3)
    n = 400
    mags = rng.uniform(5.0, 7.0, n)
    truth = _gain()
    records = truth.apply(torch.from_numpy(rng.standard_normal((n, 2, 4096))), mags, DT).numpy()
    noise = torch.from_numpy(rng.standard_normal((n, 2, 4096)))

    def generate(gain):
        return noise.numpy() if gain is None else gain.apply(noise, mags, DT).numpy()

    fitted, history = fit_low_frequency_gain(generate, records, mags, DT, 4096, iterations=3,
                                             freq_hz=FREQ, mag_nodes=MAGS)
    np.testing.assert_allclose(np.asarray(fitted.ln_gain)[:, :-1], np.asarray(TABLE)[:, :-1],
                               atol=0.15)
    assert history[-1]["rms_residual"] < 0.2 * history[0]["rms_residual"]


def test_smoothed_fas_of_white_noise_is_flat():
    x = np.random.default_rng(0).standard_normal((200, 4096))
    lnf = smoothed_ln_fas(x, DT, np.array([0.05, 0.5, 5.0])).mean(0)
    assert np.ptp(lnf) < 0.15


def test_card_gain_keeps_a_site_alone_bit_identical_and_changes_low_frequencies(tmp_path):
    path = make_tiny_model_card(tmp_path / "a")
    plain = load_model(str(path), device="cpu")
    card = json.loads(path.read_text())
    card["synthesis"]["low_frequency_gain"] = _gain(n_fft=6144).to_dict()
    (tmp_path / "a" / "gain.json").write_text(json.dumps(card))
    gen = load_model(str(tmp_path / "a" / "gain.json"), device="cpu")
    assert gen.card.sampler_sha256() != plain.card.sampler_sha256()
    n = 5
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"magnitude": rng.uniform(5.5, 7.5, n), "rrup_km": rng.uniform(2, 200, n),
                       "vs30": rng.uniform(200, 900, n), "ztor_km": np.zeros(n),
                       "mechanism": ["SS"] * n})
    shp = gen.latent_shape
    ev = rng.standard_normal((1, *shp.event), dtype=np.float32)
    si = rng.standard_normal((n, 1, *shp.site), dtype=np.float32)
    a = gen.generate(df, ev, si, seed=4)
    for k in (0, n - 1):
        one = gen.generate(df.iloc[[k]], ev, si[[k]], seed=4, site_ids=[k])
        np.testing.assert_array_equal(one[0], a[k])
    h = gen.generate(df, ev, si, seed=4, vertical=False)
    np.testing.assert_array_equal(h[:, :, :2], a[:, :, :2])  # H1, H2 with or without Z
    b = plain.generate(df, ev, si, seed=4)
    with_gain = smoothed_ln_fas(a[:, 0, :2], DT, np.array([0.05, 5.0])).mean((0, 1))
    without = smoothed_ln_fas(b[:, 0, :2], DT, np.array([0.05, 5.0])).mean((0, 1))
    # the same draws: at 0.05 Hz the gain (-2 to -1 ln at M 5-7) shows, less what the
    # record's end cuts off the filtered tail; at 5 Hz nothing changes
    assert with_gain[0] - without[0] < -0.7
    assert abs(with_gain[1] - without[1]) < 1e-3
