#!/usr/bin/env bash
# Set up (idempotent) and run the bundled Bay Area example: a Hayward fault
# M7.0 scenario on ~300 sites and a 0.02-degree grid. Results in example_output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT="${1:-example_output}"
force=()
if [ -e "$OUT" ]; then
  # Replace only a folder this script made before (a GroundShake run), never anything else.
  if [ -f "$OUT/run.json" ]; then force=(--force); else
    echo "example: $OUT exists and is not a GroundShake run; choose another folder" >&2; exit 2
  fi
fi
.venv/bin/python -m gm_engine run --scenario examples/bay_area/scenario.json --out "$OUT" "${force[@]}"
.venv/bin/python -m gm_engine map --run "$OUT" --im PGA --out "$OUT/map_PGA_median.png" --force
echo "example: open $OUT/map_PGA_median.png, $OUT/sites.gpkg and the GeoTIFFs in $OUT"
