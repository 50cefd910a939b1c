"""The bundled model: its card says what it is, and a coarse NGA-West2 check stays green.

The full check is validation/cgm.py (docs/validation/cgm.md); this keeps a
small version of it in the suite: medians of generated records against the
NGA-West2 average at four scenario cells, the direction of magnitude and
distance scaling, and a between/within split of the run's latent mixing.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from gm_engine.engines import bundled_model_card
from gm_engine.generator import load_model
from gm_engine.gmpe import nga_west2_average
from gm_engine.ims import compute_ims

IMS = ["PGA", "SA(0.3)", "SA(1.0)"]


@pytest.fixture(scope="module")
def gen():
    torch.set_num_threads(1)
    return load_model(str(bundled_model_card()), "cpu")


def cells(mags, rrups, vs30=400.0) -> pd.DataFrame:
    m, r = np.meshgrid(mags, rrups, indexing="ij")
    n = m.size
    return pd.DataFrame({
        "magnitude": m.ravel(), "rrup_km": r.ravel(), "rjb_km": r.ravel(), "rx_km": -r.ravel(),
        "ry0_km": np.zeros(n), "vs30": np.full(n, vs30), "ztor_km": np.zeros(n),
        "zbot_km": np.full(n, 15.0), "dip": np.full(n, 90.0), "rake": np.zeros(n),
        "mechanism": ["SS"] * n, "hanging_wall": np.zeros(n, bool), "z1_km": np.full(n, np.nan)})


def test_card_says_what_the_model_is(gen):
    card = json.loads(bundled_model_card().read_text())
    assert "simulated" in card["training"]["data"]
    assert card["weights"]["sha256"] == gen.card.sha256  # load_model verified the file
    assert (bundled_model_card().parent / card["weights"]["file"]).stat().st_size < 20e6
    assert [c["name"] for c in card["conditions"]] == ["magnitude", "ln_rrup", "ln_vs30",
                                                       "ztor", "mechanism"]
    assert {"temperature", "w_between", "site_persistent"} <= set(card["latent"])
    assert {"static_prior", "synthesis_offset_log10"} <= set(card["decoder"])
    assert card["validation"]["report"] == "docs/validation/cgm.md"


def test_shipped_cards_load_and_differ_where_they_say(gen):
    # v11 (bundled) is v10 with a low-frequency gain in its synthesis; v10 is v9
    # with its latent temperature and w_b tabled by magnitude;
    # v9 has its own, narrower decoder (dec_hidden 128), warm-started
    # from v8: embedding, encoder and prior carried over; v8, v7, v6, v5 and v4
    # shape the pulse train, v3 Gaussian noise; v4, v6-v8, v10 and v11 are cards
    # only, on v3's, v5's and v9's weights, checked by SHA-256 as any card's; v6 is
    # v5 with Ztor marginalised, v7 is v6 with the sampler calibration refitted on
    # 200,000 further simulated records, v8 is v7 with the latent site channels
    # correlated over the 3 s range of Jayaram & Baker
    models = bundled_model_card().parent.parent
    v3, v4, v5, v6, v7, v8, v9, v10 = (
        load_model(str(models / f"cgm-ca-sim-{v}" / "model_card.json"), "cpu")
        for v in ("v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10"))
    assert bundled_model_card().parent.name == "cgm-ca-sim-v11"
    # v11: v10's weights, sampler calibration and latent mixing, plus the gain
    assert gen.low_frequency_gain is not None and v10.low_frequency_gain is None
    assert gen.card.latent == v10.card.latent and gen.card.decoder == v10.card.decoder
    assert {k: v for k, v in gen.card.synthesis.items() if k != "low_frequency_gain"} == (
        v10.card.synthesis)
    assert gen.card.sampler_sha256() != v10.card.sampler_sha256()
    ln_gain = np.asarray(gen.low_frequency_gain.ln_gain)
    assert (ln_gain[:, 0] < -1.0).all() and (ln_gain[:, -1] == 0.0).all()
    assert ln_gain[0, 0] < ln_gain[-1, 0]  # small magnitudes lose the most
    # v10 is a card on v9's weights and sampler calibration whose temperature and
    # between-event share are tables by magnitude (docs/generator.md)
    gen = v10
    assert gen.card.weights_path.resolve() == v9.card.weights_path.resolve()
    assert gen.card.decoder == v9.card.decoder and gen.card.synthesis == v9.card.synthesis
    assert isinstance(v9.temperature, float) and isinstance(v9.w_between, float)
    t = gen.card.latent["temperature"]
    assert t["magnitude"] == [5.25, 6.25, 7.5] and t["value"] == sorted(t["value"], reverse=True)
    assert gen.card.latent["w_between"]["magnitude"] == t["magnitude"]
    assert gen.site_persistent == v9.site_persistent
    assert (gen.card.architecture["dec_hidden"], v8.card.architecture["dec_hidden"]) == (128, 256)
    assert {k: v for k, v in gen.card.architecture.items() if k != "dec_hidden"} == {
        k: v for k, v in v8.card.architecture.items() if k != "dec_hidden"}
    init = gen.card.training["initialised_from"]
    assert init["sha256"] == v8.card.sha256 and "decoder and mean_net" in init["fresh"]
    assert gen.card.weights_path.resolve() != v8.card.weights_path.resolve()
    assert gen.site_channel_period_s == v8.site_channel_period_s == 3.0
    assert gen.card.marginalised == v8.card.marginalised
    assert gen.card.training["decoder_recalibrated"]["mean_correction_records"] == 180_000
    assert v8.card.decoder == v7.card.decoder
    assert v8.card.weights_path.resolve() == v7.card.weights_path.resolve()
    assert (v8.site_channel_period_s, v7.site_channel_period_s) == (3.0, 1.0)
    assert v8.card.sampler_sha256() != v7.card.sampler_sha256()
    assert v4.card.weights_path.resolve() == v3.card.weights_path.resolve()
    assert v8.card.weights_path.resolve() == v6.card.weights_path.resolve() == (
        v5.card.weights_path.resolve())
    assert gen.noise == v8.noise == v6.noise == v5.noise == v4.noise == "pulse_train"
    assert v3.noise == "gaussian"
    assert v6.card.decoder == v5.card.decoder != v8.card.decoder
    assert v8.card.training["decoder_recalibrated"]["mean_correction_records"] == 180_000
    assert set(v8.card.marginalised) == set(v6.card.marginalised) == {"ztor"}
    assert not v5.card.marginalised
    # older cards' sampler hashes are those their runs stored (runner refuses others)
    assert v5.card.sampler_sha256() == (
        "bf9d7270811b0c21656dbe524e66fe7c69aef1f3a01217753a006fcefcd1f365")
    assert len({g.card.sampler_sha256() for g in (gen, v3, v4, v5, v6, v7, v8, v9)}) == 8
    for v, g in (("v3", v3), ("v4", v4), ("v5", v5), ("v6", v6), ("v7", v7), ("v8", v8),
                 ("v9", v9), ("v10", v10)):
        assert g.card.validation["report"] == f"docs/validation/cgm-ca-sim-{v}/cgm.md"
    assert "synthesis revision 3" in gen.card.training["data"]


@pytest.fixture(scope="module")
def four_cells(gen):
    """Mean ln IM of 192 generated records at M 6 / 7 x Rrup 10 / 50 km, and NGA-West2's."""
    cond = cells([6.0, 7.0], [10.0, 50.0])
    n_rec = 192
    rep = cond.loc[cond.index.repeat(n_rec)].reset_index(drop=True)
    v = compute_ims(gen.generate_independent(rep, seed=3), gen.dt, IMS)
    nga = nga_west2_average(cond, IMS)
    return {im: (np.log(v[im]).reshape(len(cond), n_rec).mean(axis=1),
                 np.log(nga[im].median)) for im in IMS}


def test_coarse_medians_follow_nga_west2_and_decay_with_distance(four_cells):
    for im, (ln, nga) in four_cells.items():
        # validation/cgm.py holds the model to +-0.25 over 240 cells; 192 records
        # add ~0.05 of sampling noise
        assert np.all(np.abs(ln - nga) < 0.35), (im, ln - nga)
        m6_10, m6_50, m7_10, m7_50 = ln
        assert m6_10 > m6_50 + 0.5 and m7_10 > m7_50 + 0.5, im
        assert m7_50 > m6_50 + 0.3, im


def test_near_source_magnitude_scaling(four_cells):
    # an expected failure up to v5: M 6 at 10 km came out too high at Ztor 0, the
    # edge where the network's spurious Ztor dependence was largest (docs/generator.md)
    for im, (ln, nga) in four_cells.items():
        m6_10, _, m7_10, _ = ln
        # NGA-West2: +0.43 (PGA) to +0.76 (SA 1 s) from M6 to M7 at 10 km
        assert m7_10 - m6_10 > 0.5 * (nga[2] - nga[0]), im


def test_run_mixing_gives_between_and_within_event_scatter(gen):
    cond = cells([6.5], [30.0])
    n_sites, n_real = 16, 8
    rng = np.random.default_rng(0)
    shp = gen.latent_shape
    ev = rng.standard_normal((n_real, *shp.event)).astype(np.float32)
    si = rng.standard_normal((n_sites, n_real, *shp.site)).astype(np.float32)
    rep = cond.loc[cond.index.repeat(n_sites)].reset_index(drop=True)
    acc = gen.generate(rep, ev, si, seed=5)
    ln = np.log(compute_ims(acc.reshape(-1, 3, acc.shape[-1]), gen.dt, ["SA(1.0)"])["SA(1.0)"])
    ln = ln.reshape(n_sites, n_real).T  # (R, N)
    phi = np.sqrt(ln.var(axis=1, ddof=1).mean())
    tau = np.sqrt(max(ln.mean(axis=1).var(ddof=1) - phi ** 2 / n_sites, 0.0))
    nga = nga_west2_average(cond, ["SA(1.0)"])["SA(1.0)"]
    assert abs(phi - nga.phi[0]) < 0.2 and abs(tau - nga.tau[0]) < 0.25, (tau, phi)


def test_shipped_cards_list_the_bundled_first_then_by_version():
    from gm_engine.engines import shipped_model_cards

    versions = [int(c["name"].rsplit("-v", 1)[1]) for c in shipped_model_cards()]
    assert versions[0] == int(bundled_model_card().parent.name.rsplit("-v", 1)[1])
    assert versions[1:] == sorted(versions[1:]) and 10 in versions[1:]
