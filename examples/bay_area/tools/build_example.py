"""Rebuild the Bay Area example inputs (hayward_fault.geojson, sites.csv,
scenario.json) from the source numbers recorded in this file and in
nga_west2_bay_area_extract.psv.

Run from anywhere:  python examples/bay_area/tools/build_example.py

Sources (full citations in ../README.md):
  * Fault traces, dips, depths, rake: UCERF3 fault model FM3.1 as shipped by
    OpenSHA (repository opensha/opensha, file
    src/main/resources/data/erf/ucerf3/FaultModels/FM3_1.xml, commit
    a9bdb7d621e271d057563003d719d53fe6d05326), sections
    "Hayward (So) 2011 CFM" (id 638) and "Hayward (No) 2011 CFM" (id 639).
  * Rupture extent: the UCERF3 rupture OpenSHA labels HAYWIRED_M7 ("14 SECTIONS
    BETWEEN Hayward (So) 2011 CFM, Subsection 2 AND Hayward (No) 2011 CFM,
    Subsection 7"; opensha/opensha,
    src/main/java/scratch/UCERF3/erf/ETAS/ETAS_Simulator.java, commit
    0a8491bd5b5c9e736733336a2a84a8f581870505).
  * Station coordinates and Vs30: NGA-West2 flatfile values, read from the
    extract in nga_west2_bay_area_extract.psv.

Only the standard library is used.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent

EARTH_RADIUS_KM = 6371.0072  # mean radius, as OpenSHA's LocationUtils uses

# --- UCERF3 FM3.1 section data (lat, lon), trace order as in FM3_1.xml ------
HAYWARD_SO = {
    "name": "Hayward (So) 2011 CFM", "section_id": 638,
    "trace_latlon": [(37.39713, -121.80236), (37.48312, -121.91453),
                     (37.59493, -122.00413), (37.63995, -122.05088),
                     (37.68095, -122.09226), (37.78233, -122.17796)],
    "dip": 76.0, "dip_direction": 52.422913, "rake": 180.0,
    "upper_depth_km": 0.0, "lower_depth_km": 13.399999618530273,
    "slip_rate_mm_yr": 9.0, "aseismic_slip_factor": 0.4,
}
HAYWARD_NO = {
    "name": "Hayward (No) 2011 CFM", "section_id": 639,
    "trace_latlon": [(37.78233, -122.17796), (37.83213, -122.21612),
                     (37.92933, -122.29734), (38.05746, -122.413),
                     (38.10584, -122.44447), (38.19634, -122.47402)],
    "dip": 82.0, "dip_direction": 60.685783, "rake": 180.0,
    "upper_depth_km": 0.0, "lower_depth_km": 11.100000381469727,
    "slip_rate_mm_yr": 9.0, "aseismic_slip_factor": 0.4,
}
# HayWired UCERF3 rupture: subsections 2..7 of Hayward (So) (8 subsections)
# and 0..7 of Hayward (No) (10 subsections).
SO_FIRST_SUBSECTION = 2
NO_LAST_SUBSECTION = 7

# --- site layer settings ----------------------------------------------------
SITE_BOX = (-122.8, 37.2, -121.6, 38.3)  # lon_min, lat_min, lon_max, lat_max
DUPLICATE_KM = 0.25       # stations closer than this are one site
LATTICE_STEP_DEG = 0.05
LATTICE_MIN_STATION_KM = 1.5   # lattice nodes this close to a station are dropped
LATTICE_MAX_STATION_KM = 8.0   # ...and nodes farther than this from all stations
# GroundShake's engine accepts site Vs30 in [150, 2000] m/s (gm_engine/sites.py);
# stations outside that range are left out of the example (listed in README).
VS30_RANGE = (150.0, 2000.0)


def haversine_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def trace_length_km(trace):
    return sum(haversine_km(*a, *b) for a, b in zip(trace[:-1], trace[1:]))


def point_along(trace, dist_km):
    """Point at dist_km along a (lat, lon) polyline (linear in lat/lon within a
    segment, which is adequate for segments of a few km)."""
    done = 0.0
    for a, b in zip(trace[:-1], trace[1:]):
        seg = haversine_km(*a, *b)
        if done + seg >= dist_km:
            f = (dist_km - done) / seg
            return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]))
        done += seg
    return trace[-1]


def cut_trace(trace, start_km, end_km):
    """Sub-polyline between start_km and end_km along trace."""
    out = [point_along(trace, start_km)]
    done = 0.0
    for a, b in zip(trace[:-1], trace[1:]):
        done += haversine_km(*a, *b)
        if start_km < done < end_km:
            out.append(b)
    out.append(point_along(trace, end_km))
    return out


def n_subsections(section):
    """UCERF3 rule: subsection length at most half the down-dip width."""
    width = (section["lower_depth_km"] - section["upper_depth_km"]) / math.sin(
        math.radians(section["dip"]))
    return math.ceil(trace_length_km(section["trace_latlon"]) / (width / 2.0))


def build_rupture():
    so, no = HAYWARD_SO, HAYWARD_NO
    n_so, n_no = n_subsections(so), n_subsections(no)
    assert (n_so, n_no) == (8, 10), (n_so, n_no)
    assert (n_so - SO_FIRST_SUBSECTION) + (NO_LAST_SUBSECTION + 1) == 14
    len_so = trace_length_km(so["trace_latlon"])
    len_no = trace_length_km(no["trace_latlon"])
    part_so = cut_trace(so["trace_latlon"], len_so * SO_FIRST_SUBSECTION / n_so, len_so)
    part_no = cut_trace(no["trace_latlon"], 0.0, len_no * (NO_LAST_SUBSECTION + 1) / n_no)
    trace = part_so + part_no[1:]                       # shared junction once
    # an FM3.1 vertex within 0.5 km of an interpolated end point would make a
    # sliver segment; drop the vertex, keep the subsection boundary
    if haversine_km(*trace[0], *trace[1]) < 0.5:
        del trace[1]
    if haversine_km(*trace[-1], *trace[-2]) < 0.5:
        del trace[-2]
    trace = [(round(lat, 5), round(lon, 5)) for lat, lon in trace]
    l_so, l_no = trace_length_km(part_so), trace_length_km(part_no)
    w = l_so / (l_so + l_no)
    return {
        "trace_latlon": trace,
        "length_km": trace_length_km(trace),
        "length_so_km": l_so, "length_no_km": l_no,
        "dip": w * so["dip"] + (1 - w) * no["dip"],
        "dip_direction": w * so["dip_direction"] + (1 - w) * no["dip_direction"],
        "zbot": w * so["lower_depth_km"] + (1 - w) * no["lower_depth_km"],
    }


# --- conservative on-land inclusion zones for lattice nodes -----------------
# Hand-drawn and deliberately conservative (kept ~1 km or more inside the
# shoreline as the author understands it); see README "Caveats".
def _hayward_lon_at(lat):
    full = HAYWARD_SO["trace_latlon"] + HAYWARD_NO["trace_latlon"][1:]
    for (la1, lo1), (la2, lo2) in zip(full[:-1], full[1:]):
        if la1 <= lat <= la2:
            return lo1 + (lat - la1) / (la2 - la1) * (lo2 - lo1)
    return None


def _in_polygon(lon, lat, poly):
    inside = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1]):
        if (y1 > lat) != (y2 > lat):
            x = x1 + (lat - y1) / (y2 - y1) * (x2 - x1)
            if x > lon:
                inside = not inside
    return inside


PENINSULA = [(-122.42, 37.45), (-122.44, 37.50), (-122.47, 37.55), (-122.47, 37.60),
             (-122.46, 37.65), (-122.42, 37.65), (-122.39, 37.60), (-122.31, 37.56),
             (-122.27, 37.52), (-122.20, 37.48), (-122.15, 37.45)]


def on_land(lon, lat):
    # Santa Clara Valley, Santa Cruz Mountains, Diablo Range (south of the Bay)
    if 37.2 <= lat <= 37.40 and -122.36 <= lon <= -121.60:
        return True
    if 37.40 < lat <= 37.45 and (-122.40 <= lon <= -122.13 or -121.93 <= lon <= -121.60):
        return True
    # Peninsula (San Mateo County)
    if _in_polygon(lon, lat, PENINSULA):
        return True
    # Daly City / South San Francisco, and San Francisco city
    if 37.65 < lat <= 37.71 and -122.48 <= lon <= -122.41:
        return True
    if 37.71 < lat <= 37.795 and -122.50 <= lon <= -122.40:
        return True
    # East Bay: from 0.035 deg west of the Hayward trace eastwards
    if 37.45 < lat <= 38.00:
        trace_lon = _hayward_lon_at(lat)
        if trace_lon is not None and lon <= -121.60:
            if lat <= 37.96 and lon >= trace_lon - 0.035:
                return True
            if lat <= 37.97 and lon >= trace_lon + 0.01:
                return True
            if lat > 37.90 and lon >= -122.15:  # inland Contra Costa
                return True
    # Marin (Mill Valley - San Rafael - Novato, west of the bay margin)
    if 37.89 <= lat <= 38.12 and -122.66 <= lon <= -122.54:
        return True
    # Petaluma - Sonoma
    if 38.22 <= lat <= 38.30 and -122.78 <= lon <= -122.46:
        return True
    # Vallejo - Benicia - Cordelia
    if 38.09 <= lat <= 38.25 and -122.24 <= lon <= -122.08:
        return True
    return False


def load_stations():
    rows = []
    with open(HERE / "nga_west2_bay_area_extract.psv", newline="") as fh:
        for r in csv.DictReader(fh, delimiter="|"):
            lat, lon = float(r["lat"]), float(r["lon"])
            if not (SITE_BOX[0] <= lon <= SITE_BOX[2] and SITE_BOX[1] <= lat <= SITE_BOX[3]):
                continue
            if not VS30_RANGE[0] <= float(r["vs30"]) <= VS30_RANGE[1]:
                print(f"left out (Vs30 {r['vs30']} outside {VS30_RANGE}): RSN {r['rsn']} {r['station_name']}")
                continue
            if any(haversine_km(lat, lon, s["lat"], s["lon"]) < DUPLICATE_KM for s in rows):
                continue
            rows.append({"rsn": int(r["rsn"]), "earthquake": r["earthquake"],
                         "name": r["station_name"], "lat": lat, "lon": lon,
                         "vs30": float(r["vs30"])})
    return rows


def build_sites(stations):
    sites = []
    for s in stations:
        sites.append({
            "site_id": f"NGAW2-RSN{s['rsn']}",
            "name": s["name"],
            "lon": s["lon"], "lat": s["lat"], "vs30": s["vs30"],
            "vs30_source": ("NGA-West2 flatfile 'Vs30 (m/s) selected for analysis' "
                            f"(Seyhan et al. 2014 site database; record RSN {s['rsn']}, "
                            f"{s['earthquake']}; measured or inferred, class not carried)"),
        })
    n = 0
    lat = SITE_BOX[1]
    while lat <= SITE_BOX[3] + 1e-9:
        lon = SITE_BOX[0]
        while lon <= SITE_BOX[2] + 1e-9:
            la, lo = round(lat, 3), round(lon, 3)
            if on_land(lo, la):
                d, near = min((haversine_km(la, lo, s["lat"], s["lon"]), s) for s in stations)
                if LATTICE_MIN_STATION_KM <= d <= LATTICE_MAX_STATION_KM:
                    n += 1
                    sites.append({
                        "site_id": f"GRID-{n:04d}",
                        "name": f"lattice node {la:.2f}N {abs(lo):.2f}W",
                        "lon": lo, "lat": la, "vs30": near["vs30"],
                        "vs30_source": ("proxy: nearest-station transfer from NGA-West2 "
                                        f"station '{near['name']}' (RSN {near['rsn']}) "
                                        f"at {d:.1f} km; not a site value"),
                    })
            lon += LATTICE_STEP_DEG
        lat += LATTICE_STEP_DEG
    return sites


def main():
    rup = build_rupture()
    trace_lonlat = [[lon, lat] for lat, lon in rup["trace_latlon"]]
    dip = round(rup["dip"])
    dip_dir = round(rup["dip_direction"])
    zbot = round(rup["zbot"])

    fault = {
        "type": "FeatureCollection",
        "name": "hayward_fault",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
        "features": [{
            "type": "Feature",
            "properties": {
                "name": "Hayward fault (HayWired-extent UCERF3 rupture trace)",
                "source_dataset": ("UCERF3 fault model FM3.1 (Field et al. 2013, USGS OFR "
                                   "2013-1165; Field et al. 2014, BSSA 104(3)), sections "
                                   "'Hayward (So) 2011 CFM' (id 638) and 'Hayward (No) 2011 CFM' (id 639)"),
                "source_file": ("github.com/opensha/opensha src/main/resources/data/erf/ucerf3/"
                                "FaultModels/FM3_1.xml @ a9bdb7d621e271d057563003d719d53fe6d05326"),
                "extent": ("UCERF3 subsections Hayward (So) 2..7 and Hayward (No) 0..7 "
                           "(OpenSHA TestScenario HAYWIRED_M7, 14 subsections)"),
                "vertices": "FM3.1 trace vertices; the two end points are interpolated subsection boundaries",
                "length_km": round(rup["length_km"], 1),
                "dip_so_deg": HAYWARD_SO["dip"], "dip_no_deg": HAYWARD_NO["dip"],
                "dip_direction_so_deg": round(HAYWARD_SO["dip_direction"], 1),
                "dip_direction_no_deg": round(HAYWARD_NO["dip_direction"], 1),
                "upper_depth_km": 0.0,
                "lower_depth_so_km": 13.4, "lower_depth_no_km": 11.1,
                "rake_deg": 180.0,
                "scenario_dip_deg": dip, "scenario_dip_direction_deg": dip_dir,
                "scenario_zbot_km": zbot,
            },
            "geometry": {"type": "LineString", "coordinates": trace_lonlat},
        }],
    }
    (OUT / "hayward_fault.geojson").write_text(json.dumps(fault, indent=2) + "\n")

    stations = load_stations()
    sites = build_sites(stations)
    with open(OUT / "sites.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["site_id", "name", "lon", "lat", "vs30", "vs30_source"])
        w.writeheader()
        for s in sites:
            w.writerow({**s, "lon": f"{s['lon']:.5f}".rstrip("0").rstrip("."),
                        "lat": f"{s['lat']:.5f}".rstrip("0").rstrip("."),
                        "vs30": f"{s['vs30']:.2f}"})

    scenario = {
        "groundshake_scenario": 1,
        "name": "Hayward fault M7.0 scenario",
        "rupture": {"trace": trace_lonlat, "crs": "EPSG:4326", "dip": dip,
                    "dip_direction": dip_dir, "ztor": 0, "zbot": zbot, "rake": 180,
                    "hypocentre": None},
        "magnitude": 7.0,
        "magnitude_scaling": "WC94",
        "sites": {"path": "sites.csv", "x": "lon", "y": "lat", "crs": "EPSG:4326",
                  "vs30_field": "vs30", "layer": None},
        "grid": {"extent": [-122.55, 37.35, -121.75, 38.1], "crs": "EPSG:4326",
                 "spacing": 0.02},
        "vs30": {"default": 760, "raster": None},
        "max_distance_km": 200,
        "intensity_measures": ["PGA", "PGV", "SA(0.3)", "SA(1.0)", "SA(3.0)", "MMI"],
        "realizations": 5,
        "seed": 2026,
        "engine": "stochastic",
        "device": "auto",
    }
    (OUT / "scenario.json").write_text(json.dumps(scenario, indent=2) + "\n")

    n_st = sum(s["site_id"].startswith("NGAW2") for s in sites)
    print(f"trace: {len(trace_lonlat)} vertices, {rup['length_km']:.1f} km "
          f"(So part {rup['length_so_km']:.1f} km, No part {rup['length_no_km']:.1f} km); "
          f"dip {rup['dip']:.1f} -> {dip}, dip dir {rup['dip_direction']:.1f} -> {dip_dir}, "
          f"zbot {rup['zbot']:.2f} -> {zbot}")
    print(f"sites: {len(sites)} ({n_st} NGA-West2 stations, {len(sites) - n_st} lattice proxies)")


if __name__ == "__main__":
    main()
