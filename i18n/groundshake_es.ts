<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="es_ES">
<context>
    <name>@default</name>
    <message>
        <location filename="../plugin/dock.py" line="81"/>
        <source>Strike-slip, right-lateral (rake 180°)</source>
        <translation>Desgarre dextral (rake 180°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="82"/>
        <source>Strike-slip, left-lateral (rake 0°)</source>
        <translation>Desgarre sinistral (rake 0°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="83"/>
        <source>Normal (rake −90°)</source>
        <translation>Normal (rake −90°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="84"/>
        <source>Reverse (rake 90°)</source>
        <translation>Inversa (rake 90°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="85"/>
        <source>Other rake</source>
        <translation>Otro rake</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="91"/>
        <source>Conditional generative model (CGM)</source>
        <translation>Modelo generativo condicional (CGM)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="92"/>
        <source>Stochastic simulation</source>
        <translation>Simulación estocástica</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="93"/>
        <source>NGA-West2 ground-motion models (GMPE)</source>
        <translation>Modelos de movimiento del suelo NGA-West2 (GMPE)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="98"/>
        <source>Automatic</source>
        <translation>Automático</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="98"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="98"/>
        <source>GPU (CUDA)</source>
        <translation>GPU (CUDA)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="99"/>
        <source>GPU (Apple MPS)</source>
        <translation>GPU (Apple MPS)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="105"/>
        <source>estimating…</source>
        <translation>estimando…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="108"/>
        <source>{m} min {s:02d} s left</source>
        <translation>quedan {m} min {s:02d} s</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="109"/>
        <source>{s} s left</source>
        <translation>quedan {s} s</translation>
    </message>
    <message>
        <location filename="../plugin/processing/provider.py" line="23"/>
        <source>GroundShake</source>
        <translation>GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="1084"/>
        <source>Scenario</source>
        <translation>Escenario</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="157"/>
        <source>Name of the scenario and of its layer group</source>
        <translation>Nombre del escenario y de su grupo de capas</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="159"/>
        <source>Import…</source>
        <translation>Importar…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="160"/>
        <source>Read a scenario JSON file</source>
        <translation>Leer un archivo JSON de escenario</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="162"/>
        <source>Export…</source>
        <translation>Exportar…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="163"/>
        <source>Write the scenario as a JSON file for the command line</source>
        <translation>Guardar el escenario como archivo JSON para la línea de comandos</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="835"/>
        <source>Name</source>
        <translation>Nombre</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="827"/>
        <source>Fault</source>
        <translation>Falla</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="176"/>
        <source>Draw on map</source>
        <translation>Dibujar en el mapa</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="179"/>
        <source>Click the trace&apos;s vertices; Backspace removes the last one, right click finishes, Esc cancels</source>
        <translation>Haga clic en los vértices de la traza; Retroceso borra el último, el clic derecho termina y Esc cancela</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="186"/>
        <source>Line layer holding the fault trace</source>
        <translation>Capa de líneas con la traza de la falla</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="188"/>
        <source>Use selected</source>
        <translation>Usar la selección</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="189"/>
        <source>Take the trace from the selected feature of the line layer</source>
        <translation>Tomar la traza del objeto seleccionado de la capa de líneas</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="193"/>
        <source>Trace</source>
        <translation>Traza</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="824"/>
        <source>Dip</source>
        <translation>Buzamiento</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="203"/>
        <source>Right-hand rule</source>
        <translation>Regla de la mano derecha</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="205"/>
        <source>Dip to the right when walking along the trace</source>
        <translation>Buza hacia la derecha al recorrer la traza</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="825"/>
        <source>Dip direction</source>
        <translation>Dirección de buzamiento</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="825"/>
        <source>Top depth</source>
        <translation>Profundidad superior</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="826"/>
        <source>Bottom depth</source>
        <translation>Profundidad inferior</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="826"/>
        <source>Mechanism</source>
        <translation>Mecanismo</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="238"/>
        <source>Magnitude</source>
        <translation>Magnitud</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="246"/>
        <source>From the scaling law</source>
        <translation>Según la ley de escala</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="110"/>
        <source>Moment magnitude</source>
        <translation>Magnitud de momento</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="828"/>
        <source>Scaling law</source>
        <translation>Ley de escala</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="257"/>
        <source>Use</source>
        <translation>Usar</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="258"/>
        <source>Set the magnitude to the scaling-law value</source>
        <translation>Poner la magnitud que da la ley de escala</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="244"/>
        <source>Sites</source>
        <translation>Sitios</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="277"/>
        <source>Point layer of sites; polygons use their centroids</source>
        <translation>Capa de puntos con los sitios; de los polígonos se usan sus centroides</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="278"/>
        <source>Layer</source>
        <translation>Capa</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="830"/>
        <source>Site conditions (Vs30)</source>
        <translation>Condiciones del sitio (Vs30)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="284"/>
        <source>Field of the site layer</source>
        <translation>Campo de la capa de sitios</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="289"/>
        <source>Raster</source>
        <translation>Ráster</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="295"/>
        <source>Default only</source>
        <translation>Solo el valor por defecto</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="830"/>
        <source>Raster grid</source>
        <translation>Malla ráster</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="319"/>
        <source>Extent of the sites</source>
        <translation>Extensión de los sitios</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="831"/>
        <source>Resolution</source>
        <translation>Resolución</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="327"/>
        <source>Cells</source>
        <translation>Celdas</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="831"/>
        <source>Intensity measures</source>
        <translation>Medidas de intensidad</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="342"/>
        <source>SA at periods (s)</source>
        <translation>SA en los periodos (s)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="345"/>
        <source>Spectral acceleration periods in seconds, separated by commas</source>
        <translation>Periodos de aceleración espectral en segundos, separados por comas</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="393"/>
        <source>Run</source>
        <translation>Ejecutar</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="269"/>
        <source>Engine</source>
        <translation>Motor</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="265"/>
        <source>Realizations</source>
        <translation>Realizaciones</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="832"/>
        <source>Seed</source>
        <translation>Semilla</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="834"/>
        <source>Device</source>
        <translation>Dispositivo</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="379"/>
        <source>Looking for devices…</source>
        <translation>Buscando dispositivos…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="384"/>
        <source>Temporary folder</source>
        <translation>Carpeta temporal</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="385"/>
        <source>Each run writes a new sub-folder here; existing files are never replaced</source>
        <translation>Cada ejecución escribe una subcarpeta nueva aquí; nunca se reemplazan archivos existentes</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="279"/>
        <source>Output folder</source>
        <translation>Carpeta de salida</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="394"/>
        <source>Cancel</source>
        <translation>Cancelar</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="610"/>
        <source>Select one feature of a line layer first.</source>
        <translation>Primero seleccione un objeto de una capa de líneas.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="621"/>
        <source>The selected feature has no line.</source>
        <translation>El objeto seleccionado no tiene ninguna línea.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="664"/>
        <source>No trace yet: draw it or take a selected feature.</source>
        <translation>Aún no hay traza: dibújela o tome un objeto seleccionado.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="669"/>
        <source>{n} vertices, {km:.1f} km</source>
        <translation>{n} vértices, {km:.1f} km</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="674"/>
        <source>Scaling law: needs bottom depth &gt; top depth</source>
        <translation>Ley de escala: la profundidad inferior debe ser mayor que la superior</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="678"/>
        <source>{law}: M {m:.2f} for {area:.0f} km²</source>
        <translation>{law}: M {m:.2f} para {area:.0f} km²</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="687"/>
        <source>Magnitude and rupture size disagree: {law} gives M {m:.2f} for this rupture ({area:.0f} km²).</source>
        <translation>La magnitud y el tamaño de la ruptura no concuerdan: {law} da M {m:.2f} para esta ruptura ({area:.0f} km²).</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="703"/>
        <source>Choose a site layer first.</source>
        <translation>Primero elija una capa de sitios.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="724"/>
        <source>no extent</source>
        <translation>sin extensión</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="727"/>
        <source>{cols} × {rows} = {n} cells</source>
        <translation>{cols} × {rows} = {n} celdas</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="733"/>
        <source>Found: {detail}</source>
        <translation>Encontrado: {detail}</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="201"/>
        <source>Fault trace</source>
        <translation>Traza de la falla</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="829"/>
        <source>Vs30 field</source>
        <translation>Campo de Vs30</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="829"/>
        <source>Vs30 raster</source>
        <translation>Ráster de Vs30</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="858"/>
        <source>&apos;{t}&apos; is not a period in seconds</source>
        <translation>'{t}' no es un periodo en segundos</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="861"/>
        <source>periods must be positive, got {t}</source>
        <translation>los periodos deben ser positivos; se recibió {t}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="869"/>
        <source>choose at least one intensity measure</source>
        <translation>elija al menos una medida de intensidad</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="896"/>
        <source>draw the fault trace or take a selected line feature</source>
        <translation>dibuje la traza de la falla o tome una línea seleccionada</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="898"/>
        <source>the bottom depth must be greater than the top depth</source>
        <translation>la profundidad inferior debe ser mayor que la superior</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="938"/>
        <source>choose a point or polygon layer of sites</source>
        <translation>elija una capa de sitios de puntos o polígonos</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="946"/>
        <source>choose the field that holds Vs30 in m/s</source>
        <translation>elija el campo que contiene Vs30 en m/s</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="949"/>
        <source>a Vs30 field needs a site layer</source>
        <translation>un campo de Vs30 necesita una capa de sitios</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="954"/>
        <source>choose a Vs30 raster stored in a file</source>
        <translation>elija un ráster de Vs30 guardado en un archivo</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="960"/>
        <source>set the grid extent</source>
        <translation>defina la extensión de la malla</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="969"/>
        <source>use sites, a raster grid or both</source>
        <translation>use sitios, una malla ráster o ambos</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="1099"/>
        <source>Starting…</source>
        <translation>Iniciando…</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="68"/>
        <source>&amp;GroundShake</source>
        <translation>&amp;GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="90"/>
        <source>GroundShake Processing algorithms are unavailable: {err}</source>
        <translation>Los algoritmos de Processing de GroundShake no están disponibles: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="103"/>
        <source>GroundShake scenario</source>
        <translation>Escenario GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="105"/>
        <source>Open the GroundShake scenario panel</source>
        <translation>Abrir el panel de escenarios de GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="108"/>
        <source>Draw fault trace</source>
        <translation>Dibujar la traza de la falla</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="110"/>
        <source>Draw a fault trace: click vertices, Backspace removes the last one, right click finishes, Esc cancels</source>
        <translation>Dibujar una traza de falla: haga clic en los vértices; Retroceso borra el último, el clic derecho termina y Esc cancela</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="114"/>
        <source>Show site waveforms</source>
        <translation>Mostrar las formas de onda del sitio</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="117"/>
        <source>Click a site of a GroundShake result to see its waveforms</source>
        <translation>Haga clic en un sitio de un resultado de GroundShake para ver sus formas de onda</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="309"/>
        <source>The waveform viewer is unavailable: {err}</source>
        <translation>El visor de formas de onda no está disponible: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="134"/>
        <source>GroundShake waveforms</source>
        <translation>Formas de onda de GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="322"/>
        <source>Cannot show the waveforms of site {i}: {err}</source>
        <translation>No se pueden mostrar las formas de onda del sitio {i}: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="364"/>
        <source>cannot create {path}: {err}</source>
        <translation>no se puede crear {path}: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="380"/>
        <source>GroundShake: {name}</source>
        <translation>GroundShake: {name}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="425"/>
        <source>Cancelling…</source>
        <translation>Cancelando…</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="439"/>
        <source>Cancelled</source>
        <translation>Cancelado</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="440"/>
        <source>The run was cancelled; nothing was written.</source>
        <translation>Se canceló la ejecución; no se escribió nada.</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="444"/>
        <source>Failed</source>
        <translation>Falló</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="448"/>
        <source>The run failed: {err}</source>
        <translation>La ejecución falló: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="452"/>
        <source>Done</source>
        <translation>Terminado</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="456"/>
        <source>Results written to {path}</source>
        <translation>Resultados escritos en {path}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="461"/>
        <source>Import scenario</source>
        <translation>Importar escenario</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="517"/>
        <source>Scenario (*.json)</source>
        <translation>Escenario (*.json)</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="473"/>
        <source>{path} is not a GroundShake scenario</source>
        <translation>{path} no es un escenario de GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="507"/>
        <source>cannot open {path}</source>
        <translation>no se puede abrir {path}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="505"/>
        <source>Vs30</source>
        <translation>Vs30</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="539"/>
        <source>Export scenario</source>
        <translation>Exportar escenario</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="539"/>
        <source>{path} exists. Replace it?</source>
        <translation>{path} ya existe. ¿Reemplazarlo?</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="543"/>
        <source>{path} exists; choose another name</source>
        <translation>{path} ya existe; elija otro nombre</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="555"/>
        <source>Scenario written to {path}</source>
        <translation>Escenario escrito en {path}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="582"/>
        <source>Cannot read the saved GroundShake scenario: {err}</source>
        <translation>No se puede leer el escenario de GroundShake guardado: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="91"/>
        <source>Scenarios</source>
        <translation>Escenarios</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="100"/>
        <source>Fault trace (the first or only selected line is used)</source>
        <translation>Traza de la falla (se usa la primera o única línea seleccionada)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="106"/>
        <source>Vs30 field of the sites (m/s)</source>
        <translation>Campo de Vs30 de los sitios (m/s)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="109"/>
        <source>Default Vs30 (m/s)</source>
        <translation>Vs30 por defecto (m/s)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="111"/>
        <source>Dip (degrees)</source>
        <translation>Buzamiento (grados)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="112"/>
        <source>Depth to top of rupture (km)</source>
        <translation>Profundidad del techo de la ruptura (km)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="113"/>
        <source>Depth to bottom of rupture (km)</source>
        <translation>Profundidad de la base de la ruptura (km)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="114"/>
        <source>Rake (degrees)</source>
        <translation>Rake (grados)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="133"/>
        <source>{label}: the layer has no line feature</source>
        <translation>{label}: la capa no tiene ningún objeto de línea</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="136"/>
        <source>The fault layer has several features; only the first is used (select one and tick &apos;Selected features only&apos;).</source>
        <translation>La capa de la falla tiene varios objetos; solo se usa el primero (seleccione uno y marque 'Solo objetos seleccionados').</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="141"/>
        <source>{label}: the fault feature has {n} parts; a single continuous trace is needed (merge or explode the parts first)</source>
        <translation>{label}: el objeto de la falla tiene {n} partes; se necesita una única traza continua (primero una o separe las partes)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="190"/>
        <source>Cancelled by the user.</source>
        <translation>Cancelado por el usuario.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="195"/>
        <source>{label} ({name}): {message}</source>
        <translation>{label} ({name}): {message}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="197"/>
        <source>{field}: {message}</source>
        <translation>{field}: {message}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="240"/>
        <source>Generate shaking scenario</source>
        <translation>Generar escenario de sacudida</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="263"/>
        <source>Intensity measures (comma-separated)</source>
        <translation>Medidas de intensidad (separadas por comas)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="267"/>
        <source>Random seed</source>
        <translation>Semilla aleatoria</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="275"/>
        <source>Grid extent</source>
        <translation>Extensión de la malla</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="277"/>
        <source>Grid resolution (metres)</source>
        <translation>Resolución de la malla (metros)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="290"/>
        <source>Sites with intensity measures</source>
        <translation>Sitios con medidas de intensidad</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="293"/>
        <source>Intensity measure rasters</source>
        <translation>Rásteres de medidas de intensidad</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="295"/>
        <source>Run provenance (JSON)</source>
        <translation>Procedencia de la ejecución (JSON)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="368"/>
        <source>GroundShake sites</source>
        <translation>Sitios de GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="401"/>
        <source>{label}: the extent is empty</source>
        <translation>{label}: la extensión está vacía</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="430"/>
        <source>Rupture distances</source>
        <translation>Distancias a la ruptura</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="433"/>
        <source>Adds the epicentral, hypocentral, Joyner-Boore, rupture, Rx and Ry0 distances (km) from the finite rupture built on the fault trace, and the Vs30 (m/s) each site gets from its field or the default, to every site.</source>
        <translation>Añade a cada sitio las distancias epicentral, hipocentral, de Joyner-Boore, a la ruptura, Rx y Ry0 (km) a la ruptura finita construida sobre la traza de la falla, y la Vs30 (m/s) que recibe de su campo o del valor por defecto.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="440"/>
        <source>Sites with distances</source>
        <translation>Sitios con distancias</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="485"/>
        <source>{n} sites have no geometry or lie beyond the engine&apos;s range; their distances are left empty.</source>
        <translation>{n} sitios no tienen geometría o están fuera del alcance del motor; sus distancias quedan vacías.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="502"/>
        <source>The layer has no valid coordinate reference system.</source>
        <translation>La capa no tiene un sistema de referencia de coordenadas válido.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="541"/>
        <source>Cannot write the sites to {path}: {error}</source>
        <translation>No se pueden escribir los sitios en {path}: {error}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/provider.py" line="26"/>
        <source>GroundShake earthquake shaking scenarios</source>
        <translation>GroundShake: escenarios de sacudida sísmica</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="72"/>
        <source>{path} already exists</source>
        <translation>{path} ya existe</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="81"/>
        <source>cannot write {path}: {err}</source>
        <translation>no se puede escribir {path}: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="99"/>
        <source>the layer &apos;{name}&apos; has no features with a geometry</source>
        <translation>la capa '{name}' no tiene objetos con geometría</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="121"/>
        <source>{stem} sites</source>
        <translation>sitios de {stem}</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="80"/>
        <source>median</source>
        <translation>mediana</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="80"/>
        <source>16th percentile</source>
        <translation>percentil 16</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="80"/>
        <source>84th percentile</source>
        <translation>percentil 84</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="169"/>
        <source>outside the model&apos;s trained range</source>
        <translation>fuera del rango de entrenamiento del modelo</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="169"/>
        <source>within the model&apos;s trained range</source>
        <translation>dentro del rango de entrenamiento del modelo</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="202"/>
        <source>Rupture surface projection</source>
        <translation>Proyección en superficie de la ruptura</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="265"/>
        <source>Outside the model&apos;s trained range</source>
        <translation>Fuera del rango de entrenamiento del modelo</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="130"/>
        <source>The run stopped without an error message.</source>
        <translation>La ejecución se detuvo sin mensaje de error.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="159"/>
        <source>GroundShake: looking for compute devices</source>
        <translation>GroundShake: buscando dispositivos de cálculo</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="168"/>
        <source>PyTorch is not installed: the CGM engine is unavailable; install it with pip install torch</source>
        <translation>PyTorch no está instalado: el motor CGM no está disponible; instálelo con pip install torch</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="183"/>
        <source>CPU only (no GPU found)</source>
        <translation>Solo CPU (no se encontró ninguna GPU)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/__init__.py" line="18"/>
        <source>The GroundShake waveform viewer needs the Python package pyqtgraph, which this QGIS cannot import. Install it, then restart QGIS: on Debian/Ubuntu &apos;sudo apt install python3-pyqtgraph&apos;; on Windows (OSGeo4W Shell) or macOS &apos;python3 -m pip install pyqtgraph&apos;.</source>
        <translation>El visor de formas de onda de GroundShake necesita el paquete de Python pyqtgraph, que este QGIS no puede importar. Instálelo y reinicie QGIS: en Debian/Ubuntu 'sudo apt install python3-pyqtgraph'; en Windows (OSGeo4W Shell) o macOS 'python3 -m pip install pyqtgraph'.</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="146"/>
        <source>Realization drawn in the waveform and Fourier panels</source>
        <translation>Realización dibujada en los paneles de forma de onda y de Fourier</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="152"/>
        <source>PNG…</source>
        <translation>PNG…</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="152"/>
        <source>CSV…</source>
        <translation>CSV…</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="152"/>
        <source>MiniSEED…</source>
        <translation>MiniSEED…</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="155"/>
        <source>Export the selected site</source>
        <translation>Exportar el sitio seleccionado</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="158"/>
        <source>Remove site</source>
        <translation>Quitar el sitio</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="166"/>
        <source>Realization</source>
        <translation>Realización</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="173"/>
        <source>{c} acc. (g)</source>
        <translation>{c} acel. (g)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="175"/>
        <source>{c} vel. (cm/s)</source>
        <translation>{c} vel. (cm/s)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="177"/>
        <source>Time (s)</source>
        <translation>Tiempo (s)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="180"/>
        <source>Period (s)</source>
        <translation>Periodo (s)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="180"/>
        <source>PSA RotD50 (g)</source>
        <translation>PSA RotD50 (g)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="181"/>
        <source>RotD50 (5 %): realizations; GMPE median ± 1σ</source>
        <translation>RotD50 (5 %): realizaciones; mediana GMPE ± 1σ</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="183"/>
        <source>Frequency (Hz)</source>
        <translation>Frecuencia (Hz)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="183"/>
        <source>Fourier amplitude (g·s)</source>
        <translation>Amplitud de Fourier (g·s)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="186"/>
        <source>Smoothed FAS: H1 solid, H2 dashed, Z dotted</source>
        <translation>FAS suavizado: H1 continua, H2 discontinua, Z punteada</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="282"/>
        <source>Cannot write the image {path}</source>
        <translation>No se puede escribir la imagen {path}</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="365"/>
        <source>No site is selected in the viewer.</source>
        <translation>No hay ningún sitio seleccionado en el visor.</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="382"/>
        <source>Export plots as PNG</source>
        <translation>Exportar los gráficos como PNG</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="382"/>
        <source>PNG image (*.png)</source>
        <translation>Imagen PNG (*.png)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="386"/>
        <source>Export waveforms as CSV</source>
        <translation>Exportar las formas de onda como CSV</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="386"/>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="390"/>
        <source>Export waveforms as MiniSEED</source>
        <translation>Exportar las formas de onda como MiniSEED</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="390"/>
        <source>MiniSEED (*.mseed)</source>
        <translation>MiniSEED (*.mseed)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="339"/>
        <source>RotD50 of {site} failed: {error}</source>
        <translation>Falló el RotD50 de {site}: {error}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="976"/>
        <source>the dock takes seeds from 0 to {hi}; got {seed}</source>
        <translation>el panel acepta semillas de 0 a {hi}; se recibió {seed}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="302"/>
        <source>Used where the Vs30 raster has no value, and for every site when neither a field nor a raster is chosen (an empty or invalid field value is an error)</source>
        <translation>Se usa donde el ráster de Vs30 no tiene valor, y en todos los sitios cuando no se elige ni campo ni ráster (un valor vacío o no válido del campo es un error)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="836"/>
        <source>Execution</source>
        <translation>Ejecución</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="491"/>
        <source>This QGIS (single process)</source>
        <translation>Este QGIS (un solo proceso)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="492"/>
        <source>Every engine and device; the run uses this QGIS process only</source>
        <translation>Todos los motores y dispositivos; la ejecución usa solo este proceso de QGIS</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="495"/>
        <source>Local Dask cluster</source>
        <translation>Clúster Dask local</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="499"/>
        <source> workers</source>
        <translation> trabajadores</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="501"/>
        <source>Dask scheduler at</source>
        <translation>Planificador Dask en</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="504"/>
        <source>Address of a running Dask scheduler, tcp://host:port or tls://host:port</source>
        <translation>Dirección de un planificador Dask en marcha, tcp://host:puerto o tls://host:puerto</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="507"/>
        <source>Test connection</source>
        <translation>Probar la conexión</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="508"/>
        <source>Connect to the scheduler and count its workers (in the background)</source>
        <translation>Conecta con el planificador y cuenta sus trabajadores (en segundo plano)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="785"/>
        <source>Connecting to {address}…</source>
        <translation>Conectando con {address}…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="837"/>
        <source>Dask scheduler</source>
        <translation>Planificador Dask</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="838"/>
        <source>Local Dask workers</source>
        <translation>Trabajadores Dask locales</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="79"/>
        <source>Dask distributed is not installed in the Python that QGIS uses. Install it with: python -m pip install distributed (on Windows in the OSGeo4W Shell), then restart QGIS.</source>
        <translation>Dask distributed no está instalado en el Python que usa QGIS. Instálelo con: python -m pip install distributed (en Windows, desde OSGeo4W Shell) y reinicie QGIS.</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="89"/>
        <source>enter the scheduler address, for example {example}</source>
        <translation>escriba la dirección del planificador, por ejemplo {example}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="92"/>
        <source>&apos;{address}&apos; has no scheme: write tcp://{address} or tls://{address}</source>
        <translation>'{address}' no tiene esquema: escriba tcp://{address} o tls://{address}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="96"/>
        <source>the scheme must be tcp:// or tls://, not {scheme}://</source>
        <translation>el esquema debe ser tcp:// o tls://, no {scheme}://</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="100"/>
        <source>&apos;{address}&apos; has no valid host name or IP address</source>
        <translation>'{address}' no tiene un nombre de host ni una dirección IP válidos</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="107"/>
        <source>the address needs a port, for example {example}</source>
        <translation>la dirección necesita un puerto, por ejemplo {example}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="110"/>
        <source>the port must be a number from 1 to 65535</source>
        <translation>el puerto debe ser un número de 1 a 65535</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="113"/>
        <source>only scheme://host:port is accepted, got &apos;{address}&apos;</source>
        <translation>solo se acepta esquema://host:puerto; se recibió '{address}'</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="157"/>
        <source>use 1 to {n} workers</source>
        <translation>use de 1 a {n} trabajadores</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="206"/>
        <source>GroundShake: connecting to {address}</source>
        <translation>GroundShake: conectando con {address}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="222"/>
        <source>Cannot connect to {address} within {s} s: {err}</source>
        <translation>No se puede conectar con {address} en {s} s: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="230"/>
        <source>Connected to {address}, but the scheduler did not answer: {err}</source>
        <translation>Conectado con {address}, pero el planificador no respondió: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="236"/>
        <source>Connected: {w} workers, {t} threads.</source>
        <translation>Conectado: {w} trabajadores, {t} hilos.</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="239"/>
        <source>The cluster has no worker yet; a run would wait for one.</source>
        <translation>El clúster aún no tiene ningún trabajador; una ejecución esperaría a que haya uno.</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="244"/>
        <source>{n} workers cannot import {module} ({err}): start them with the folder that holds the plugin folder on PYTHONPATH.</source>
        <translation>{n} trabajadores no pueden importar {module} ({err}): inícielos con la carpeta que contiene la carpeta del complemento en PYTHONPATH.</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="253"/>
        <source>Workers run GroundShake {theirs}, this QGIS {ours}.</source>
        <translation>Los trabajadores ejecutan GroundShake {theirs}; este QGIS, {ours}.</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="260"/>
        <source>The connection test was cancelled.</source>
        <translation>La prueba de conexión se canceló.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="281"/>
        <source>Dask scheduler address (empty: in this process)</source>
        <translation>Dirección del planificador Dask (vacía: en este proceso)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="284"/>
        <source>Local Dask workers (0: in this process)</source>
        <translation>Trabajadores Dask locales (0: en este proceso)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="312"/>
        <source>{scheduler} and {workers}: give one of them, not both</source>
        <translation>{scheduler} y {workers}: indique uno de los dos, no ambos</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="515"/>
        <source>Dask runs support every engine: the CGM uses the chosen device on each worker, the stochastic simulation the workers&apos; CPUs. This QGIS only sends the tasks and writes the outputs.</source>
        <translation>Las ejecuciones con Dask admiten todos los motores: el CGM usa el dispositivo elegido en cada trabajador y la simulación estocástica, las CPU de los trabajadores. Este QGIS solo envía las tareas y escribe los resultados.</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="297"/>
        <source>Site {i}: the {engine} engine keeps no waveforms; run the scenario again with the CGM or the stochastic engine to see them.</source>
        <translation>Sitio {i}: el motor {engine} no guarda formas de onda; vuelva a ejecutar el escenario con el motor CGM o el estocástico para verlas.</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="50"/>
        <source>The CGM model is not installed (no {path}): reinstall or update the plugin to use this engine.</source>
        <translation>El modelo CGM no está instalado (no existe {path}): reinstale o actualice el complemento para usar este motor.</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="88"/>
        <source>MMI (Worden et al. 2012)</source>
        <translation>IMM (Worden et al. 2012)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="363"/>
        <source>The generative model the CGM engine samples</source>
        <translation>El modelo generativo que muestrea el motor CGM</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="833"/>
        <source>Model</source>
        <translation>Modelo</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="452"/>
        <source>Gaussian synthesis noise</source>
        <translation>Ruido de síntesis gaussiano</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="453"/>
        <source>the training simulator&apos;s pulse-train noise</source>
        <translation>el ruido de trenes de pulsos del simulador de entrenamiento</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="459"/>
        <source>{name} (default)</source>
        <translation>{name} (predeterminado)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="468"/>
        <source>{pct:.1f} % of median PGA and PSA within 0.25 ln of NGA-West2 (docs/generator.md)</source>
        <translation>{pct:.1f} % de las medianas de PGA y PSA a menos de 0,25 ln de NGA-West2 (docs/generator.md)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="475"/>
        <source>Scenario&apos;s card: {file}</source>
        <translation>Tarjeta del escenario: {file}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="464"/>
        <source>does not use the scenario&apos;s {names}: drawn per site as in its training data</source>
        <translation>no usa el {names} del escenario: se sortea por sitio como en sus datos de entrenamiento</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="243"/>
        <source>Generates three-component ground-motion waveforms for every site and grid cell around a fault rupture, and writes median, 16th and 84th percentile rasters of each intensity measure, a GeoPackage of sites and a provenance JSON into the output folder.

Intensity measures are comma-separated OpenQuake names such as PGA, PGV, SA(1.0). Give sites, a grid extent, or both; the grid resolution is in metres whatever the extent&apos;s CRS.

Engines: cgm (the conditional generative model, the default), stochastic (the calibrated stochastic simulation, the default when the CGM model is not installed) and gmpe (NGA-West2 ground-motion models, no waveforms). A model card (JSON) runs the cgm engine with another model than the bundled one: a shipped one from gm_engine/models or one trained with python -m gm_engine train.

Advanced: a Dask scheduler address (tcp://host:port) runs the chunks of sites on that cluster, a number of local Dask workers on a cluster started on this machine for the run; both need the Python package distributed and work with every engine. This process then only sends the tasks and writes the outputs.</source>
        <translation>Genera formas de onda de movimiento del suelo de tres componentes para cada sitio y cada celda de la malla alrededor de una ruptura de falla, y escribe en la carpeta de salida rásteres de la mediana y de los percentiles 16 y 84 de cada medida de intensidad, un GeoPackage de sitios y un JSON de procedencia.

Las medidas de intensidad son nombres de OpenQuake separados por comas, como PGA, PGV, SA(1.0). Indique sitios, una extensión de malla o ambos; la resolución de la malla va en metros, sea cual sea el SRC de la extensión.

Motores: cgm (el modelo generativo condicional, el predeterminado), stochastic (la simulación estocástica calibrada, la predeterminada cuando el modelo CGM no está instalado) y gmpe (modelos de movimiento del suelo NGA-West2, sin formas de onda). Un archivo de modelo (JSON) ejecuta el motor cgm con otro modelo que el incluido: uno de los que vienen en gm_engine/models o uno entrenado con python -m gm_engine train.

Avanzado: una dirección de planificador Dask (tcp://host:puerto) calcula los bloques de sitios en ese clúster, y un número de trabajadores Dask locales, en un clúster que se inicia en esta máquina para la ejecución; ambos necesitan el paquete de Python distributed y funcionan con todos los motores. Este proceso entonces solo envía las tareas y escribe los resultados.</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="272"/>
        <source>Model card of the cgm engine (empty: the bundled model)</source>
        <translation>Archivo de modelo del motor cgm (vacío: el modelo incluido)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="343"/>
        <source>{card}: a model card is used by the cgm engine only, the engine is {engine}</source>
        <translation>{card}: un archivo de modelo solo lo usa el motor cgm, el motor es {engine}</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="272"/>
        <source>Durations cut by the model&apos;s records</source>
        <translation>Duraciones recortadas por los registros del modelo</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="274"/>
        <source>shaking outlasts the records: D5-95, IA, CAV too low</source>
        <translation>el movimiento dura más que los registros: D5-95, IA y CAV demasiado bajos</translation>
    </message>
</context>
</TS>
