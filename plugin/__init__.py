"""Everything that imports qgis: plugin class, dock, map tools, tasks, styling, Processing, viewer."""
