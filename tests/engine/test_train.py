"""Training loop and data loaders on a tiny synthetic corpus written in tmp_path."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from gm_engine.errors import InputError
from gm_engine.generator import load_model
from gm_engine.generator.stft import STFTConfig
from gm_engine.train import fit_length, load_corpus, load_records, train_main
from gm_engine.train.loop import epoch_lr

TINY = {"conv_channels": 8, "enc_hidden": 32, "prior_hidden": 32, "dec_hidden": 64,
        "cond_embed": 16, "cond_hidden": 16}


def synthetic_records(n: int, seed: int, n_samples: int = 4096, dt: float = 0.01):
    """Windowed-noise accelerograms whose level follows magnitude and distance,
    so there is something to learn (amplitude ~ 10^(0.5 M) / R)."""
    rng = np.random.default_rng(seed)
    mag = rng.uniform(5.0, 7.5, n)
    rrup = np.exp(rng.uniform(np.log(5.0), np.log(150.0), n))
    vs30 = rng.uniform(200.0, 1000.0, n)
    ztor = rng.uniform(0.0, 10.0, n)
    mech = rng.integers(0, 3, n).astype(np.int8)
    t = np.arange(n_samples) * dt
    dur = 2.0 + 0.5 * (mag - 5.0) * 4 + 0.05 * rrup
    env = (t[None, :] / dur[:, None]) ** 2 * np.exp(-2.0 * t[None, :] / dur[:, None])
    amp = 10 ** (0.5 * (mag - 6.0)) / rrup * 0.5
    acc = rng.standard_normal((n, 3, n_samples)) * (env * amp[:, None])[:, None, :]
    acc[:, 2] *= 0.6
    cond = dict(magnitude=mag, rrup_km=rrup, rjb_km=rrup * 0.9, vs30=vs30, ztor_km=ztor,
                rake=np.where(mech == 0, 0.0, np.where(mech == 1, -90.0, 90.0)),
                dip=np.full(n, 60.0), mechanism=mech)
    return acc.astype(np.float32), cond


def write_corpus(path, n: int = 24, seed: int = 0, dt: float = 0.01, n_samples: int = 4096):
    acc, cond = synthetic_records(n, seed, n_samples, dt)
    dtype = np.dtype([(k, np.int8 if k == "mechanism" else np.float32) for k in cond])
    table = np.zeros(n, dtype=dtype)
    for k, v in cond.items():
        table[k] = v
    with h5py.File(path, "w") as f:
        f.attrs.update(format="groundshake-corpus", version=1, seed=seed, dt=dt,
                       n_samples=n_samples, generator="test")
        d = f.create_dataset("waveforms", data=acc)
        d.attrs["dt"] = dt
        f.create_dataset("conditions", data=table)
        f.create_dataset("ims/PGA", data=np.abs(acc).max(axis=(1, 2)))
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("corpus") / "corpus.h5")


def _run(corpus, out, epochs, resume=False, **kw):
    torch.set_num_threads(1)
    kw.setdefault("kl_warmup_epochs", 2)
    return train_main(str(corpus), str(out), epochs=epochs, batch_size=8, device="cpu",
                      resume=resume, seed=3, progress=False, arch=TINY, **kw)


def _history(out):
    import csv

    with open(out / "history.csv") as f:
        return list(csv.DictReader(f))


def test_loss_decreases_and_card_loads(corpus, tmp_path):
    card_path = _run(corpus, tmp_path / "run", epochs=8, lr=3e-3)
    hist = _history(tmp_path / "run")
    assert len(hist) == 8
    # Reconstruction error falls (KL weight changes with annealing, so compare rec).
    assert float(hist[-1]["train_rec"]) < 0.8 * float(hist[0]["train_rec"])
    # Two validation records are noisy: the best epoch (the one exported) improves.
    assert min(float(h["val_loss"]) for h in hist) < 0.9 * float(hist[0]["val_loss"])
    card = json.loads(card_path.read_text())
    assert card["training"]["epochs_run"] == 8
    assert card["conditions"][0]["name"] == "magnitude"
    assert 5.0 <= card["conditions"][0]["min"] < card["conditions"][0]["max"] <= 7.5
    assert (tmp_path / "run" / "train.log").read_text().count("epoch") >= 3
    gen = load_model(str(card_path), device="cpu")
    assert gen.card.training["n_parameters"] > 0


def test_resume_gives_identical_state(corpus, tmp_path):
    _run(corpus, tmp_path / "a", epochs=2)
    _run(corpus, tmp_path / "b", epochs=1)
    _run(corpus, tmp_path / "b", epochs=2, resume=True)
    ca = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    cb = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert ca["epoch"] == cb["epoch"] == 2
    for k, v in ca["model"].items():
        assert torch.equal(v, cb["model"][k]), k
    assert torch.equal(ca["noise_gen"], cb["noise_gen"])
    # the same numbers, epoch by epoch (wall times differ, of course)
    strip = lambda hist: [{k: v for k, v in h.items() if k != "seconds"} for h in hist]  # noqa: E731
    assert strip(_history(tmp_path / "a")) == strip(_history(tmp_path / "b"))


def test_existing_run_needs_resume(corpus, tmp_path):
    _run(corpus, tmp_path / "r", epochs=1)
    with pytest.raises(InputError, match="resume"):
        _run(corpus, tmp_path / "r", epochs=1)


def test_early_stopping_triggers(corpus, tmp_path):
    # An improvement threshold no epoch can meet: stop after `patience` epochs.
    card_path = _run(corpus, tmp_path / "es", epochs=10, patience=2, min_delta=1e9)
    card = json.loads(card_path.read_text())
    assert card["training"]["stopped_early"] is True
    assert card["training"]["epochs_run"] == 3


def test_init_from_starts_at_the_cards_weights(corpus, tmp_path):
    from safetensors.torch import load_file

    first = _run(corpus, tmp_path / "first", epochs=1)
    # lr 0: Adam leaves every weight where it started, so the export equals the card's.
    second = _run(corpus, tmp_path / "second", epochs=1, lr=0.0, init_from=str(first))
    w1 = load_file(str(first.parent / "model.safetensors"))
    w2 = load_file(str(second.parent / "model.safetensors"))
    assert w1.keys() == w2.keys()
    assert all(torch.equal(w1[k], w2[k]) for k in w1)
    card = json.loads(second.read_text())
    assert card["training"]["initialised_from"]["sha256"] == json.loads(first.read_text())["weights"]["sha256"]
    # a fresh run from the same seed does not land on the same weights
    fresh = load_file(str(_run(corpus, tmp_path / "fresh", epochs=1, lr=0.0).parent / "model.safetensors"))
    assert not all(torch.equal(w1[k], fresh[k]) for k in w1)


def test_init_from_refuses_another_architecture_and_resume(corpus, tmp_path):
    first = _run(corpus, tmp_path / "first", epochs=1)
    with pytest.raises(InputError, match="architecture"):
        train_main(str(corpus), str(tmp_path / "wide"), epochs=1, batch_size=8, device="cpu",
                   progress=False, arch={**TINY, "enc_hidden": 48}, init_from=str(first))
    with pytest.raises(InputError, match="init_from"):
        _run(corpus, tmp_path / "first", epochs=2, resume=True, init_from=str(first))


def test_init_from_with_another_decoder_width_keeps_all_but_the_decoder(corpus, tmp_path):
    from safetensors.torch import load_file

    first = _run(corpus, tmp_path / "first", epochs=1)
    narrow = train_main(str(corpus), str(tmp_path / "narrow"), epochs=1, batch_size=8,
                        device="cpu", seed=3, progress=False, lr=0.0,
                        arch={**TINY, "dec_hidden": 16}, init_from=str(first))
    w1 = load_file(str(first.parent / "model.safetensors"))
    w2 = load_file(str(narrow.parent / "model.safetensors"))
    assert w1.keys() == w2.keys()
    moved = [k for k in w1 if not k.startswith(("decoder.", "mean_net."))]
    assert moved and all(torch.equal(w1[k], w2[k]) for k in moved)
    assert w2["decoder.0.weight"].shape[0] == 16 != w1["decoder.0.weight"].shape[0]
    card = json.loads(narrow.read_text())
    assert card["architecture"]["dec_hidden"] == 16
    assert "dec_hidden 64 -> 16" in card["training"]["initialised_from"]["fresh"]
    load_model(str(narrow), device="cpu")


def test_cosine_learning_rate_schedule(tmp_path):
    lrs = [epoch_lr(1e-3, e, 11, "cosine") for e in range(11)]
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(5e-5)
    assert lrs[5] == pytest.approx(1e-3 * (0.05 + 0.95 * 0.5))
    assert all(a > b for a, b in zip(lrs, lrs[1:]))
    assert epoch_lr(1e-3, 7, 11, "none") == 1e-3
    with pytest.raises(InputError, match="lr_decay"):
        train_main(str(tmp_path / "none.h5"), str(tmp_path / "none"), lr_decay="step")
    assert not (tmp_path / "none").exists()


def test_history_records_the_learning_rate(corpus, tmp_path):
    _run(corpus, tmp_path / "cos", epochs=3, lr=1e-3, lr_decay="cosine")
    lrs = [float(h["lr"]) for h in _history(tmp_path / "cos")]
    assert lrs == pytest.approx([1e-3, 1e-3 * 0.525, 5e-5])


def test_card_carries_the_sampler_calibration_and_recalibrate_rewrites_it(corpus, tmp_path):
    from gm_engine.train.loop import recalibrate_card

    card_path = _run(corpus, tmp_path / "cal", epochs=1)
    card = json.loads(card_path.read_text())
    assert {"static_prior", "synthesis_offset_log10", "mean_correction"} <= set(card["decoder"])
    mc = card["decoder"]["mean_correction"]
    assert np.asarray(mc["coef_log10"]).shape[1:] == (3, 32) and mc["n_records"] > 0
    before = card["weights"]["sha256"]
    recalibrate_card(card_path, corpus, n_records=10)
    again = json.loads(card_path.read_text())
    assert again["weights"]["sha256"] == before
    # the static prior takes 10 records, the mean correction every training record
    assert again["training"]["decoder_recalibrated"]["records"] == 10
    n_train = again["training"]["decoder_recalibrated"]["mean_correction_records"]
    assert again["decoder"]["mean_correction"]["n_records"] == n_train > 10
    load_model(str(card_path), device="cpu")  # still a valid card


def test_load_corpus_reads_selected_rows(corpus):
    full = load_corpus(corpus)
    part = load_corpus(corpus, rows=np.array([1, 3, 5]))
    assert np.array_equal(part.waveforms, full.waveforms[[1, 3, 5]])
    assert part.conditions["magnitude"].tolist() == full.conditions["magnitude"].iloc[[1, 3, 5]].tolist()
    with pytest.raises(InputError, match="increasing"):
        load_corpus(corpus, rows=np.array([3, 1]))


def test_load_corpus_resamples_and_windows(tmp_path):
    path = write_corpus(tmp_path / "c200.h5", n=3, dt=0.005, n_samples=12000)
    ws = load_corpus(path)
    assert ws.waveforms.shape == (3, 3, 4096)
    assert ws.waveforms.dtype == np.float32
    assert list(ws.conditions["mechanism"]) == list(ws.conditions["mechanism"].astype(int))
    # Tapered ends, energy kept.
    assert np.all(ws.waveforms[..., -1] == 0.0)


def test_fit_length_keeps_peak_and_pads():
    cfg = STFTConfig()
    x = np.zeros((1, 3, 1000), dtype=np.float32)
    x[0, :, 600] = 1.0
    y = fit_length(x, 0.01, cfg)
    assert y.shape == (1, 3, 4096)
    assert np.isclose(y.max(), 1.0)
    # Window starts 5 s (500 samples) before the 5 % Arias time (the spike).
    assert np.argmax(y[0, 0]) == 500
    assert np.all(y[0, :, 1000:] == 0.0)


def test_records_miniseed_and_flatfile(tmp_path):
    obspy = pytest.importorskip("obspy")
    acc, _ = synthetic_records(2, seed=5, n_samples=6000, dt=0.005)
    rows = []
    for i in range(2):
        st = obspy.Stream()
        for comp, ch in zip(range(3), ("HNN", "HNE", "HNZ")):
            tr = obspy.Trace(acc[i, comp].astype(np.float64) * 9.80665)  # m/s2
            tr.stats.update({"network": "XX", "station": f"S{i}", "channel": ch,
                             "sampling_rate": 200.0})
            st.append(tr)
        st.write(str(tmp_path / f"rec{i}.mseed"), format="MSEED")
        rows.append(f"rec{i}.mseed,XX.S{i},{6 + i},{20 + i},{400 + i},2.0,90")
    rows.append("missing.mseed,XX.S9,6,20,400,2.0,0")
    (tmp_path / "flat.csv").write_text(
        "file,station,magnitude,rrup_km,vs30,ztor_km,rake\n" + "\n".join(rows) + "\n")
    ws = load_records(tmp_path / "flat.csv")
    assert ws.waveforms.shape == (2, 3, 4096)
    assert list(ws.conditions["mechanism"]) == ["RV", "RV"]
    # Units m/s2 in the files -> g out; same processing as the corpus path
    # (demean + linear detrend of a noisy record shift it by ~1 % of its peak).
    ref = fit_length(acc[0].astype(np.float64), 0.005, STFTConfig())
    np.testing.assert_allclose(ws.waveforms[0], ref, atol=0.03 * np.abs(ref).max())
    assert np.abs(ws.waveforms[0]).max() > 0.5 * np.abs(ref).max()


def test_records_sac_glob_and_asdf(tmp_path):
    obspy = pytest.importorskip("obspy")
    acc, _ = synthetic_records(1, seed=6, n_samples=5000, dt=0.01)
    for comp, ch in enumerate(("HN1", "HN2", "HNZ")):
        tr = obspy.Trace(acc[0, comp].astype(np.float64) * 980.665)  # cm/s2
        tr.stats.update({"network": "XX", "station": "SAC1", "channel": ch,
                         "sampling_rate": 100.0})
        tr.write(str(tmp_path / f"r.{ch}.sac"), format="SAC")
    # Minimal ASDF layout (Krischer et al. 2016): /Waveforms/NET.STA/<trace> datasets.
    with h5py.File(tmp_path / "r.h5", "w") as f:
        grp = f.create_group("Waveforms/XX.ASD")
        for comp, ch in enumerate(("HNN", "HNE", "HNZ")):
            d = grp.create_dataset(f"XX.ASD..{ch}__2020-01-01T00:00:00__2020-01-01T00:00:50__raw",
                                   data=acc[0, comp].astype(np.float64))
            d.attrs["starttime"] = 1577836800 * 10**9
            d.attrs["sampling_rate"] = 100.0
    (tmp_path / "flat.csv").write_text(
        "file,station,units,magnitude,rrup_km,vs30,ztor_km,mechanism\n"
        "r.HN?.sac,,cm/s2,6.5,30,500,1,NM\n"
        "r.h5,XX.ASD,g,6.5,30,500,1,NM\n")
    ws = load_records(tmp_path / "flat.csv")
    assert ws.waveforms.shape == (2, 3, 4096)
    ref = fit_length(acc[0].astype(np.float64), 0.01, STFTConfig())
    for i in range(2):
        np.testing.assert_allclose(ws.waveforms[i], ref, atol=0.03 * np.abs(ref).max())


def test_records_flatfile_errors(tmp_path):
    (tmp_path / "bad.csv").write_text("file,magnitude\nx.mseed,6\n")
    with pytest.raises(InputError, match="missing columns"):
        load_records(tmp_path / "bad.csv")
    (tmp_path / "none.csv").write_text(
        "file,magnitude,rrup_km,vs30,ztor_km,mechanism\nx.mseed,6,10,400,0,SS\n")
    with pytest.raises(InputError, match="could be read"):
        load_records(tmp_path / "none.csv")


def test_recalibrate_from_a_flatfile_of_records(corpus, tmp_path):
    obspy = pytest.importorskip("obspy")
    from gm_engine.train.loop import recalibrate_card

    card_path = _run(corpus, tmp_path / "cal", epochs=1)
    acc, _ = synthetic_records(12, seed=8, n_samples=4096, dt=0.01)
    rows = []
    for i in range(12):
        st = obspy.Stream([obspy.Trace(acc[i, c].astype(np.float64)) for c in range(3)])
        for tr, ch in zip(st, ("HNN", "HNE", "HNZ")):
            tr.stats.update({"network": "XX", "station": f"S{i}", "channel": ch,
                             "sampling_rate": 100.0})
        st.write(str(tmp_path / f"r{i}.mseed"), format="MSEED")
        rows.append(f"r{i}.mseed,XX.S{i},g,{5.5 + 0.1 * i},{10 + 5 * i},{300 + 20 * i},1.0,SS")
    (tmp_path / "flat.csv").write_text(
        "file,station,units,magnitude,rrup_km,vs30,ztor_km,mechanism\n" + "\n".join(rows) + "\n")
    recalibrate_card(card_path, tmp_path / "flat.csv", n_records=8)
    card = json.loads(card_path.read_text())
    rec = card["training"]["decoder_recalibrated"]
    assert rec["mean_correction_records"] == 11 and rec["records"] == 8  # 1 of 12 held out
    assert card["decoder"]["mean_correction"]["n_records"] == 11
    assert "flatfile flat.csv" in rec["data"]
    load_model(str(card_path), device="cpu")


def test_command_line_is_written_as_typed(monkeypatch):
    from gm_engine.train.loop import command_line

    main = str(Path(__file__).resolve().parents[2] / "gm_engine" / "__main__.py")
    monkeypatch.setattr(sys, "argv", [main, "recalibrate", "--card", "C.json"])
    assert command_line() == "python -m gm_engine recalibrate --card C.json"
    monkeypatch.setattr(sys, "argv", ["train.py", "--x"])
    assert command_line() == "train.py --x"
    monkeypatch.setattr(sys, "argv", [""])
    assert command_line() is None
