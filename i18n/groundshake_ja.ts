<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ja_JP">
<context>
    <name>@default</name>
    <message>
        <location filename="../plugin/dock.py" line="81"/>
        <source>Strike-slip, right-lateral (rake 180°)</source>
        <translation>右横ずれ (すべり角 180°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="82"/>
        <source>Strike-slip, left-lateral (rake 0°)</source>
        <translation>左横ずれ (すべり角 0°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="83"/>
        <source>Normal (rake −90°)</source>
        <translation>正断層 (すべり角 −90°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="84"/>
        <source>Reverse (rake 90°)</source>
        <translation>逆断層 (すべり角 90°)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="85"/>
        <source>Other rake</source>
        <translation>その他のすべり角</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="91"/>
        <source>Conditional generative model (CGM)</source>
        <translation>条件付き生成モデル (CGM)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="92"/>
        <source>Stochastic simulation</source>
        <translation>統計的シミュレーション</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="93"/>
        <source>NGA-West2 ground-motion models (GMPE)</source>
        <translation>NGA-West2 地震動予測式 (GMPE)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="98"/>
        <source>Automatic</source>
        <translation>自動</translation>
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
        <translation>推定中…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="108"/>
        <source>{m} min {s:02d} s left</source>
        <translation>残り {m} 分 {s:02d} 秒</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="109"/>
        <source>{s} s left</source>
        <translation>残り {s} 秒</translation>
    </message>
    <message>
        <location filename="../plugin/processing/provider.py" line="23"/>
        <source>GroundShake</source>
        <translation>GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="1084"/>
        <source>Scenario</source>
        <translation>シナリオ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="157"/>
        <source>Name of the scenario and of its layer group</source>
        <translation>シナリオとそのレイヤグループの名前</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="159"/>
        <source>Import…</source>
        <translation>インポート…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="160"/>
        <source>Read a scenario JSON file</source>
        <translation>シナリオの JSON ファイルを読み込む</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="162"/>
        <source>Export…</source>
        <translation>エクスポート…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="163"/>
        <source>Write the scenario as a JSON file for the command line</source>
        <translation>コマンドライン用にシナリオを JSON ファイルとして書き出す</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="835"/>
        <source>Name</source>
        <translation>名前</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="827"/>
        <source>Fault</source>
        <translation>断層</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="176"/>
        <source>Draw on map</source>
        <translation>地図上に描く</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="179"/>
        <source>Click the trace&apos;s vertices; Backspace removes the last one, right click finishes, Esc cancels</source>
        <translation>トレースの頂点をクリックします。Backspace で最後の頂点を削除、右クリックで終了、Esc で取り消し</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="186"/>
        <source>Line layer holding the fault trace</source>
        <translation>断層トレースを含むラインレイヤ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="188"/>
        <source>Use selected</source>
        <translation>選択を使用</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="189"/>
        <source>Take the trace from the selected feature of the line layer</source>
        <translation>ラインレイヤの選択地物からトレースを取得する</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="193"/>
        <source>Trace</source>
        <translation>トレース</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="824"/>
        <source>Dip</source>
        <translation>傾斜角</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="203"/>
        <source>Right-hand rule</source>
        <translation>右手の法則</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="205"/>
        <source>Dip to the right when walking along the trace</source>
        <translation>トレースに沿って進むとき右側へ傾斜</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="825"/>
        <source>Dip direction</source>
        <translation>傾斜方向</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="825"/>
        <source>Top depth</source>
        <translation>上端深さ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="826"/>
        <source>Bottom depth</source>
        <translation>下端深さ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="826"/>
        <source>Mechanism</source>
        <translation>メカニズム</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="238"/>
        <source>Magnitude</source>
        <translation>マグニチュード</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="246"/>
        <source>From the scaling law</source>
        <translation>スケーリング則から</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="110"/>
        <source>Moment magnitude</source>
        <translation>モーメントマグニチュード</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="828"/>
        <source>Scaling law</source>
        <translation>スケーリング則</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="257"/>
        <source>Use</source>
        <translation>使用</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="258"/>
        <source>Set the magnitude to the scaling-law value</source>
        <translation>マグニチュードをスケーリング則の値にする</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="244"/>
        <source>Sites</source>
        <translation>サイト</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="277"/>
        <source>Point layer of sites; polygons use their centroids</source>
        <translation>サイトのポイントレイヤ (ポリゴンは重心を使用)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="278"/>
        <source>Layer</source>
        <translation>レイヤ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="830"/>
        <source>Site conditions (Vs30)</source>
        <translation>サイト条件 (Vs30)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="284"/>
        <source>Field of the site layer</source>
        <translation>サイトレイヤのフィールド</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="289"/>
        <source>Raster</source>
        <translation>ラスタ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="295"/>
        <source>Default only</source>
        <translation>既定値のみ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="830"/>
        <source>Raster grid</source>
        <translation>ラスタグリッド</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="319"/>
        <source>Extent of the sites</source>
        <translation>サイトの範囲</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="831"/>
        <source>Resolution</source>
        <translation>解像度</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="327"/>
        <source>Cells</source>
        <translation>セル数</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="831"/>
        <source>Intensity measures</source>
        <translation>強度指標</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="342"/>
        <source>SA at periods (s)</source>
        <translation>周期 (秒) ごとの SA</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="345"/>
        <source>Spectral acceleration periods in seconds, separated by commas</source>
        <translation>加速度応答スペクトルの周期 (秒、カンマ区切り)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="393"/>
        <source>Run</source>
        <translation>実行</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="269"/>
        <source>Engine</source>
        <translation>エンジン</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="265"/>
        <source>Realizations</source>
        <translation>実現数</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="832"/>
        <source>Seed</source>
        <translation>シード</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="834"/>
        <source>Device</source>
        <translation>デバイス</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="379"/>
        <source>Looking for devices…</source>
        <translation>デバイスを検索中…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="384"/>
        <source>Temporary folder</source>
        <translation>一時フォルダ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="385"/>
        <source>Each run writes a new sub-folder here; existing files are never replaced</source>
        <translation>実行ごとにここに新しいサブフォルダを作成します。既存のファイルは置き換えません</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="279"/>
        <source>Output folder</source>
        <translation>出力フォルダ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="394"/>
        <source>Cancel</source>
        <translation>キャンセル</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="610"/>
        <source>Select one feature of a line layer first.</source>
        <translation>先にラインレイヤの地物を 1 つ選択してください。</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="621"/>
        <source>The selected feature has no line.</source>
        <translation>選択した地物にラインがありません。</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="664"/>
        <source>No trace yet: draw it or take a selected feature.</source>
        <translation>トレースがまだありません。描画するか選択地物から取得してください。</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="669"/>
        <source>{n} vertices, {km:.1f} km</source>
        <translation>頂点 {n} 個、{km:.1f} km</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="674"/>
        <source>Scaling law: needs bottom depth &gt; top depth</source>
        <translation>スケーリング則: 下端深さは上端深さより大きくしてください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="678"/>
        <source>{law}: M {m:.2f} for {area:.0f} km²</source>
        <translation>{law}: {area:.0f} km² に対して M {m:.2f}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="687"/>
        <source>Magnitude and rupture size disagree: {law} gives M {m:.2f} for this rupture ({area:.0f} km²).</source>
        <translation>マグニチュードと破壊域の大きさが合いません。{law} ではこの破壊域 ({area:.0f} km²) に対して M {m:.2f} です。</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="703"/>
        <source>Choose a site layer first.</source>
        <translation>先にサイトレイヤを選んでください。</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="724"/>
        <source>no extent</source>
        <translation>範囲なし</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="727"/>
        <source>{cols} × {rows} = {n} cells</source>
        <translation>{cols} × {rows} = {n} セル</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="733"/>
        <source>Found: {detail}</source>
        <translation>検出: {detail}</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="201"/>
        <source>Fault trace</source>
        <translation>断層トレース</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="829"/>
        <source>Vs30 field</source>
        <translation>Vs30 フィールド</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="829"/>
        <source>Vs30 raster</source>
        <translation>Vs30 ラスタ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="858"/>
        <source>&apos;{t}&apos; is not a period in seconds</source>
        <translation>'{t}' は秒単位の周期ではありません</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="861"/>
        <source>periods must be positive, got {t}</source>
        <translation>周期は正の値にしてください (入力値: {t})</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="869"/>
        <source>choose at least one intensity measure</source>
        <translation>強度指標を 1 つ以上選んでください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="896"/>
        <source>draw the fault trace or take a selected line feature</source>
        <translation>断層トレースを描くか、選択したライン地物を使ってください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="898"/>
        <source>the bottom depth must be greater than the top depth</source>
        <translation>下端深さは上端深さより大きくしてください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="938"/>
        <source>choose a point or polygon layer of sites</source>
        <translation>サイトのポイントまたはポリゴンレイヤを選んでください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="946"/>
        <source>choose the field that holds Vs30 in m/s</source>
        <translation>Vs30 (m/s) を持つフィールドを選んでください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="949"/>
        <source>a Vs30 field needs a site layer</source>
        <translation>Vs30 フィールドにはサイトレイヤが必要です</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="954"/>
        <source>choose a Vs30 raster stored in a file</source>
        <translation>ファイルに保存された Vs30 ラスタを選んでください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="960"/>
        <source>set the grid extent</source>
        <translation>グリッドの範囲を設定してください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="969"/>
        <source>use sites, a raster grid or both</source>
        <translation>サイト、ラスタグリッド、またはその両方を使ってください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="1099"/>
        <source>Starting…</source>
        <translation>開始中…</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="68"/>
        <source>&amp;GroundShake</source>
        <translation>&amp;GroundShake</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="90"/>
        <source>GroundShake Processing algorithms are unavailable: {err}</source>
        <translation>GroundShake のプロセシングアルゴリズムを利用できません: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="103"/>
        <source>GroundShake scenario</source>
        <translation>GroundShake シナリオ</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="105"/>
        <source>Open the GroundShake scenario panel</source>
        <translation>GroundShake のシナリオパネルを開く</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="108"/>
        <source>Draw fault trace</source>
        <translation>断層トレースを描く</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="110"/>
        <source>Draw a fault trace: click vertices, Backspace removes the last one, right click finishes, Esc cancels</source>
        <translation>断層トレースを描く: 頂点をクリック、Backspace で最後の頂点を削除、右クリックで終了、Esc で取り消し</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="114"/>
        <source>Show site waveforms</source>
        <translation>サイトの波形を表示</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="117"/>
        <source>Click a site of a GroundShake result to see its waveforms</source>
        <translation>GroundShake の結果のサイトをクリックして波形を表示</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="309"/>
        <source>The waveform viewer is unavailable: {err}</source>
        <translation>波形ビューアを利用できません: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="134"/>
        <source>GroundShake waveforms</source>
        <translation>GroundShake 波形</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="322"/>
        <source>Cannot show the waveforms of site {i}: {err}</source>
        <translation>サイト {i} の波形を表示できません: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="364"/>
        <source>cannot create {path}: {err}</source>
        <translation>{path} を作成できません: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="380"/>
        <source>GroundShake: {name}</source>
        <translation>GroundShake: {name}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="425"/>
        <source>Cancelling…</source>
        <translation>キャンセル中…</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="439"/>
        <source>Cancelled</source>
        <translation>キャンセルしました</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="440"/>
        <source>The run was cancelled; nothing was written.</source>
        <translation>実行をキャンセルしました。何も書き出されていません。</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="444"/>
        <source>Failed</source>
        <translation>失敗</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="448"/>
        <source>The run failed: {err}</source>
        <translation>実行に失敗しました: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="452"/>
        <source>Done</source>
        <translation>完了</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="456"/>
        <source>Results written to {path}</source>
        <translation>結果を {path} に書き出しました</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="461"/>
        <source>Import scenario</source>
        <translation>シナリオのインポート</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="517"/>
        <source>Scenario (*.json)</source>
        <translation>シナリオ (*.json)</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="473"/>
        <source>{path} is not a GroundShake scenario</source>
        <translation>{path} は GroundShake のシナリオではありません</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="507"/>
        <source>cannot open {path}</source>
        <translation>{path} を開けません</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="505"/>
        <source>Vs30</source>
        <translation>Vs30</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="539"/>
        <source>Export scenario</source>
        <translation>シナリオのエクスポート</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="539"/>
        <source>{path} exists. Replace it?</source>
        <translation>{path} は既に存在します。置き換えますか?</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="543"/>
        <source>{path} exists; choose another name</source>
        <translation>{path} は既に存在します。別の名前を選んでください</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="555"/>
        <source>Scenario written to {path}</source>
        <translation>シナリオを {path} に書き出しました</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="582"/>
        <source>Cannot read the saved GroundShake scenario: {err}</source>
        <translation>保存された GroundShake シナリオを読み込めません: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="91"/>
        <source>Scenarios</source>
        <translation>シナリオ</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="100"/>
        <source>Fault trace (the first or only selected line is used)</source>
        <translation>断層トレース (最初の、または唯一選択されたラインを使用)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="106"/>
        <source>Vs30 field of the sites (m/s)</source>
        <translation>サイトの Vs30 フィールド (m/s)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="109"/>
        <source>Default Vs30 (m/s)</source>
        <translation>既定の Vs30 (m/s)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="111"/>
        <source>Dip (degrees)</source>
        <translation>傾斜角 (度)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="112"/>
        <source>Depth to top of rupture (km)</source>
        <translation>破壊域上端の深さ (km)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="113"/>
        <source>Depth to bottom of rupture (km)</source>
        <translation>破壊域下端の深さ (km)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="114"/>
        <source>Rake (degrees)</source>
        <translation>すべり角 (度)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="133"/>
        <source>{label}: the layer has no line feature</source>
        <translation>{label}: レイヤにライン地物がありません</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="136"/>
        <source>The fault layer has several features; only the first is used (select one and tick &apos;Selected features only&apos;).</source>
        <translation>断層レイヤに複数の地物があります。最初の地物のみを使用します (1 つ選択して「選択地物のみ」にチェックしてください)。</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="141"/>
        <source>{label}: the fault feature has {n} parts; a single continuous trace is needed (merge or explode the parts first)</source>
        <translation>{label}: 断層地物が {n} 個のパーツからなります。連続した 1 本のトレースが必要です (先にパーツを結合または分解してください)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="190"/>
        <source>Cancelled by the user.</source>
        <translation>ユーザーによりキャンセルされました。</translation>
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
        <translation>揺れのシナリオを生成</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="263"/>
        <source>Intensity measures (comma-separated)</source>
        <translation>強度指標 (カンマ区切り)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="267"/>
        <source>Random seed</source>
        <translation>乱数シード</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="275"/>
        <source>Grid extent</source>
        <translation>グリッド範囲</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="277"/>
        <source>Grid resolution (metres)</source>
        <translation>グリッド解像度 (メートル)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="290"/>
        <source>Sites with intensity measures</source>
        <translation>強度指標付きのサイト</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="293"/>
        <source>Intensity measure rasters</source>
        <translation>強度指標ラスタ</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="295"/>
        <source>Run provenance (JSON)</source>
        <translation>実行の来歴 (JSON)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="368"/>
        <source>GroundShake sites</source>
        <translation>GroundShake サイト</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="401"/>
        <source>{label}: the extent is empty</source>
        <translation>{label}: 範囲が空です</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="430"/>
        <source>Rupture distances</source>
        <translation>破壊域までの距離</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="433"/>
        <source>Adds the epicentral, hypocentral, Joyner-Boore, rupture, Rx and Ry0 distances (km) from the finite rupture built on the fault trace, and the Vs30 (m/s) each site gets from its field or the default, to every site.</source>
        <translation>断層トレースから作成した有限破壊域に対する震央距離、震源距離、Joyner-Boore 距離、断層最短距離、Rx、Ry0 (km) と、フィールドまたは既定値から得た各サイトの Vs30 (m/s) を、すべてのサイトに追加します。</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="440"/>
        <source>Sites with distances</source>
        <translation>距離付きのサイト</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="485"/>
        <source>{n} sites have no geometry or lie beyond the engine&apos;s range; their distances are left empty.</source>
        <translation>{n} 個のサイトはジオメトリがないか、エンジンの適用範囲外にあります。それらの距離は空のままです。</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="502"/>
        <source>The layer has no valid coordinate reference system.</source>
        <translation>レイヤに有効な座標参照系がありません。</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="541"/>
        <source>Cannot write the sites to {path}: {error}</source>
        <translation>サイトを {path} に書き出せません: {error}</translation>
    </message>
    <message>
        <location filename="../plugin/processing/provider.py" line="26"/>
        <source>GroundShake earthquake shaking scenarios</source>
        <translation>GroundShake 地震動シナリオ</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="72"/>
        <source>{path} already exists</source>
        <translation>{path} は既に存在します</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="81"/>
        <source>cannot write {path}: {err}</source>
        <translation>{path} に書き込めません: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="99"/>
        <source>the layer &apos;{name}&apos; has no features with a geometry</source>
        <translation>レイヤ '{name}' にジオメトリを持つ地物がありません</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="121"/>
        <source>{stem} sites</source>
        <translation>{stem} のサイト</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="80"/>
        <source>median</source>
        <translation>中央値</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="80"/>
        <source>16th percentile</source>
        <translation>16 パーセンタイル</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="80"/>
        <source>84th percentile</source>
        <translation>84 パーセンタイル</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="169"/>
        <source>outside the model&apos;s trained range</source>
        <translation>モデルの学習範囲外</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="169"/>
        <source>within the model&apos;s trained range</source>
        <translation>モデルの学習範囲内</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="202"/>
        <source>Rupture surface projection</source>
        <translation>破壊域の地表投影</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="265"/>
        <source>Outside the model&apos;s trained range</source>
        <translation>モデルの学習範囲外</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="130"/>
        <source>The run stopped without an error message.</source>
        <translation>エラーメッセージなしで実行が停止しました。</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="159"/>
        <source>GroundShake: looking for compute devices</source>
        <translation>GroundShake: 計算デバイスを検索中</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="168"/>
        <source>PyTorch is not installed: the CGM engine is unavailable; install it with pip install torch</source>
        <translation>PyTorch がインストールされていないため CGM エンジンを利用できません。pip install torch でインストールしてください</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="183"/>
        <source>CPU only (no GPU found)</source>
        <translation>CPU のみ (GPU は見つかりません)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/__init__.py" line="18"/>
        <source>The GroundShake waveform viewer needs the Python package pyqtgraph, which this QGIS cannot import. Install it, then restart QGIS: on Debian/Ubuntu &apos;sudo apt install python3-pyqtgraph&apos;; on Windows (OSGeo4W Shell) or macOS &apos;python3 -m pip install pyqtgraph&apos;.</source>
        <translation>GroundShake の波形ビューアには Python パッケージ pyqtgraph が必要ですが、この QGIS ではインポートできません。インストールしてから QGIS を再起動してください: Debian/Ubuntu では 'sudo apt install python3-pyqtgraph'、Windows (OSGeo4W Shell) または macOS では 'python3 -m pip install pyqtgraph'。</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="146"/>
        <source>Realization drawn in the waveform and Fourier panels</source>
        <translation>波形パネルとフーリエパネルに描く実現</translation>
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
        <translation>選択したサイトをエクスポート</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="158"/>
        <source>Remove site</source>
        <translation>サイトを削除</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="166"/>
        <source>Realization</source>
        <translation>実現</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="173"/>
        <source>{c} acc. (g)</source>
        <translation>{c} 加速度 (g)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="175"/>
        <source>{c} vel. (cm/s)</source>
        <translation>{c} 速度 (cm/s)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="177"/>
        <source>Time (s)</source>
        <translation>時間 (秒)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="180"/>
        <source>Period (s)</source>
        <translation>周期 (秒)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="180"/>
        <source>PSA RotD50 (g)</source>
        <translation>PSA RotD50 (g)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="181"/>
        <source>RotD50 (5 %): realizations; GMPE median ± 1σ</source>
        <translation>RotD50 (5 %): 各実現、GMPE 中央値 ± 1σ</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="183"/>
        <source>Frequency (Hz)</source>
        <translation>周波数 (Hz)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="183"/>
        <source>Fourier amplitude (g·s)</source>
        <translation>フーリエ振幅 (g·s)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="186"/>
        <source>Smoothed FAS: H1 solid, H2 dashed, Z dotted</source>
        <translation>平滑化 FAS: H1 実線、H2 破線、Z 点線</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="282"/>
        <source>Cannot write the image {path}</source>
        <translation>画像 {path} を書き出せません</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="365"/>
        <source>No site is selected in the viewer.</source>
        <translation>ビューアでサイトが選択されていません。</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="382"/>
        <source>Export plots as PNG</source>
        <translation>グラフを PNG でエクスポート</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="382"/>
        <source>PNG image (*.png)</source>
        <translation>PNG 画像 (*.png)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="386"/>
        <source>Export waveforms as CSV</source>
        <translation>波形を CSV でエクスポート</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="386"/>
        <source>CSV (*.csv)</source>
        <translation>CSV (*.csv)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="390"/>
        <source>Export waveforms as MiniSEED</source>
        <translation>波形を MiniSEED でエクスポート</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="390"/>
        <source>MiniSEED (*.mseed)</source>
        <translation>MiniSEED (*.mseed)</translation>
    </message>
    <message>
        <location filename="../plugin/viewer/waveform_viewer.py" line="339"/>
        <source>RotD50 of {site} failed: {error}</source>
        <translation>{site} の RotD50 の計算に失敗しました: {error}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="976"/>
        <source>the dock takes seeds from 0 to {hi}; got {seed}</source>
        <translation>このパネルで使えるシードは 0 から {hi} までです（指定値: {seed}）</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="302"/>
        <source>Used where the Vs30 raster has no value, and for every site when neither a field nor a raster is chosen (an empty or invalid field value is an error)</source>
        <translation>Vs30 ラスターに値がない場所、およびフィールドもラスターも選ばれていないときはすべての地点で使用します（フィールドの値が空または無効な場合はエラーになります）</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="836"/>
        <source>Execution</source>
        <translation>実行環境</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="491"/>
        <source>This QGIS (single process)</source>
        <translation>この QGIS (単一プロセス)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="492"/>
        <source>Every engine and device; the run uses this QGIS process only</source>
        <translation>すべてのエンジンとデバイスに対応。この QGIS のプロセスだけで実行します</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="495"/>
        <source>Local Dask cluster</source>
        <translation>ローカル Dask クラスタ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="499"/>
        <source> workers</source>
        <translation> ワーカー</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="501"/>
        <source>Dask scheduler at</source>
        <translation>Dask スケジューラ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="504"/>
        <source>Address of a running Dask scheduler, tcp://host:port or tls://host:port</source>
        <translation>稼働中の Dask スケジューラのアドレス (tcp://ホスト:ポート または tls://ホスト:ポート)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="507"/>
        <source>Test connection</source>
        <translation>接続テスト</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="508"/>
        <source>Connect to the scheduler and count its workers (in the background)</source>
        <translation>スケジューラに接続してワーカー数を調べます (バックグラウンドで実行)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="785"/>
        <source>Connecting to {address}…</source>
        <translation>{address} に接続中…</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="837"/>
        <source>Dask scheduler</source>
        <translation>Dask スケジューラ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="838"/>
        <source>Local Dask workers</source>
        <translation>ローカル Dask ワーカー数</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="79"/>
        <source>Dask distributed is not installed in the Python that QGIS uses. Install it with: python -m pip install distributed (on Windows in the OSGeo4W Shell), then restart QGIS.</source>
        <translation>QGIS が使用する Python に Dask distributed がインストールされていません。python -m pip install distributed でインストールし (Windows では OSGeo4W Shell で実行)、QGIS を再起動してください。</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="89"/>
        <source>enter the scheduler address, for example {example}</source>
        <translation>スケジューラのアドレスを入力してください (例: {example})</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="92"/>
        <source>&apos;{address}&apos; has no scheme: write tcp://{address} or tls://{address}</source>
        <translation>'{address}' にスキームがありません。tcp://{address} または tls://{address} と入力してください</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="96"/>
        <source>the scheme must be tcp:// or tls://, not {scheme}://</source>
        <translation>スキームは {scheme}:// ではなく tcp:// または tls:// にしてください</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="100"/>
        <source>&apos;{address}&apos; has no valid host name or IP address</source>
        <translation>'{address}' に有効なホスト名または IP アドレスがありません</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="107"/>
        <source>the address needs a port, for example {example}</source>
        <translation>アドレスにはポート番号が必要です (例: {example})</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="110"/>
        <source>the port must be a number from 1 to 65535</source>
        <translation>ポート番号は 1 から 65535 までの数にしてください</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="113"/>
        <source>only scheme://host:port is accepted, got &apos;{address}&apos;</source>
        <translation>scheme://host:port の形式のみ使えます。入力: '{address}'</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="157"/>
        <source>use 1 to {n} workers</source>
        <translation>ワーカー数は 1 から {n} までにしてください</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="206"/>
        <source>GroundShake: connecting to {address}</source>
        <translation>GroundShake: {address} に接続中</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="222"/>
        <source>Cannot connect to {address} within {s} s: {err}</source>
        <translation>{s} 秒以内に {address} に接続できませんでした: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="230"/>
        <source>Connected to {address}, but the scheduler did not answer: {err}</source>
        <translation>{address} に接続しましたが、スケジューラが応答しませんでした: {err}</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="236"/>
        <source>Connected: {w} workers, {t} threads.</source>
        <translation>接続しました: ワーカー {w} 個、スレッド {t} 個。</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="239"/>
        <source>The cluster has no worker yet; a run would wait for one.</source>
        <translation>クラスタにはまだワーカーがありません。実行するとワーカーが加わるまで待ちます。</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="244"/>
        <source>{n} workers cannot import {module} ({err}): start them with the folder that holds the plugin folder on PYTHONPATH.</source>
        <translation>{n} 個のワーカーが {module} をインポートできません ({err})。プラグインのフォルダを含むフォルダを PYTHONPATH に加えてワーカーを起動してください。</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="253"/>
        <source>Workers run GroundShake {theirs}, this QGIS {ours}.</source>
        <translation>ワーカーの GroundShake は {theirs}、この QGIS は {ours} です。</translation>
    </message>
    <message>
        <location filename="../plugin/execution.py" line="260"/>
        <source>The connection test was cancelled.</source>
        <translation>接続テストはキャンセルされました。</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="281"/>
        <source>Dask scheduler address (empty: in this process)</source>
        <translation>Dask スケジューラのアドレス (空欄: このプロセスで実行)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="284"/>
        <source>Local Dask workers (0: in this process)</source>
        <translation>ローカル Dask ワーカー数 (0: このプロセスで実行)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="312"/>
        <source>{scheduler} and {workers}: give one of them, not both</source>
        <translation>{scheduler} と {workers}: どちらか一方だけを指定してください</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="515"/>
        <source>Dask runs support every engine: the CGM uses the chosen device on each worker, the stochastic simulation the workers&apos; CPUs. This QGIS only sends the tasks and writes the outputs.</source>
        <translation>Dask での実行はすべてのエンジンに対応します。CGM は各ワーカーで選択したデバイスを、統計的シミュレーションはワーカーの CPU を使います。この QGIS はタスクを送り、出力を書き出すだけです。</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="297"/>
        <source>Site {i}: the {engine} engine keeps no waveforms; run the scenario again with the CGM or the stochastic engine to see them.</source>
        <translation>サイト {i}: {engine} エンジンは波形を保存しません。波形を見るには、CGM または統計的シミュレーションのエンジンでシナリオを再実行してください。</translation>
    </message>
    <message>
        <location filename="../plugin/scenario_io.py" line="50"/>
        <source>The CGM model is not installed (no {path}): reinstall or update the plugin to use this engine.</source>
        <translation>CGM モデルがインストールされていません ({path} がありません)。このエンジンを使うには、プラグインを再インストールまたは更新してください。</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="88"/>
        <source>MMI (Worden et al. 2012)</source>
        <translation>改正メルカリ震度 MMI (Worden et al. 2012)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="363"/>
        <source>The generative model the CGM engine samples</source>
        <translation>CGMエンジンがサンプリングする生成モデル</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="833"/>
        <source>Model</source>
        <translation>モデル</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="452"/>
        <source>Gaussian synthesis noise</source>
        <translation>ガウス合成ノイズ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="453"/>
        <source>the training simulator&apos;s pulse-train noise</source>
        <translation>学習用シミュレータのパルス列ノイズ</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="459"/>
        <source>{name} (default)</source>
        <translation>{name}（既定）</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="468"/>
        <source>{pct:.1f} % of median PGA and PSA within 0.25 ln of NGA-West2 (docs/generator.md)</source>
        <translation>PGAとPSAの中央値の{pct:.1f} %がNGA-West2から0.25 ln以内（docs/generator.md）</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="475"/>
        <source>Scenario&apos;s card: {file}</source>
        <translation>シナリオのモデルカード: {file}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="464"/>
        <source>does not use the scenario&apos;s {names}: drawn per site as in its training data</source>
        <translation>シナリオの {names} は使いません: 学習データと同様にサイトごとに抽出します</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="243"/>
        <source>Generates three-component ground-motion waveforms for every site and grid cell around a fault rupture, and writes median, 16th and 84th percentile rasters of each intensity measure, a GeoPackage of sites and a provenance JSON into the output folder.

Intensity measures are comma-separated OpenQuake names such as PGA, PGV, SA(1.0). Give sites, a grid extent, or both; the grid resolution is in metres whatever the extent&apos;s CRS.

Engines: cgm (the conditional generative model, the default), stochastic (the calibrated stochastic simulation, the default when the CGM model is not installed) and gmpe (NGA-West2 ground-motion models, no waveforms). A model card (JSON) runs the cgm engine with another model than the bundled one: a shipped one from gm_engine/models or one trained with python -m gm_engine train.

Advanced: a Dask scheduler address (tcp://host:port) runs the chunks of sites on that cluster, a number of local Dask workers on a cluster started on this machine for the run; both need the Python package distributed and work with every engine. This process then only sends the tasks and writes the outputs.</source>
        <translation>断層破壊の周辺の各サイトと各グリッドセルについて 3 成分の地震動波形を生成し、各強度指標の中央値・16 パーセンタイル・84 パーセンタイルのラスタ、サイトの GeoPackage、来歴 JSON を出力フォルダに書き出します。

強度指標は PGA, PGV, SA(1.0) のような OpenQuake の名前をカンマ区切りで指定します。サイト、グリッド範囲、またはその両方を指定してください。グリッド解像度は範囲の CRS にかかわらずメートル単位です。

エンジン: cgm (条件付き生成モデル、既定)、stochastic (較正済みの統計的シミュレーション、CGM モデルがインストールされていない場合の既定)、gmpe (NGA-West2 地震動モデル、波形なし)。 モデルカード (JSON) を指定すると、同梱モデルの代わりに別のモデルで cgm エンジンを実行します: gm_engine/models に同梱のもの、または python -m gm_engine train で学習したもの。

詳細設定: Dask スケジューラのアドレス (tcp://host:port) を指定すると、サイトのチャンクをそのクラスタで計算します。ローカル Dask ワーカー数を指定すると、この実行のためにこのマシンで起動したクラスタで計算します。どちらも Python パッケージ distributed が必要で、すべてのエンジンに対応します。このとき、このプロセスはタスクを送り、出力を書き出すだけです。</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="272"/>
        <source>Model card of the cgm engine (empty: the bundled model)</source>
        <translation>cgm エンジンのモデルカード (空欄: 同梱モデル)</translation>
    </message>
    <message>
        <location filename="../plugin/processing/algorithms.py" line="343"/>
        <source>{card}: a model card is used by the cgm engine only, the engine is {engine}</source>
        <translation>{card}: モデルカードは cgm エンジンでのみ使われます。エンジンは {engine} です</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="272"/>
        <source>Durations cut by the model&apos;s records</source>
        <translation>モデルの記録長で切れた継続時間</translation>
    </message>
    <message>
        <location filename="../plugin/styling.py" line="274"/>
        <source>shaking outlasts the records: D5-95, IA, CAV too low</source>
        <translation>揺れが記録より長い: D5-95、IA、CAVが過小</translation>
    </message>
</context>
</TS>
