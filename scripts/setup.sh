#!/usr/bin/env bash
# Idempotent setup of a GroundShake development/run environment on Debian 12.
#
#   bash scripts/setup.sh            # Debian venv (.venv) sharing QGIS's GDAL
#   bash scripts/setup.sh --pypi     # also the current-PyPI venv (.venv-pypi)
#
# QGIS 3.22 and the geo stack come from Debian so that GDAL is shared with QGIS;
# .venv is made from /usr/bin/python3 with --system-site-packages and pip only
# adds what Debian lacks, under a constraints file that pins every Debian
# scientific package so pip never upgrades them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WANT_PYPI=0
[ "${1:-}" = "--pypi" ] && WANT_PYPI=1

APT_PACKAGES=(qgis python3-qgis qgis-providers python3-geopandas python3-rasterio
  python3-pyqtgraph python3-scipy python3-h5py python3-matplotlib python3-pyproj
  python3-venv python3-pip python3-dev proj-data xvfb xauth qttools5-dev-tools zip)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=/usr/bin/python3
CONSTRAINTS="$ROOT/.venv-constraints.txt"

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv (system site packages)"
  "$PY" -m venv --system-site-packages .venv
fi

# Pin every Debian-provided scientific package at the version Debian ships.
"$PY" - > "$CONSTRAINTS" <<'EOF'
import importlib.metadata as md
for name in ("numpy", "scipy", "pandas", "shapely", "geopandas", "rasterio",
             "pyproj", "matplotlib", "h5py", "pyqtgraph", "Fiona", "PyYAML"):
    try:
        print(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        pass
EOF

REQS=(-r requirements-dev.txt)
stamp=".venv/.groundshake-reqs"
want="$(cat requirements-dev.txt "$CONSTRAINTS" | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: pip installing into .venv (torch CPU build, test tools, pygmm, ...)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -c "$CONSTRAINTS" "${REQS[@]}" 2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want" > "$stamp"
fi

if [ "$WANT_PYPI" = 1 ]; then
  if [ ! -x .venv-pypi/bin/python ]; then
    echo "setup: creating .venv-pypi (current PyPI stack, no system packages)"
    "$PY" -m venv .venv-pypi
  fi
  stamp=".venv-pypi/.groundshake-reqs"
  want="$(cat requirements-pypi.txt | sha256sum | cut -c1-16)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: pip installing into .venv-pypi"
    .venv-pypi/bin/python -m pip install -q --disable-pip-version-check -r requirements-pypi.txt 2> >(grep -v "is ignored: it is neither" >&2)
    echo "$want" > "$stamp"
  fi
fi
echo "setup: ready"
