"""Generator: card/weights verification, deterministic sampling, phase, device."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from engine_helpers import TINY_ARCH, make_tiny_model_card

from gm_engine.errors import InputError
from gm_engine.generator import (
    CGMVAE,
    ModelConfig,
    STFTConfig,
    load_card,
    load_model,
    resolve_device,
)
from gm_engine.generator import phase as P
from gm_engine.generator.model import n_parameters
from gm_engine.generator.sampling import (
    draw_site_terms,
    mix_innovations,
    site_channel_ranges_km,
)
from gm_engine.generator.stft import istft, stft


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


def conditions(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"magnitude": rng.uniform(5.5, 7.5, n),
                         "rrup_km": rng.uniform(2, 200, n), "vs30": rng.uniform(200, 900, n),
                         "ztor_km": rng.uniform(0, 5, n),
                         "mechanism": rng.choice(["SS", "NM", "RV"], n)})


def draws(gen, n: int, r: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    shp = gen.latent_shape
    return (rng.standard_normal((r, *shp.event), dtype=np.float32),
            rng.standard_normal((n, r, *shp.site), dtype=np.float32))


def test_generate_shapes_determinism_and_single_site(tmp_path):
    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    n, r = 5, 2
    df = conditions(n)
    ev, si = draws(gen, n, r)
    a = gen.generate(df, ev, si, phase_iters=2, seed=11)
    assert a.shape == (n, r, 3, 4096) and a.dtype == np.float32
    assert np.isfinite(a).all() and np.abs(a).max() > 0
    b = gen.generate(df, ev, si, phase_iters=2, seed=11, max_batch=2)
    np.testing.assert_array_equal(a, b)  # chunking does not change results
    k = 3
    one = gen.generate(df.iloc[[k]], ev, si[[k]], phase_iters=2, seed=11, site_ids=[k])
    np.testing.assert_array_equal(one[0], a[k])  # regenerated alone: identical
    c = gen.generate(df, ev, si, phase_iters=2, seed=12)
    assert not np.allclose(a, c)  # the local innovations do depend on the seed


def test_cpu_float32_site_bits_do_not_depend_on_its_batch(tmp_path):
    # float32 on the CPU is batch-invariant only because every model call has
    # CPU_ROW_BLOCK rows: a site past the first block, regenerated alone or
    # chunked differently, keeps its bits
    from gm_engine.generator.model import CPU_ROW_BLOCK

    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    assert gen.dtype == torch.float32 and gen.row_block == CPU_ROW_BLOCK
    n = CPU_ROW_BLOCK + 6
    df = conditions(n)
    ev, si = draws(gen, n, 1)
    a = gen.generate(df, ev, si, seed=3)
    b = gen.generate(df, ev, si, seed=3, max_batch=7)
    np.testing.assert_array_equal(a, b)
    for k in (0, CPU_ROW_BLOCK - 1, n - 2):
        one = gen.generate(df.iloc[[k]], ev, si[[k]], seed=3, site_ids=[k])
        np.testing.assert_array_equal(one[0], a[k])


def test_horizontals_without_the_vertical_keep_their_bits(tmp_path):
    """vertical=False (the cgm engine's IMs) gives the same H1, H2 as the full
    waveforms a site is regenerated with, and Z left at zero."""
    from gm_engine.engines import batch_ims
    from gm_engine.ims import compute_ims

    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    n, r = 70, 2
    df = conditions(n)
    ev, si = draws(gen, n, r)
    full = gen.generate(df, ev, si, seed=5)
    horizontal = gen.generate(df, ev, si, seed=5, vertical=False)
    np.testing.assert_array_equal(horizontal[:, :, :2], full[:, :, :2])
    assert not horizontal[:, :, 2].any() and full[:, :, 2].any()
    k = 66
    one = gen.generate(df.iloc[[k]], ev, si[[k]], seed=5, site_ids=[k], vertical=False)
    np.testing.assert_array_equal(one[0], horizontal[k])
    ims = ["PGA", "PGV", "SA(1.0)"]
    got = batch_ims(gen, df, ev, si, 5, np.arange(n), ims)
    ref = compute_ims(full.reshape(n * r, 3, -1), gen.dt, ims, n_threads=1)
    for im in ims:
        np.testing.assert_array_equal(got[im], ref[im].reshape(n, r).T)


def test_event_term_is_shared_per_realization(tmp_path):
    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    df = conditions(3)
    ev, si = draws(gen, 3, 2)
    a = gen.generate(df, ev, si, phase_iters=0)
    ev2 = ev.copy()
    ev2[1] += 1.0
    b = gen.generate(df, ev2, si, phase_iters=0)
    np.testing.assert_array_equal(a[:, 0], b[:, 0])
    assert not np.allclose(a[:, 1], b[:, 1])


def test_bad_latent_shapes_raise(tmp_path):
    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    ev, si = draws(gen, 2, 1)
    with pytest.raises(ValueError, match="eps_site"):
        gen.generate(conditions(3), ev, si)


def test_weights_hash_checked(tmp_path):
    card_path = make_tiny_model_card(tmp_path)
    with open(tmp_path / "model.safetensors", "r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(InputError, match="sha256"):
        load_model(str(card_path), device="cpu")


def test_card_format_checked(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(InputError, match="format"):
        load_card(tmp_path / "x.json")


def test_in_range_flags_and_clamping(tmp_path):
    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    df = conditions(4)
    df.loc[1, "rrup_km"] = 500.0
    df.loc[2, "magnitude"] = np.nan
    np.testing.assert_array_equal(gen.card.in_range(df), [True, False, False, True])
    df2 = conditions(2)
    df2.loc[0, "rrup_km"] = 900.0
    ev, si = draws(gen, 2, 1)
    with pytest.warns(UserWarning, match="rrup_km outside the trained range"):
        out = gen.generate(df2, ev, si, phase_iters=0)
    clamped = df2.copy()
    clamped.loc[0, "rrup_km"] = 300.0
    np.testing.assert_array_equal(out, gen.generate(clamped, ev, si, phase_iters=0))
    bad = conditions(1)
    bad["mechanism"] = ["oblique"]
    assert not gen.card.in_range(bad)[0]
    with pytest.raises(InputError, match="mechanism"):
        gen.card.features(bad)


def test_conditions_from_features_inverts_features(tmp_path):
    card = load_card(make_tiny_model_card(tmp_path))
    df = conditions(12)
    back = card.conditions_from_features(card.features(df))
    for col in ("magnitude", "rrup_km", "vs30", "ztor_km"):
        np.testing.assert_allclose(back[col], df[col], rtol=1e-6, atol=1e-6)  # float32 features
    assert list(back["mechanism"]) == list(df["mechanism"])
    far = df.copy()
    far.loc[0, "magnitude"], far.loc[1, "rrup_km"] = 9.0, 900.0
    back = card.conditions_from_features(card.features(far, clamp=True))
    assert back.loc[0, "magnitude"] == pytest.approx(8.0) and back.loc[1, "rrup_km"] == pytest.approx(300.0)


PULSES = {"noise": "pulse_train", "rate": "gm_engine.stochastic"}


def test_card_synthesis_noise_is_checked_and_defaults_to_gaussian(tmp_path):
    path = make_tiny_model_card(tmp_path, synthesis=PULSES)
    assert load_card(path).synthesis == PULSES
    d = json.loads(path.read_text())
    d["synthesis"] = {"noise": "laplace"}
    path.write_text(json.dumps(d))
    with pytest.raises(InputError, match="pulse_train"):
        load_card(path)
    del d["synthesis"]  # a card written before the field: Gaussian noise, as it was made
    path.write_text(json.dumps(d))
    assert load_card(path).synthesis == {"noise": "gaussian"}


def test_pulse_train_is_bernoulli_gaussian_of_unit_variance():
    # a sample carries a pulse with probability p, at the same times on the
    # three components; scaled to unit variance its kurtosis is 3 / p
    from gm_engine.generator.model import pulse_train

    g = torch.Generator().manual_seed(0)
    n_t = 200_000
    p = np.array([1.0, 0.5, 0.2, 0.05])
    x = pulse_train(torch.randn(4, 3, n_t, generator=g, dtype=torch.float64),
                    torch.rand(4, n_t, generator=g, dtype=torch.float64), p).numpy()
    hit = x != 0.0
    assert (hit == hit[:, :1]).all()  # same pulse times on H1, H2, Z
    frac = hit[:, 0].mean(axis=1)
    assert (np.abs(frac - p) <= 5 * np.sqrt(p * (1 - p) / n_t)).all(), frac
    var = (x ** 2).mean(axis=(1, 2))
    np.testing.assert_allclose(var, 1.0, rtol=0.05)
    kurt = (x ** 4).mean(axis=(1, 2)) / var ** 2
    np.testing.assert_allclose(kurt, 3.0 / p, rtol=0.1)


def test_pulse_train_card_regenerates_sites_and_raises_the_peak_factor(tmp_path):
    gauss = load_model(str(make_tiny_model_card(tmp_path / "g")), device="cpu")
    pulse = load_model(str(make_tiny_model_card(tmp_path / "p", synthesis=PULSES)), device="cpu")
    n = 16
    df = conditions(n)
    df["vs30"] = 760.0  # the simulator's pulse rate there: 7-60 per second, never Gaussian
    p = pulse.pulse_probability(pulse.card.features(df))
    assert gauss.pulse_probability(gauss.card.features(df)) is None
    assert ((p > 0) & (p < 1)).all()
    ev, si = draws(pulse, n, 1)
    a = pulse.generate(df, ev, si, seed=5)
    for k in (0, n - 1):
        one = pulse.generate(df.iloc[[k]], ev, si[[k]], seed=5, site_ids=[k])
        np.testing.assert_array_equal(one[0], a[k])
    b = gauss.generate(df, ev, si, seed=5)  # same envelope, Gaussian noise

    def peak_factor(x: np.ndarray) -> np.ndarray:
        h = x[:, 0, :2].astype(np.float64)
        return np.abs(h).max(axis=-1) / np.sqrt((h ** 2).mean(axis=-1))

    energy = np.log((a.astype(np.float64) ** 2).sum(axis=-1) / (b.astype(np.float64) ** 2).sum(axis=-1))
    assert abs(energy.mean()) < 0.15  # the envelope keeps the energy
    assert np.mean(np.log(peak_factor(a) / peak_factor(b))) > 0.1  # pulses are more impulsive


ZTOR_MARGINAL = {"ztor": {"distribution": "uniform", "low": 0.0, "high": 10.0,
                          "at_most": "rrup_km", "why": "test"}}


def test_marginalised_condition_is_drawn_per_site_and_realization(tmp_path):
    plain = load_model(str(make_tiny_model_card(tmp_path / "a")), device="cpu")
    gen = load_model(str(make_tiny_model_card(tmp_path / "b", marginalised=ZTOR_MARGINAL)),
                     device="cpu")
    n, r = 6, 2
    df = conditions(n)
    df.loc[0, "rrup_km"] = 3.0  # Ztor is drawn in [0, min(10, Rrup)]
    ev, si = draws(gen, n, r)
    a = gen.generate(df, ev, si, seed=4)
    other = df.assign(ztor_km=7.5 - df["ztor_km"])
    np.testing.assert_array_equal(gen.generate(other, ev, si, seed=4), a)  # the site's Ztor is unused
    assert not np.array_equal(plain.generate(other, ev, si, seed=4), plain.generate(df, ev, si, seed=4))
    # records made "each its own earthquake" (validation) marginalise too
    np.testing.assert_array_equal(gen.generate_independent(other, 3), gen.generate_independent(df, 3))
    k = n - 1
    one = gen.generate(df.iloc[[k]], ev, si[[k]], seed=4, site_ids=[k])
    np.testing.assert_array_equal(one[0], a[k])  # regenerated alone: identical
    # the drawn values: uniform on [0, min(10, Rrup)], one per site and realization
    feats = np.repeat(gen.card.features(df), 4000, axis=0)
    u = np.random.default_rng(0).random((len(feats), 1))
    z = gen.card.conditions_from_features(gen.marginalised_features(feats, u))["ztor_km"]
    z = z.to_numpy().reshape(n, 4000)
    top = np.minimum(10.0, df["rrup_km"].to_numpy())
    np.testing.assert_allclose(z, u.reshape(n, 4000) * top[:, None], atol=1e-5)
    np.testing.assert_allclose(z.mean(axis=1), top / 2, rtol=0.05)
    others = gen.card.conditions_from_features(gen.marginalised_features(feats, u))
    np.testing.assert_allclose(others["magnitude"].to_numpy(), np.repeat(df["magnitude"], 4000),
                               rtol=1e-5)  # the other conditions are the sites' own


def test_marginalised_condition_is_not_range_checked_and_enters_the_sampler_hash(tmp_path):
    plain = load_card(make_tiny_model_card(tmp_path / "a"))
    card = load_card(make_tiny_model_card(tmp_path / "b", marginalised=ZTOR_MARGINAL))
    df = conditions(3).assign(ztor_km=[1.0, 50.0, np.nan])
    assert card.in_range(df).all() and not plain.in_range(df)[1:].any()
    assert card.describe_out_of_range(df) == []
    assert card.sampler_sha256() != plain.sampler_sha256()
    assert "marginalised" not in plain.to_dict()  # older cards keep their hash


@pytest.mark.parametrize("entry, match", [
    ({"mechanism": {"distribution": "uniform", "low": 0, "high": 1}}, "not a numeric condition"),
    ({"ztor": {"distribution": "normal", "low": 0, "high": 1}}, "uniform"),
    ({"ztor": {"distribution": "uniform", "low": 2, "high": 1}}, "low <= high"),
    ({"ztor": {"distribution": "uniform", "high": 1}}, "numeric 'low'"),
    ({"ztor": {"distribution": "uniform", "low": 0, "high": 1, "at_most": "rjb"}}, "at_most"),
])
def test_bad_marginalised_entries_raise(tmp_path, entry, match):
    path = make_tiny_model_card(tmp_path)
    d = json.loads(path.read_text())
    d["marginalised"] = entry
    path.write_text(json.dumps(d))
    with pytest.raises(InputError, match=match):
        load_card(path)


def test_default_model_fits_size_budget():
    model = CGMVAE(ModelConfig())
    assert n_parameters(model) * 4 <= 20e6


def test_device_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="cuda"):
            resolve_device("cuda")
    with pytest.raises(InputError, match="unknown device"):
        resolve_device("tpu")


@pytest.mark.parametrize("device", ["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
def test_to_device_copies_values_and_casts(device: str) -> None:
    """Host arrays reach the device (not waited for, on CUDA) with the values
    a plain copy and cast give; and a side stream of None runs the block as is."""
    from gm_engine.generator.device import side_stream, to_device

    a = np.random.default_rng(1).standard_normal((5, 3))
    dev = torch.device(device)
    got = to_device(a, dev, torch.float32)
    assert got.device.type == dev.type and got.dtype == torch.float32
    assert torch.equal(got.cpu(), torch.from_numpy(a).float())
    assert torch.equal(to_device(np.arange(4), dev).cpu(), torch.arange(4))
    ran = []
    with side_stream(None):
        ran.append(1)
    assert ran == [1]


def test_mixed_innovations_are_standard_normal_with_designed_covariance():
    rng = np.random.default_rng(0)
    r, m, d = 4000, 3, 2
    ev = rng.standard_normal((r, m, d))
    si = rng.standard_normal((2, r, d))
    loc = rng.standard_normal((2, r, m, d))
    eps = mix_innovations(ev, si, loc, w_between=0.3, site_persistent=0.5)
    assert eps.shape == (2, r, m, d)
    assert np.var(eps) == pytest.approx(1.0, abs=0.05)
    # Two sites of one realization share the event term: correlation w_b.
    assert np.corrcoef(eps[0, :, 0, 0], eps[1, :, 0, 0])[0, 1] == pytest.approx(0.3, abs=0.05)
    # Two frames of one site have different event and local terms but share
    # the frame-constant site term: correlation (1 - w_b) p = 0.35.
    assert np.corrcoef(eps[0, :, 0, 0], eps[0, :, 1, 0])[0, 1] == pytest.approx(0.35, abs=0.05)


def test_site_channels_take_the_range_of_psa_1s():
    # Jayaram & Baker (2009), case 1: b = 22 + 3.7 T for T >= 1 s -> 25.7 km at 1 s.
    b = site_channel_ranges_km(16)
    assert b.shape == (16,)
    assert np.allclose(b, 22.0 + 3.7 * 1.0)
    # a card may set the period (cgm-ca-sim-v8: 3 s, 33.1 km)
    assert np.allclose(site_channel_ranges_km(4, period_s=3.0), 22.0 + 3.7 * 3.0)


def test_a_longer_site_channel_range_correlates_more():
    xy = np.array([[0.0, 0.0], [10.0, 0.0]])
    a = draw_site_terms(xy, 4000, 1, np.random.default_rng(2))
    b = draw_site_terms(xy, 4000, 1, np.random.default_rng(2), period_s=3.0)
    rho = [np.corrcoef(x[0, :, 0], x[1, :, 0])[0, 1] for x in (a, b)]
    assert rho[0] == pytest.approx(np.exp(-30.0 / 25.7), abs=0.04)
    assert rho[1] == pytest.approx(np.exp(-30.0 / 33.1), abs=0.04)


def test_draw_site_terms_correlated_in_space_and_reproducible():
    xy = np.array([[0.0, 0.0], [0.5, 0.0], [200.0, 0.0]])
    a = draw_site_terms(xy, 400, 4, np.random.default_rng(5))
    b = draw_site_terms(xy, 400, 4, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (3, 400, 4) and a.dtype == np.float32
    near = np.corrcoef(a[0, :, 0], a[1, :, 0])[0, 1]
    far = np.corrcoef(a[0, :, 0], a[2, :, 0])[0, 1]
    # exp(-3 * 0.5 / 25.7) = 0.94 at 0.5 km (the PSA(1 s) range); ~0 at 200 km.
    assert near == pytest.approx(0.94, abs=0.05)
    assert abs(far) < 0.15


def _synthetic_traces(n: int, seed: int = 0) -> torch.Tensor:
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(seed)
    t = np.arange(4096) * 0.01
    dur = rng.uniform(4, 15, n)[:, None]
    env = (t / dur) ** 2 * np.exp(2 - 2 * t / dur)
    x = sosfiltfilt(butter(4, [0.2, 20], btype="band", fs=100, output="sos"),
                    rng.standard_normal((n, 4096)) * env)
    return torch.tensor(np.ascontiguousarray(x), dtype=torch.float32)


def test_stft_round_trip_is_exact():
    cfg = STFTConfig()
    x = _synthetic_traces(2)
    s = stft(x, cfg)
    assert s.shape == (2, cfg.n_bins, cfg.n_frames) == (2, 129, 129)
    torch.testing.assert_close(istft(s, cfg), x, rtol=1e-4, atol=1e-6 * float(x.abs().max()))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
@pytest.mark.parametrize("hop", [32, 64])
def test_cpu_istft_equals_torch_istft_bit_for_bit(dtype, hop):
    """The CPU overlap-add of gm_engine.generator.stft.istft keeps torch.istft's sums."""
    from gm_engine.generator.stft import window

    cfg = STFTConfig(hop=hop)
    g = torch.Generator().manual_seed(hop)
    spec = torch.randn(3, 2, cfg.n_bins, cfg.n_frames, dtype=dtype, generator=g)
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    ref = torch.istft(spec.reshape(6, cfg.n_bins, cfg.n_frames), n_fft=cfg.n_fft,
                      hop_length=cfg.hop, win_length=cfg.n_fft, window=window(cfg, "cpu", real),
                      center=True, normalized=False, onesided=True, length=cfg.n_samples)
    got = istft(spec, cfg)
    assert got.shape == (3, 2, cfg.n_samples) and got.dtype == real
    assert torch.equal(got.reshape(6, -1), ref)


def test_pghi_beats_random_phase_and_fgla_improves_it():
    cfg = STFTConfig()
    x = _synthetic_traces(6, seed=3)
    mag = stft(x, cfg).abs()
    sc = {}
    for k in (0, 8):
        y = P.reconstruct(mag, cfg, n_iter=k)
        sc[k] = float((20 * torch.log10(P.spectral_convergence(mag, y, cfg))).mean())
    rnd = P.griffin_lim(mag, cfg, n_iter=0, generator=torch.Generator().manual_seed(0))
    sc_rnd = float((20 * torch.log10(P.spectral_convergence(mag, rnd, cfg))).mean())
    assert sc[0] < -15.0  # PGHI alone
    assert sc[0] < sc_rnd - 10.0
    assert sc[8] < sc[0] - 3.0


def test_pghi_recovers_a_chirp_peak_level():
    cfg = STFTConfig()
    t = np.arange(4096) * 0.01
    env = np.exp(-0.5 * ((t - 20) / 5) ** 2)
    x = torch.tensor(env * np.sin(2 * np.pi * (0.5 * t + 0.05 * t ** 2)), dtype=torch.float32)[None]
    y = P.reconstruct(stft(x, cfg).abs(), cfg, n_iter=0)
    assert float(y.abs().max() / x.abs().max()) == pytest.approx(1.0, abs=0.1)


def test_prior_sampling_matches_teacher_forced_forward():
    # Feeding sample() the innovations that map the prior onto the posterior
    # means must reproduce the training-time reconstruction: the generation
    # path and the training path are the same model.
    torch.manual_seed(0)
    model = CGMVAE(ModelConfig(**TINY_ARCH)).eval()
    cfg = model.cfg
    xn = torch.randn(3, 3, cfg.n_bins, cfg.n_frames)
    cond = torch.randn(3, 7)
    with torch.no_grad():
        out = model(xn, cond, torch.zeros(3, cfg.n_frames, cfg.z_dim), torch.zeros(3, cfg.g_dim))
        eps = (out["mu_q"] - out["mu_p"]) / torch.exp(0.5 * out["lv_p"])
        sampled = model.sample(cond, out["mu_g"], eps)
    torch.testing.assert_close(sampled, model.denormalise(out["xhat"]), rtol=1e-4, atol=1e-4)


def test_compute_in_another_precision(tmp_path):
    """compute_in (the benchmarks' knob): the same waveforms to float32 rounding."""
    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    df = conditions(5)
    ev, si = draws(gen, 5, 1)
    a = gen.generate(df, ev, si, seed=3)
    gen.compute_in(torch.float64)
    assert gen.dtype == torch.float64
    assert all(p.dtype == torch.float64 for p in gen.model.parameters())
    b = gen.generate(df, ev, si, seed=3)
    assert b.dtype == np.float32 and not np.array_equal(a, b)
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-4 * np.abs(a).max())


def test_cpu_synthesis_runs_on_one_torch_thread(tmp_path, monkeypatch):
    """A site's synthesised samples depended on its row with 16 torch threads on a
    16-core host (torch 2.11); the engine synthesises with one thread per batch,
    so the generator does too, whatever the caller's setting (the viewer's)."""
    from gm_engine.generator import model as model_mod

    seen = []
    real = model_mod.envelope_to_waveform

    def spy(*args, **kw):
        seen.append(torch.get_num_threads())
        return real(*args, **kw)

    monkeypatch.setattr(model_mod, "envelope_to_waveform", spy)
    gen = load_model(str(make_tiny_model_card(tmp_path)), device="cpu")
    ev, si = draws(gen, 2, 1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        gen.generate(conditions(2), ev, si, seed=3)
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(before)
    assert seen and set(seen) == {1}


def test_latent_settings_by_magnitude_interpolate_and_check_their_tables():
    from gm_engine.generator.sampling import latent_at

    assert latent_at(0.3, np.array([5.0, 8.0])) == 0.3
    table = {"magnitude": [5.25, 6.25, 7.5], "value": [1.0, 0.9, 0.8]}
    np.testing.assert_allclose(latent_at(table, np.array([4.0, 5.25, 5.75, 6.875, 7.5, 8.0])),
                               [1.0, 1.0, 0.95, 0.85, 0.8, 0.8])  # constant beyond the ends
    for bad in ({"magnitude": [6.0, 5.0], "value": [1.0, 1.0]},
                {"magnitude": [5.0, 6.0], "value": [1.0]}):
        with pytest.raises(ValueError):
            latent_at(bad, np.array([5.0]))
    w = np.array([0.2, 0.4]).reshape(2, 1, 1)
    rng = np.random.default_rng(3)
    ev, si, loc = (rng.standard_normal(s) for s in ((1, 3), (2, 1, 3), (2, 1, 3)))
    got = mix_innovations(ev, si, loc, w, 0.5)
    for i in range(2):  # a per-site share is the number's mixing, site by site
        np.testing.assert_allclose(got[i], mix_innovations(ev, si[i:i + 1], loc[i:i + 1],
                                                           float(w[i, 0, 0]), 0.5)[0])
    with pytest.raises(ValueError):
        mix_innovations(ev, si, loc, w + 0.7, 0.5)


def test_a_card_with_latent_tables_mixes_site_by_site(tmp_path):
    """Temperature and w_b by magnitude: each site gets its own magnitude's values,
    alone or in a batch, in runs and in independent records."""
    card_path = make_tiny_model_card(tmp_path / "m")
    d = json.loads(card_path.read_text())
    d["latent"].update(temperature={"magnitude": [5.5, 7.0], "value": [0.0, 1.0]},
                       w_between={"magnitude": [5.5, 7.0], "value": [0.2, 0.5]})
    card_path.write_text(json.dumps(d))
    gen = load_model(str(card_path), "cpu")
    cond = conditions(6).assign(magnitude=[5.0, 7.5, 5.5, 7.0, 6.25, 7.2])
    ev, si = draws(gen, 6, 2)
    batch = gen.generate(cond, ev, si, seed=4)
    for i in range(6):
        alone = gen.generate(cond.iloc[[i]], ev, si[i:i + 1], seed=4, site_ids=np.array([i]))
        assert np.array_equal(alone, batch[i:i + 1]), i
    # temperature 0 at M <= 5.5: no latent innovation, the same record in every
    # realization (the white noise still differs); at M >= 7 the realizations differ
    other = gen.generate(cond, -ev, -si, seed=4)
    env = [np.abs(x).max(axis=-1) for x in (batch, other)]
    assert np.allclose(env[0][[0, 2]], env[1][[0, 2]], rtol=1e-5)
    assert not np.allclose(env[0][[1, 3]], env[1][[1, 3]], rtol=1e-3)
    ind = [gen.generate_independent(cond, seed=s) for s in (1, 2)]
    assert not np.array_equal(ind[0][[1, 3]], ind[1][[1, 3]])
