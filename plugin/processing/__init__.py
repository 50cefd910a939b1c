"""Processing provider: GroundShake algorithms for the toolbox, models, batch and qgis_process."""
