"""Engine cgm in the pipeline: run, outputs, regenerated waveforms, model card choice.

Uses a tiny untrained model written to tmp_path (the numbers mean nothing;
the plumbing, determinism and files are what is checked here). The bundled
model's science is checked in test_cgm_bundled.py and validation/cgm.py.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from engine_helpers import make_tiny_model_card

from gm_engine.errors import InputError
from gm_engine.generator.card import mechanism_codes, sha256_file
from gm_engine.runner import run_scenario, site_waveforms
from gm_engine.scenario import Scenario


@pytest.fixture(autouse=True)
def _threads():
    torch.set_num_threads(1)


@pytest.fixture
def cgm_run(scenario_dict, tmp_path):
    card = str(make_tiny_model_card(tmp_path / "model"))
    d = {**scenario_dict, "engine": "cgm", "model_card": "model/card.json", "realizations": 2,
         "intensity_measures": ["PGA", "PGV", "SA(1.0)", "D5-95"]}
    s = Scenario.from_dict(d, tmp_path)
    return run_scenario(s, tmp_path / "run"), card, s


def test_cgm_run_writes_outputs_and_regenerates_sites(cgm_run):
    from gm_engine.ims import compute_ims

    res, card, _ = cgm_run
    meta = json.loads(res.run_json.read_text())
    assert meta["engine"] == "cgm"
    info = meta["engine_info"]
    assert info["model"] == "tiny" and info["weights_sha256"] == sha256_file(
        card.replace("card.json", "model.safetensors"))
    assert info["device"] == "cpu" and info["precision"] == "float32" and info["row_block"] == 64
    df = pd.read_csv(res.sites_csv)
    for im in ("PGA", "PGV", "SA(1.0)", "D5-95"):
        assert np.all(np.isfinite(df[f"{im}_median"])) and np.all(df[f"{im}_median"] > 0)
    with np.load(res.out_dir / "site_realizations.npz") as z:
        pga = z[f"im{list(z['ims']).index('PGA')}"]
    for i in (0, 3):
        sw = site_waveforms(res.out_dir, i)
        assert sw.acc.shape == (2, 3, 4096) and sw.dt == 0.01
        got = compute_ims(sw.acc, sw.dt, ["PGA"])["PGA"]
        np.testing.assert_allclose(got, pga[:, i], rtol=1e-5)
    one = site_waveforms(res.out_dir, 2, [1])
    np.testing.assert_array_equal(one.acc[0], site_waveforms(res.out_dir, 2).acc[1])


def test_cgm_run_with_a_marginalised_condition_says_so_and_regenerates(scenario_dict, tmp_path):
    from gm_engine.ims import compute_ims

    make_tiny_model_card(tmp_path / "model", marginalised={"ztor": {
        "distribution": "uniform", "low": 0.0, "high": 10.0, "at_most": "rrup_km"}})
    d = {**scenario_dict, "engine": "cgm", "model_card": "model/card.json", "realizations": 2,
         "intensity_measures": ["PGA"]}
    res = run_scenario(Scenario.from_dict(d, tmp_path), tmp_path / "run")
    meta = json.loads(res.run_json.read_text())
    assert meta["engine_info"]["marginalised_conditions"] == ["ztor"]
    assert any("does not use the scenario's ztor" in w for w in res.warnings)
    assert meta["warnings"] == res.warnings
    with np.load(res.out_dir / "site_realizations.npz") as z:
        pga = z["im0"]
    sw = site_waveforms(res.out_dir, 1)  # the drawn Ztor comes back with the site's keys
    np.testing.assert_allclose(compute_ims(sw.acc, sw.dt, ["PGA"])["PGA"], pga[:, 1], rtol=1e-5)
    # the export reports the Ztor the model used, one per realization ...
    drawn = sw.conditions["ztor_km_drawn"]
    assert len(drawn) == 2 and drawn[0] != drawn[1]
    assert all(0.0 <= z <= min(10.0, sw.conditions["rrup_km"]) + 1e-6 for z in drawn)
    # ... which is the value that, given to the same weights without the
    # marginalisation, makes the same waveform
    from gm_engine.engines import CGMEngine
    from gm_engine.generator import load_model

    with np.load(res.out_dir / "site_terms.npz") as z:
        terms = {k: z[k] for k in z.files}
    marg = CGMEngine("cpu", str(tmp_path / "model" / "card.json"))
    used = marg.drawn_conditions(terms, 1, [0, 1])["ztor_km"]
    np.testing.assert_allclose(drawn, used, atol=1e-4)
    plain = load_model(str(make_tiny_model_card(tmp_path / "plain")), "cpu")
    for r in (0, 1):
        cond = pd.DataFrame({k[5:]: [terms[k][1]] for k in terms if k.startswith("cond_")})
        cond["ztor_km"] = used[r]
        acc = plain.generate(cond, terms["eps_event"][[r]], terms["eps_site"][[1]][:, [r]],
                             seed=int(terms["seed"]), site_ids=np.array([1]),
                             realization_ids=np.array([r]))
        np.testing.assert_allclose(acc[0, 0], sw.acc[r], rtol=1e-5, atol=1e-9)


def test_cgm_run_is_deterministic_and_flags_out_of_range(cgm_run, tmp_path):
    res, _, s = cgm_run
    again = run_scenario(s, tmp_path / "again")
    a, b = pd.read_csv(res.sites_csv), pd.read_csv(again.sites_csv)
    pd.testing.assert_frame_equal(a, b)
    assert "outside_range" in a.columns and not a["outside_range"].any()


def test_cgm_refuses_missing_card_and_changed_weights(cgm_run, scenario_dict, tmp_path):
    from gm_engine.engines import engine_for

    d = {**scenario_dict, "engine": "cgm", "model_card": "nowhere/card.json"}
    with pytest.raises(InputError, match="model_card"):
        engine_for(Scenario.from_dict(d, tmp_path))
    with pytest.raises(InputError, match="model_card"):
        Scenario.from_dict({**scenario_dict, "model_card": ""}, tmp_path)
    res, _card, _ = cgm_run
    # retrained weights under the same card path: the run's waveforms can no
    # longer be regenerated, and the viewer must say so rather than show others
    meta = json.loads(res.run_json.read_text())
    meta["engine_info"]["weights_sha256"] = "0" * 64
    res.run_json.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="another model"):
        site_waveforms(res.out_dir, 0)


def test_cgm_refuses_a_recalibrated_card_or_another_model(cgm_run):
    # same weights, other waveforms: a recalibrated card (latent mixing, decoder
    # correction, synthesis noise) must not regenerate the run as if it made it
    res, card, _ = cgm_run
    original = json.loads(open(card).read())
    changed = {**original, "latent": {**original["latent"], "w_between": 0.31}}
    with open(card, "w") as f:
        json.dump(changed, f)
    with pytest.raises(InputError, match="another version of model tiny"):
        site_waveforms(res.out_dir, 0)
    with open(card, "w") as f:
        json.dump(original, f)
    site_waveforms(res.out_dir, 0)
    # a run written before the sampler hash was stored: the model's name decides
    meta = json.loads(res.run_json.read_text())
    del meta["engine_info"]["sampler_sha256"]
    meta["engine_info"]["model"] = "tiny-v0"
    res.run_json.write_text(json.dumps(meta))
    with pytest.raises(InputError, match="made with model tiny-v0"):
        site_waveforms(res.out_dir, 0)


def test_waveforms_command_exports_chosen_sites(cgm_run, tmp_path, capsys):
    from obspy import read

    from gm_engine.cli import main

    res, _, _ = cgm_run
    out = tmp_path / "w"
    assert main(["waveforms", "--run", str(res.out_dir), "--sites", "0,2", "--out", str(out)]) == 0
    st = read(str(out / "site_00002.mseed"))
    assert len(st) == 6  # 2 realizations x 3 components
    ref = site_waveforms(res.out_dir, 2)
    tr = st.select(location="01", channel="HNZ")[0]
    np.testing.assert_array_equal(tr.data, ref.acc[1, 2].astype(np.float32))
    meta = json.loads((out / "site_00002.mseed.json").read_text())
    assert meta["site_index"] == 2 and meta["units"] == "g"
    table = pd.read_csv(out / "site_00000.csv", comment="#")
    assert list(table.columns[:4]) == ["time_s", "r0_H1_g", "r0_H2_g", "r0_Z_g"]
    # nothing is overwritten without --force, and nothing is half-written
    before = (out / "site_00000.csv").stat().st_mtime_ns
    assert main(["waveforms", "--run", str(res.out_dir), "--sites", "0", "--out", str(out)]) == 2
    assert (out / "site_00000.csv").stat().st_mtime_ns == before
    assert main(["waveforms", "--run", str(res.out_dir), "--sites", "x", "--out", str(out)]) == 2
    assert "--sites" in capsys.readouterr().err


def test_device_ims_path_agrees_with_compute_ims(cgm_run):
    """The GPU engine's IM path (torch_ims on the model's device), run here on CPU tensors."""
    from gm_engine.engines import generated_ims, torch_ims_support

    res, _, _ = cgm_run
    acc = torch.from_numpy(site_waveforms(res.out_dir, 1).acc)
    ims = ["PGA", "PGV", "SA(0.3)", "SA(1.0)"]
    assert torch_ims_support(ims) and not torch_ims_support([*ims, "D5-95"])
    on_dev, on_cpu = generated_ims(acc, 0.01, ims, True), generated_ims(acc, 0.01, ims, False)
    for im in ims:
        np.testing.assert_allclose(on_dev[im], on_cpu[im], rtol=1e-4)


def _sites(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Conditions and x/y (km) of n sites scattered within 40 km of an M 6.5 source."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 40, (n, 2))
    cond = pd.DataFrame({"magnitude": 6.5, "rrup_km": np.hypot(*xy.T) + 1.0,
                         "vs30": rng.uniform(250, 800, n), "ztor_km": 0.0, "mechanism": "SS"})
    return cond, xy


@pytest.mark.parametrize("ims", [["PGA", "SA(1.0)"], ["PGA", "D5-95"]])
def test_device_path_gives_the_cpu_path_values(tmp_path, ims):
    """measure_on_device (the GPU engine's loop: big batches, no Z, IMs by torch_ims
    where it supports them, else compute_ims) run with a CPU generator."""
    import gm_engine.engines as E

    card = str(make_tiny_model_card(tmp_path))
    n, r = 70, 2
    cond, xy = _sites(n, 5)
    engine = E.CGMEngine("cpu", card)
    ref = engine.realizations(cond, xy, ims, r, 7)
    terms, gen = engine._terms, engine.generator()
    got = {im: np.empty((r, n)) for im in ims}
    E.measure_on_device(gen, cond, terms["eps_event"], terms["eps_site"], 7, ims, got,
                         None, None)
    for im in ims:  # torch_ims agrees with compute_ims to ~3e-5
        np.testing.assert_allclose(got[im], ref[im], rtol=2e-4 if E.torch_ims_support(ims) else 0)


def test_device_path_keys_a_chunk_by_its_sites_run_index(tmp_path):
    """A Dask GPU task measures its chunk with measure_on_device and the chunk's
    offset: its sites get the values they have in the whole run, bit for bit."""
    import gm_engine.engines as E

    card = str(make_tiny_model_card(tmp_path))
    n, r, k = 40, 2, 13
    cond, xy = _sites(n, 3)
    engine = E.CGMEngine("cpu", card)
    engine.realizations(cond, xy, ["PGA"], r, 7)
    terms, gen = engine._terms, engine.generator()
    whole, part = {"PGA": np.empty((r, n))}, {"PGA": np.empty((r, n - k))}
    E.measure_on_device(gen, cond, terms["eps_event"], terms["eps_site"], 7, ["PGA"], whole,
                        None, None)
    E.measure_on_device(gen, cond.iloc[k:].reset_index(drop=True), terms["eps_event"],
                        terms["eps_site"][k:], 7, ["PGA"], part, None, None, site_offset=k)
    np.testing.assert_array_equal(part["PGA"], whole["PGA"][:, k:])
    E.measure_on_device(gen, cond.iloc[k:].reset_index(drop=True), terms["eps_event"],
                        terms["eps_site"][k:], 7, ["PGA"], part, None, None)
    assert not np.array_equal(part["PGA"], whole["PGA"][:, k:])  # the offset matters


def test_site_terms_of_another_generator_are_refused(cgm_run):
    res, _, _ = cgm_run
    path = res.out_dir / "site_terms.npz"
    with np.load(path) as z:
        terms = {k: z[k] for k in z.files}
    assert str(terms["rng"]) == "splitmix64-boxmuller-v1"
    np.savez(path, **{k: v for k, v in terms.items() if k != "rng"})
    with pytest.raises(InputError, match="rerun the scenario"):
        site_waveforms(res.out_dir, 0)


def test_cpu_threads_give_the_sequential_values_and_cancel(tmp_path, monkeypatch):
    # batches go to parallel threads: the values must be those of generating
    # and measuring the sites one batch after another, and a cancel must stop it
    import gm_engine.engines as E
    from gm_engine.errors import Cancelled
    from gm_engine.ims import compute_ims

    card = str(make_tiny_model_card(tmp_path))
    n, r = 150, 2
    cond, xy = _sites(n, 4)
    ims = ["PGA", "SA(1.0)"]
    monkeypatch.setattr(E, "CGM_CPU_THREADS", 3)
    engine = E.CGMEngine("cpu", card)
    seen = []
    got = engine.realizations(cond, xy, ims, r, 7, progress=lambda f, _m: seen.append(f))
    assert seen[-1] == 1.0 and len(seen) == -(-n // (64 // r))
    terms = engine._terms
    gen = engine.generator()
    acc = gen.generate(cond, terms["eps_event"], terms["eps_site"], seed=7)
    ref = compute_ims(acc.reshape(n * r, 3, -1), gen.dt, ims, n_threads=1)
    for im in ims:
        np.testing.assert_array_equal(got[im], ref[im].reshape(n, r).T)
    calls = iter(range(10**6))
    with pytest.raises(Cancelled):
        engine.realizations(cond, xy, ims, r, 7, is_cancelled=lambda: next(calls) >= 2)


def test_window_limited_sites_are_named_only_for_duration_ims():
    """Afshari & Stewart D5-95 beyond 0.7 of the bundled model's 40.96 s records."""
    from gm_engine.engines import CGMEngine, StochasticEngine, window_limited_sites, window_notes

    eng = CGMEngine("cpu")
    cond = pd.DataFrame({"magnitude": [8.0, 6.0, 7.25], "rrup_km": [100.0, 10.0, 200.0],
                         "vs30": [400.0, 400.0, 400.0], "ztor_km": [0.0, 0.0, 0.0],
                         "mechanism": ["SS", "SS", "RV"]})
    # AS16 medians ~66 s, ~6 s and ~39 s (docs/validation/cgm_results.json's cells)
    assert eng.window_limited(cond).tolist() == [True, False, True]
    assert window_limited_sites(eng, cond, ["PGA", "SA(1.0)", "PGV"]) is None
    limited = window_limited_sites(eng, cond, ["PGA", "cav", "D5-95"])
    (note,) = window_notes(eng, limited, ["PGA", "cav", "D5-95"])
    assert note.startswith("2 of 3 sites") and "CAV, D5-95" in note and "28.7 s" in note
    assert window_notes(eng, limited[[1]], ["D5-95"]) == []
    assert window_notes(eng, None, ["D5-95"]) == []
    assert window_limited_sites(StochasticEngine(), cond, ["D5-95"]) is None  # long records


@pytest.mark.parametrize("ims", [["PGA", "D5-95"], ["PGA"]])
def test_a_run_asking_durations_beyond_the_window_says_so(scenario_dict, tmp_path, ims):
    import warnings

    make_tiny_model_card(tmp_path / "model")
    d = {**scenario_dict, "engine": "cgm", "model_card": "model/card.json", "realizations": 1,
         "magnitude": 8.0, "intensity_measures": ims}
    with warnings.catch_warnings():  # M 8 on this short trace: a scenario warning, not ours
        warnings.simplefilter("ignore")
        res = run_scenario(Scenario.from_dict(d, tmp_path), tmp_path / "run")
    notes = [w for w in res.warnings if "Afshari & Stewart" in w]
    sites = pd.read_csv(tmp_path / "run" / "sites.csv")
    if "D5-95" not in ims:  # peaks only: nothing to say, no column
        assert notes == [] and "window_limited" not in sites
        return
    assert len(notes) == 1 and "D5-95" in notes[0]
    assert notes[0] in json.loads((tmp_path / "run" / "run.json").read_text())["warnings"]
    flagged = int(sites["window_limited"].sum())  # M 8: AS16 ~45 s or more at these sites
    assert flagged == len(sites) == 4 and notes[0].startswith("4 of 4 sites")


def test_a_gpu_run_regenerates_on_a_gpu_where_there_is_one(monkeypatch):
    """The viewer regenerates on the device type that made the run (its bits) when this
    machine has it, and on the CPU otherwise (to rounding)."""
    from gm_engine.runner import regeneration_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert regeneration_device({"device": "cuda:0"}) == "cpu"
    assert regeneration_device({}) == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert regeneration_device({"device": "cuda:0"}) == "cuda"
    assert regeneration_device({"device": "cuda"}) == "cuda"
    assert regeneration_device({"device": "cpu"}) == "cpu"
    assert regeneration_device({"device": "mps"}) == "cpu"


@pytest.mark.parametrize(("values", "codes"), [
    (["SS", "rv", "NM", "xx", "Ss"], [0, 2, 1, -1, 0]),
    (np.array(["SS", None, np.nan, "RV"], dtype=object), [0, -1, -1, 2]),
    ([["SS", "RV"], ["nm", "?"]], [[0, 2], [1, -1]]),
    ([0, 2, 1.0, 3, np.nan], [0, 2, 1, -1, -1]),
    (np.array([], dtype=str), []),
])
def test_mechanism_codes(values, codes) -> None:
    """Names in any case or int codes -> 0/1/2; anything else, missing values included, -1."""
    got = mechanism_codes(values)
    assert got.tolist() == codes and got.dtype == np.int64
