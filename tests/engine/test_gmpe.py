"""The NGA-West2 average reference engine (gm_engine.gmpe)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pygmm
import pytest
from numpy.testing import assert_allclose

from gm_engine.errors import InputError
from gm_engine.gmpe import gmpe_realizations, im_period, nga_west2_average


def _conditions(**over) -> pd.DataFrame:
    base = dict(magnitude=[7.0, 6.0, 7.0], rrup_km=[10.0, 50.0, 10.0], rjb_km=[8.0, 49.0, 8.0],
                rx_km=[5.0, -49.0, 5.0], ry0_km=[0.0, 0.0, 0.0], vs30=[400.0, 760.0, 400.0],
                ztor_km=[0.0, 2.0, 0.0], zbot_km=[15.0, 15.0, 15.0], dip=[90.0, 45.0, 90.0],
                rake=[0.0, 90.0, 0.0], mechanism=["SS", "RV", "SS"],
                hanging_wall=[True, False, True], z1_km=[np.nan, np.nan, np.nan])
    base.update(over)
    return pd.DataFrame(base)


def _peer_models(i: int):
    """The four pygmm models for row i, built directly (independent of gmpe.py)."""
    c = _conditions().iloc[i]
    width = (c.zbot_km - c.ztor_km) / np.sin(np.radians(c.dip))
    s = pygmm.Scenario(mag=c.magnitude, dist_rup=c.rrup_km, dist_jb=c.rjb_km, dist_x=c.rx_km,
                       dist_y0=c.ry0_km, v_s30=c.vs30, dip=c.dip, depth_tor=c.ztor_km,
                       depth_bot=c.zbot_km, width=width,
                       mechanism={"SS": "SS", "RV": "RS"}[c.mechanism],
                       on_hanging_wall=bool(c.hanging_wall), region="california")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [pygmm.AbrahamsonSilvaKamai2014(s), pygmm.BooreStewartSeyhanAtkinson2014(s),
                pygmm.CampbellBozorgnia2014(s), pygmm.ChiouYoungs2014(s)]


@pytest.mark.parametrize("row", [0, 1])
def test_pga_pgv_match_direct_pygmm_average(row):
    models = _peer_models(row)
    res = nga_west2_average(_conditions(), ["PGA", "PGV"])
    assert_allclose(res["PGA"].median[row], np.exp(np.mean([np.log(m.pga) for m in models])),
                    rtol=1e-9)
    assert_allclose(res["PGV"].median[row], np.exp(np.mean([np.log(m.pgv) for m in models])),
                    rtol=1e-9)
    # Total sigma: variances averaged; pygmm's totals include CY14's, which gmpe.py splits
    # into tau and phi itself (CY14 aleatory model), so this also checks that split.
    assert_allclose(res["PGA"].sigma[row],
                    np.sqrt(np.mean([m.ln_std_pga ** 2 for m in models])), rtol=1e-9)


@pytest.mark.parametrize("period", [0.3, 0.65, 2.0])
def test_sa_interpolates_like_the_models(period):
    models = _peer_models(0)
    res = nga_west2_average(_conditions(), [f"SA({period})"])[f"SA({period})"]
    expected = np.mean([m.interp_ln_spec_accels([period])[0] for m in models])
    assert_allclose(np.log(res.median[0]), expected, atol=1e-9)
    expected_sig = np.sqrt(np.mean([m.interp_ln_stds([period])[0] ** 2 for m in models]))
    assert_allclose(res.sigma[0], expected_sig, atol=0.01)  # sigma interpolated per component


def test_sane_values_and_duplicate_sites():
    res = nga_west2_average(_conditions(), ["PGA", "SA(1.0)"])
    pga = res["PGA"]
    assert 0.15 < pga.median[0] < 0.6  # M7 at 10 km on stiff soil
    assert pga.median[1] < pga.median[0]
    assert_allclose(pga.median[2], pga.median[0])  # rows 0 and 2 are identical
    assert np.all((pga.tau > 0.2) & (pga.tau < 0.5) & (pga.phi > 0.3) & (pga.phi < 0.8))


def test_rake_is_used_when_mechanism_is_missing():
    a = nga_west2_average(_conditions(), ["PGA"])["PGA"].median
    b = nga_west2_average(_conditions().drop(columns="mechanism"), ["PGA"])["PGA"].median
    assert_allclose(a, b)


@pytest.mark.parametrize(
    ("cond", "ims", "field"),
    [
        (_conditions(magnitude=[9.0, 6.0, 7.0]), ["PGA"], "conditions.magnitude"),
        (_conditions(vs30=[100.0, 400.0, 400.0]), ["PGA"], "conditions.vs30"),
        (_conditions().drop(columns="rrup_km"), ["PGA"], "conditions.rrup_km"),
        (_conditions(mechanism=["XX", "SS", "SS"]), ["PGA"], "conditions.mechanism"),
        (_conditions(), ["SA(20)"], "ims"),
        (_conditions(), ["PGX"], "ims"),
    ],
)
def test_bad_input(cond, ims, field):
    with pytest.raises(InputError) as err:
        nga_west2_average(cond, ims)
    assert err.value.field == field


def test_im_period():
    assert im_period("PGA") == 0.0 and im_period("PGV") < 0 and im_period("SA(0.3)") == 0.3


def test_realizations_statistics_and_determinism():
    cond = _conditions()
    xy = np.array([[0.0, 0.0], [30.0, 0.0], [1.0, 0.0]])
    ims = ["PGA", "SA(1.0)"]
    a = gmpe_realizations(cond, xy, ims, 600, np.random.default_rng(3))
    b = gmpe_realizations(cond, xy, ims, 600, np.random.default_rng(3))
    assert a["PGA"].shape == (600, 3)
    assert_allclose(a["PGA"], b["PGA"])
    ref = nga_west2_average(cond, ims)
    for name in ims:
        ln = np.log(a[name])
        assert_allclose(ln.mean(axis=0), np.log(ref[name].median), atol=0.1)
        assert_allclose(ln.std(axis=0), ref[name].sigma, atol=0.07)
    # Sites 0 and 2 are 1 km apart: strongly correlated residuals (JB09: exp(-3/8.5) = 0.70,
    # plus the shared between-event term).
    r = np.log(a["PGA"]) - np.log(ref["PGA"].median)
    assert np.corrcoef(r[:, 0], r[:, 2])[0, 1] > 0.7
    assert np.corrcoef(r[:, 0], r[:, 1])[0, 1] < 0.5


def test_realizations_bad_input():
    with pytest.raises(InputError):
        gmpe_realizations(_conditions(), np.zeros((2, 2)), ["PGA"], 2, np.random.default_rng(0))
    with pytest.raises(InputError):
        gmpe_realizations(_conditions(), np.zeros((3, 2)), ["PGA"], 0, np.random.default_rng(0))
