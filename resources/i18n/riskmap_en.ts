<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en_US" sourcelanguage="zh_CN">
<context>
    <name></name>
    <message>
        <location filename="../../riskmap/ui/attribute_table.py" line="+362"/>
        <source>搜索任意字段…</source>
        <translation>Search any field…</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>地图同步筛选</source>
        <translation>Filter the map too</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>勾选后地图上只显示表中筛选出的要素</source>
        <translation>When ticked, the map shows only the features filtered in the table</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>全选筛选结果</source>
        <translation>Select all filtered</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>取消选择</source>
        <translation>Clear selection</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>缩放到选中</source>
        <translation>Zoom to selection</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>导出为 XLSX…</source>
        <translation>Export to XLSX…</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>全部</source>
        <translation>All</translation>
    </message>
    <message>
        <location line="+18"/>
        <location line="+33"/>
        <location filename="../../riskmap/ui/filter_dialog.py" line="+157"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="+427"/>
        <location line="+1"/>
        <source>（空）</source>
        <translation>(empty)</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>正在查询…</source>
        <translation>Querying…</translation>
    </message>
    <message>
        <location line="+138"/>
        <location filename="../../riskmap/ui/identify_panel.py" line="+308"/>
        <location filename="../../riskmap/ui/planning.py" line="+101"/>
        <source>未定级</source>
        <translation>Not graded</translation>
    </message>
    <message>
        <location line="-134"/>
        <location line="+10"/>
        <source>显示 {shown} / {total} 条</source>
        <translation>Showing {shown} / {total} rows</translation>
    </message>
    <message>
        <location line="+101"/>
        <source>导出为 XLSX</source>
        <translation>Export to XLSX</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/planning.py" line="+137"/>
        <source>Excel 工作簿 (*.xlsx)</source>
        <translation>Excel workbook (*.xlsx)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>正在导出 XLSX</source>
        <translation>Exporting XLSX</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>已导出 {n} 条记录到 {path}</source>
        <translation>Exported {n} rows to {path}</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/canvas.py" line="+655"/>
        <source>{names}已聚合：每个符号为一片区域内的最高等级，数字为其中的数量</source>
        <translation>{names} aggregated: each symbol shows the highest level in its area, the number how many it holds</translation>
    </message>
    <message>
        <location line="+115"/>
        <source>在线底图“{name}”不可用（{reason}），地图仍使用本地边界显示。</source>
        <translation>Online base map “{name}” is unavailable ({reason}); the map keeps showing the project&apos;s own boundaries.</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/dashboard.py" line="+75"/>
        <source>企业风险等级</source>
        <translation>Enterprise risk levels</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+147"/>
        <source>按行业</source>
        <translation>By industry</translation>
    </message>
    <message>
        <location line="-142"/>
        <source>按镇街</source>
        <translation>By town</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>清除地图筛选</source>
        <translation>Clear map filter</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>规划指标进度</source>
        <translation>Plan indicator progress</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>逾期重大隐患</source>
        <translation>Overdue major hidden dangers</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../riskmap/ui/identify_panel.py" line="-218"/>
        <location line="+26"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+173"/>
        <location line="+7"/>
        <source>隐患</source>
        <translation>Hidden dangers</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/identify_panel.py" line="+168"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+513"/>
        <source>企业</source>
        <translation>Enterprise</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/identify_panel.py" line="-194"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-520"/>
        <source>整改期限</source>
        <translation>Deadline</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>逾期天数</source>
        <translation>Days overdue</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/identify_panel.py" line="+0"/>
        <location line="+2"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="-87"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+0"/>
        <source>状态</source>
        <translation>Status</translation>
    </message>
    <message>
        <location line="+123"/>
        <source>企业共 {n} 家，未评估 {u} 家，未定位 {l} 家</source>
        <translation>{n} enterprises, {u} not assessed, {l} not located</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>未知</source>
        <translation>Unknown</translation>
    </message>
    <message>
        <location line="-9"/>
        <source>按行业（{town}）</source>
        <translation>By industry ({town})</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>项目中暂无规划指标</source>
        <translation>The project has no plan indicators yet</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>无数据</source>
        <translation>No data</translation>
    </message>
    <message>
        <location line="+74"/>
        <source>地图已筛选：{what}（{n} 家企业）</source>
        <translation>Map filtered: {what} ({n} enterprises)</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>已清除地图筛选</source>
        <translation>Map filter cleared</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/errors.py" line="+47"/>
        <source>内存不足，操作未完成。</source>
        <translation>Out of memory; the operation was not completed.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>文件操作失败：{path}（{reason}）</source>
        <translation>File operation failed: {path} ({reason})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>文件操作失败（{reason}）</source>
        <translation>File operation failed ({reason})</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>程序内部错误，操作未完成。</source>
        <translation>Internal error; the operation was not completed.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>详细信息已写入日志：</source>
        <translation>Details were written to the log: </translation>
    </message>
    <message>
        <location line="+22"/>
        <location filename="../../riskmap/ui/tools/editing.py" line="+107"/>
        <source>riskmap 提示</source>
        <translation>riskmap</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/filter_dialog.py" line="-98"/>
        <source>筛选图层：</source>
        <translation>Filter layer: </translation>
    </message>
    <message>
        <location line="+13"/>
        <source>任意字段包含的文字</source>
        <translation>Text contained in any field</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>全选</source>
        <translation>Select all</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>全不选</source>
        <translation>Select none</translation>
    </message>
    <message>
        <location line="+4"/>
        <location filename="../../riskmap/ui/layers_panel.py" line="+345"/>
        <source>清除筛选</source>
        <translation>Clear filter</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../riskmap/ui/georef_dialog.py" line="+252"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="+170"/>
        <location filename="../../riskmap/ui/settings_dialog.py" line="+76"/>
        <source>确定</source>
        <translation>OK</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/export_dialog.py" line="+23"/>
        <source>GeoPackage（含 QGIS 样式）</source>
        <translation>GeoPackage (with QGIS styles)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Shapefile（压缩包）</source>
        <translation>Shapefile (zipped)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>KMZ（奥维、Google Earth）</source>
        <translation>KMZ (Ovital, Google Earth)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>DXF（CAD）</source>
        <translation>DXF (CAD)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Excel 工作簿</source>
        <translation>Excel workbook</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>离线网页地图</source>
        <translation>Offline web map</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+44"/>
        <source>导出数据</source>
        <translation>Export data</translation>
    </message>
    <message>
        <location line="-37"/>
        <source>GBK（旧版软件）</source>
        <translation>GBK (older software)</translation>
    </message>
    <message>
        <location line="+6"/>
        <location filename="../../riskmap/ui/main_window.py" line="+819"/>
        <source>{name}（{n}）</source>
        <translation>{name} ({n})</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/briefing_dialog.py" line="+19"/>
        <source>DOCX（Word/WPS 可编辑）</source>
        <translation>DOCX (editable in Word/WPS)</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>生成研判简报</source>
        <translation>Make risk briefing</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+73"/>
        <source>研判简报</source>
        <translation>Risk briefing</translation>
    </message>
    <message>
        <location line="-66"/>
        <source>如 3（印为“2026年第3期”）</source>
        <translation>e.g. 3 (printed as “2026 No. 3”)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>起始日期</source>
        <translation>Start date</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>截止日期</source>
        <translation>End date</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>期号</source>
        <translation>Issue</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../riskmap/ui/export_dialog.py" line="+7"/>
        <source>格式</source>
        <translation>Format</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>保存为</source>
        <translation>Save as</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>保存研判简报</source>
        <translation>Save risk briefing</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>生成研判简报…</source>
        <translation>Make risk briefing…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>两个日期之间的研判简报（DOCX 或 PDF）：一张图、关键数字及变化、分镇街表、升级企业和逾期重大隐患</source>
        <translation>The risk briefing between two dates (DOCX or PDF): the risk map, key figures and their change, a table by town, raised enterprises and overdue major hidden dangers</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>{name}研判简报</source>
        <translation>{name} risk briefing</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>研判简报已保存：{path}</source>
        <translation>Risk briefing saved: {path}</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>正在生成研判简报</source>
        <translation>Making the risk briefing</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/export_dialog.py" line="+1"/>
        <source>Shapefile 编码</source>
        <translation>Shapefile encoding</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>保存到</source>
        <translation>Save to</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>导出</source>
        <translation>Export</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/filter_dialog.py" line="+1"/>
        <location filename="../../riskmap/ui/forms.py" line="+25"/>
        <location filename="../../riskmap/ui/georef_dialog.py" line="+3"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="+480"/>
        <location filename="../../riskmap/ui/new_project_dialog.py" line="+173"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="+1"/>
        <location filename="../../riskmap/ui/tasks.py" line="+90"/>
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location line="+34"/>
        <source>请至少选择一个图层</source>
        <translation>Choose at least one layer</translation>
    </message>
    <message>
        <location line="+10"/>
        <location filename="../../riskmap/ui/print_dialog.py" line="+425"/>
        <location line="+1"/>
        <source>已导出：{path}</source>
        <translation>Exported: {path}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>正在导出数据</source>
        <translation>Exporting data</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/briefing_dialog.py" line="-33"/>
        <location filename="../../riskmap/ui/export_dialog.py" line="+5"/>
        <location filename="../../riskmap/ui/first_steps.py" line="+280"/>
        <location line="+14"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="+121"/>
        <location filename="../../riskmap/ui/print_dialog.py" line="+34"/>
        <source>请先打开项目</source>
        <translation>Open a project first</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/export_dialog.py" line="+7"/>
        <source>导出数据…</source>
        <translation>Export data…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/filter_dialog.py" line="+4"/>
        <location filename="../../riskmap/ui/identify_panel.py" line="-8"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="-775"/>
        <location line="+496"/>
        <source>字段</source>
        <translation>Field</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>文字</source>
        <translation>Text</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>正在读取字段值…</source>
        <translation>Reading the field values…</translation>
    </message>
    <message>
        <location line="+91"/>
        <location line="+14"/>
        <location line="+9"/>
        <source>将显示 {n} / {total} 个要素</source>
        <translation>{n} / {total} features will be shown</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/identify_panel.py" line="-14"/>
        <source>要素</source>
        <translation>Feature</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/export_dialog.py" line="-65"/>
        <location filename="../../riskmap/ui/identify_panel.py" line="+0"/>
        <location filename="../../riskmap/ui/main_window.py" line="-752"/>
        <location line="+443"/>
        <source>图层</source>
        <translation>Layers</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/identify_panel.py" line="+7"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+516"/>
        <location line="+4"/>
        <source>厂区图</source>
        <translation>Plant map</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>打开该企业的厂区平面图、风险点和告知卡</source>
        <translation>Open the enterprise&apos;s plant layout, risk points and cards</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>使用“识别”工具单击地图上的要素</source>
        <translation>Click a feature on the map with the Identify tool</translation>
    </message>
    <message>
        <location line="+3"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="+0"/>
        <source>值</source>
        <translation>Value</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-522"/>
        <source>项目</source>
        <translation>Item</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+0"/>
        <source>内容</source>
        <translation>Content</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+4"/>
        <location filename="../../riskmap/ui/timeline.py" line="+844"/>
        <source>时间</source>
        <translation>Time</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>对象</source>
        <translation>Object</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-4"/>
        <location line="+8"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="-24"/>
        <source>方法</source>
        <translation>Method</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+2"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-2"/>
        <source>等级</source>
        <translation>Level</translation>
    </message>
    <message>
        <location line="-2"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-6"/>
        <location line="+8"/>
        <source>分值</source>
        <translation>Score</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+4"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="+51"/>
        <location filename="../../riskmap/ui/timeline.py" line="-341"/>
        <source>说明</source>
        <translation>Explanation</translation>
    </message>
    <message>
        <location line="-4"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="+7"/>
        <source>评估人</source>
        <translation>Assessor</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/locate.py" line="+29"/>
        <location filename="../../riskmap/ui/new_project_dialog.py" line="-47"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-8"/>
        <location line="+8"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="-13"/>
        <location filename="../../riskmap/ui/settings_dialog.py" line="-12"/>
        <location filename="../../riskmap/ui/timeline.py" line="-1"/>
        <source>名称</source>
        <translation>Name</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="+1"/>
        <source>类型</source>
        <translation>Type</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/locate.py" line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-8"/>
        <location line="+8"/>
        <source>风险等级</source>
        <translation>Risk level</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+0"/>
        <source>重大危险源</source>
        <translation>Major hazard</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>发现日期</source>
        <translation>Found</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-2"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="+21"/>
        <source>责任人</source>
        <translation>Responsible</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>督办部门</source>
        <translation>Supervising dept.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>经办人</source>
        <translation>Handled by</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>保存二维码图片…</source>
        <translation>Save QR code image…</translation>
    </message>
    <message>
        <location line="+12"/>
        <location filename="../../riskmap/ui/tools/editing.py" line="+321"/>
        <source>属性</source>
        <translation>Attributes</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>五个清单</source>
        <translation>Five lists</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+5"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="-131"/>
        <location line="+134"/>
        <source>风险点</source>
        <translation>Risk points</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>评估记录</source>
        <translation>Assessments</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>定级依据</source>
        <translation>Level basis</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>处置过程</source>
        <translation>Lifecycle</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>一企一码</source>
        <translation>QR code</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>找到 {n} 个要素</source>
        <translation>{n} features found</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>此处没有要素</source>
        <translation>No feature here</translation>
    </message>
    <message>
        <location line="+63"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+592"/>
        <source>厂区图…</source>
        <translation>Plant map…</translation>
    </message>
    <message>
        <location line="+43"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-412"/>
        <source>（未填写）</source>
        <translation>(not filled in)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>外部安全防护距离不足</source>
        <translation>External safety distance insufficient</translation>
    </message>
    <message>
        <location line="+10"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-37"/>
        <source>一级</source>
        <translation>Grade 1</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+0"/>
        <source>二级</source>
        <translation>Grade 2</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+0"/>
        <source>三级</source>
        <translation>Grade 3</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/plant_view.py" line="+0"/>
        <source>四级</source>
        <translation>Grade 4</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>{name}（{kind}）</source>
        <translation>{name} ({kind})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>风险等级：{level}</source>
        <translation>Risk level: {level}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>分级规则：{rule}</source>
        <translation>Grading rule: {rule}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>定级理由：{reason}</source>
        <translation>Reason for the level: {reason}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&lt;b&gt;决定等级的对象&lt;/b&gt;（{n}）：</source>
        <translation>&lt;b&gt;Objects deciding the level&lt;/b&gt; ({n}):</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>{name}：{level}</source>
        <translation>{name}: {level}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>该区域尚未分级：在“风险分区”面板选择单元和规则后计算。</source>
        <translation>This zone is not graded yet: choose a unit and a rule in the Risk zoning panel.</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>保存二维码图片</source>
        <translation>Save QR code image</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/layers_panel.py" line="-277"/>
        <source>当前图层的不透明度</source>
        <translation>Opacity of the current layer</translation>
    </message>
    <message>
        <location line="+6"/>
        <location line="+269"/>
        <source>筛选…</source>
        <translation>Filter…</translation>
    </message>
    <message>
        <location line="-267"/>
        <source>属性表</source>
        <translation>Attribute table</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>不透明度</source>
        <translation>Opacity</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>在线瓦片底图，始终绘制在所有图层之下</source>
        <translation>Online tile base map, always drawn below every layer</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>已筛选</source>
        <translation>Filtered</translation>
    </message>
    <message>
        <location line="+147"/>
        <source>筛选：显示 {shown} / {total}</source>
        <translation>Filter: showing {shown} / {total}</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>缩放到图层</source>
        <translation>Zoom to layer</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/main_window.py" line="+70"/>
        <source>打开属性表</source>
        <translation>Open attribute table</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>上移一层</source>
        <translation>Move up</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>下移一层</source>
        <translation>Move down</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>上移分组</source>
        <translation>Move group up</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>下移分组</source>
        <translation>Move group down</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/legend_panel.py" line="+27"/>
        <location filename="../../riskmap/ui/main_window.py" line="-69"/>
        <source>图例</source>
        <translation>Legend</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/timeline.py" line="+55"/>
        <source>数量</source>
        <translation>Count</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>仅统计当前视图</source>
        <translation>Count only the current view</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/import_wizard.py" line="-676"/>
        <source>县（区）界</source>
        <translation>County boundary</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>乡镇/街道</source>
        <translation>Towns</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>村/社区</source>
        <translation>Villages</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>网格</source>
        <translation>Grids</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>化工园区</source>
        <translation>Chemical park</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>工业园区</source>
        <translation>Industrial park</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>功能区</source>
        <translation>Functional area</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>自定义区域</source>
        <translation>Custom area</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>选择文件和图层</source>
        <translation>Choose file and layer</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>支持 Excel、CSV、Shapefile、GeoPackage、GeoJSON、KML/KMZ、DXF。</source>
        <translation>Excel, CSV, Shapefile, GeoPackage, GeoJSON, KML/KMZ and DXF are supported.</translation>
    </message>
    <message>
        <location line="+13"/>
        <location line="+22"/>
        <location line="+35"/>
        <source>（自动）</source>
        <translation>(automatic)</translation>
    </message>
    <message>
        <location line="-54"/>
        <source>自动识别</source>
        <translation>Detect automatically</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../riskmap/ui/main_window.py" line="-444"/>
        <source>文件</source>
        <translation>File</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导入到图层</source>
        <translation>Import into layer</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>分区类型</source>
        <translation>Zone type</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>工作表/源图层</source>
        <translation>Sheet / source layer</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>表头所在行</source>
        <translation>Header row</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>选择要导入的文件</source>
        <translation>Choose the file to import</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>数据文件 ({patterns});;所有文件 (*)</source>
        <translation>Data files ({patterns});;All files (*)</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>按文件中的类型列</source>
        <translation>From the type column in the file</translation>
    </message>
    <message>
        <location line="+36"/>
        <location line="+94"/>
        <source>字段对应</source>
        <translation>Field mapping</translation>
    </message>
    <message>
        <location line="-93"/>
        <source>已按表头自动对应，带 * 的为必填字段。可调整，也可载入或保存对应关系。</source>
        <translation>Fields were matched by their headers; * marks required fields. Adjust them, or load or save the mapping.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>文件中的列</source>
        <translation>Column in the file</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>示例值</source>
        <translation>Sample value</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>载入对应…</source>
        <translation>Load mapping…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>保存对应…</source>
        <translation>Save mapping…</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>经度 / X</source>
        <translation>Longitude / X</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>纬度 / Y</source>
        <translation>Latitude / Y</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>经纬度（同一列）</source>
        <translation>Lon/lat (one column)</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>载入字段对应</source>
        <translation>Load field mapping</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>保存字段对应</source>
        <translation>Save field mapping</translation>
    </message>
    <message>
        <location line="+11"/>
        <location line="+10"/>
        <source>坐标系</source>
        <translation>Coordinate system</translation>
    </message>
    <message>
        <location line="-9"/>
        <source>坐标取自高德、腾讯地图的选 GCJ-02，取自百度地图的选 BD-09。</source>
        <translation>Choose GCJ-02 for coordinates taken from Amap or Tencent maps, BD-09 for Baidu maps.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>EPSG 代码，如 4523</source>
        <translation>EPSG code, e.g. 4523</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>自动修复无效几何（如自相交）和颠倒的经纬度</source>
        <translation>Repair invalid geometry (e.g. self-intersections) and swapped lon/lat automatically</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>其他坐标系</source>
        <translation>Other coordinate system</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>文件声明</source>
        <translation>Declared in the file</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>自动（按文件声明，或按县域识别）</source>
        <translation>Automatic (as declared, or recognised from the county)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CGCS2000 经纬度（EPSG:4490）</source>
        <translation>CGCS2000 lon/lat (EPSG:4490)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>WGS84 经纬度（EPSG:4326，GPS）</source>
        <translation>WGS84 lon/lat (EPSG:4326, GPS)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GCJ-02（高德、腾讯地图）</source>
        <translation>GCJ-02 (Amap, Tencent maps)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>BD-09（百度地图）</source>
        <translation>BD-09 (Baidu maps)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>本县高斯-克吕格 3 度带（EPSG:{code}）</source>
        <translation>The county&apos;s Gauss–Krüger 3° zone (EPSG:{code})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Web 墨卡托（EPSG:3857）</source>
        <translation>Web Mercator (EPSG:3857)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>其他 EPSG 代码…</source>
        <translation>Other EPSG code…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/georef_dialog.py" line="-221"/>
        <source>左上</source>
        <translation>top left</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>右上</source>
        <translation>top right</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>右下</source>
        <translation>bottom right</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>左下</source>
        <translation>bottom left</translation>
    </message>
    <message>
        <location line="+102"/>
        <source>打开厂区平面图（图像或 PDF）</source>
        <translation>Open a plant layout (image or PDF)</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>配准厂区平面图</source>
        <translation>Georeference the plant layout</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>打开平面图…</source>
        <translation>Open layout…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>（未打开）</source>
        <translation>(none open)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>页码</source>
        <translation>Page</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>控制点</source>
        <translation>Control points</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>四角</source>
        <translation>Corners</translation>
    </message>
    <message>
        <location line="+18"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="+45"/>
        <location line="+322"/>
        <source>行</source>
        <translation>Row</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>点</source>
        <translation>Point</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>列</source>
        <translation>Column</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>经度</source>
        <translation>Longitude</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>纬度</source>
        <translation>Latitude</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>残差(m)</source>
        <translation>Residual (m)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>删除点</source>
        <translation>Delete point</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>平面图 (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.pdf);;PDF (*.pdf);;图像 (*.png *.jpg *.jpeg *.tif *.tiff *.bmp)</source>
        <translation>Layouts (*.png *.jpg *.jpeg *.tif *.tiff *.bmp *.pdf);;PDF (*.pdf);;Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>打开厂区平面图</source>
        <translation>Open a plant layout</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>无法显示该平面图</source>
        <translation>This layout cannot be shown</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>（共 {n} 页）</source>
        <translation> ({n} pages)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>正在读取平面图</source>
        <translation>Reading the layout</translation>
    </message>
    <message>
        <location line="+72"/>
        <source>经纬度应为十进制度数，如 105.3771</source>
        <translation>Longitude and latitude are decimal degrees, e.g. 105.3771</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>相似变换</source>
        <translation>Similarity</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>仿射变换</source>
        <translation>Affine</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{method}，{n} 个控制点：中误差 RMS {rms:.2f} m，最大残差 {max:.2f} m，比例 {scale:.3f} m/像素</source>
        <translation>{method}, {n} control points: RMS {rms:.2f} m, largest residual {max:.2f} m, scale {scale:.3f} m/pixel</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>先打开厂区平面图（PNG、JPEG、TIFF、BMP 或 PDF）。</source>
        <translation>Open the plant layout first (PNG, JPEG, TIFF, BMP or PDF).</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>在右侧地图上依次单击厂区的{corners}角。</source>
        <translation>On the map at the right, click the plant&apos;s corners in turn: {corners}.</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>四角已定：检查预览后单击“确定”。</source>
        <translation>All four corners set: check the preview, then click OK.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>在左侧平面图上单击一个明显的点（墙角、路口），再在右侧地图上单击同一点；至少 2 个点，3 个以上可看残差。也可在表中输入经纬度。</source>
        <translation>Click a clear point on the layout at the left (a wall corner, a crossing), then the same point on the map at the right; at least 2 points, 3 or more show residuals. Longitude and latitude can also be typed in the table.</translation>
    </message>
    <message>
        <location line="+72"/>
        <source>正在保存平面图</source>
        <translation>Saving the layout</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/import_wizard.py" line="-322"/>
        <source>与项目比对</source>
        <translation>Against the project</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+98"/>
        <source>位置</source>
        <translation>Location</translation>
    </message>
    <message>
        <location line="-41"/>
        <source>可导入</source>
        <translation>Importable</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+315"/>
        <source>错误</source>
        <translation>Error</translation>
    </message>
    <message>
        <location line="-315"/>
        <location line="+315"/>
        <source>已修复</source>
        <translation>Repaired</translation>
    </message>
    <message>
        <location line="-315"/>
        <location line="+315"/>
        <source>警告</source>
        <translation>Warning</translation>
    </message>
    <message>
        <location line="-314"/>
        <source>跳过</source>
        <translation>Skipped</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>更新项目中的企业（id={id}）：</source>
        <translation>Updates the enterprise of the project (id={id}):</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{field}：{old} → {new}</source>
        <translation>{field}: {old} → {new}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>新增</source>
        <translation>New</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>无变化</source>
        <translation>Unchanged</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>所属分区</source>
        <translation>Zone</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>（{fields}）</source>
        <translation> ({fields})</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{field} {n} 家</source>
        <translation>{field}: {n}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>新增 {new} 家，更新 {changed} 家{fields}，无变化 {same} 家，新名单中没有 {missing} 家；未定位 {unlocated} 家，未评估 {unassessed} 家，行业按“其他” {other} 家</source>
        <translation>{new} new, {changed} updated{fields}, {same} unchanged, {missing} not in the new list; {unlocated} not located, {unassessed} not assessed, {other} with industry “Other”</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/georef_dialog.py" line="-308"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="+108"/>
        <location filename="../../riskmap/ui/print_dialog.py" line="-268"/>
        <location line="+197"/>
        <source>预览</source>
        <translation>Preview</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/import_wizard.py" line="+1"/>
        <source>红色为有错误的行，橙色为已自动修复的行；把鼠标停在行上可看原因。</source>
        <translation>Red rows have errors, orange rows were repaired; hover over a row to see why.</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>在主窗口地图上显示</source>
        <translation>Show on the main map</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>正在校验……</source>
        <translation>Checking…</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>共 {n} 行：可导入 {good} 行，有错误 {bad} 行，已修复 {rep} 处</source>
        <translation>{n} rows: {good} importable, {bad} with errors, {rep} repairs</translation>
    </message>
    <message>
        <location line="+31"/>
        <location line="+120"/>
        <source>校验报告</source>
        <translation>Check report</translation>
    </message>
    <message>
        <location line="-117"/>
        <source>级别</source>
        <translation>Severity</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>原因</source>
        <translation>Reason</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>企业名称</source>
        <translation>Enterprise name</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>乡镇</source>
        <translation>Town</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>跳过有错误的行，只导入正确的行</source>
        <translation>Skip rows with errors and import only the correct ones</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>导出报告…</source>
        <translation>Export report…</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>{bad} 行有错误，{good} 行可导入。改正文件后重新导入，或勾选下方选项只导入正确的行。</source>
        <translation>{bad} rows have errors, {good} can be imported. Correct the file and import again, or tick the option below to import only the correct rows.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>全部 {good} 行可导入，将在一次操作中写入项目。</source>
        <translation>All {good} rows can be imported; they are written to the project in one operation.</translation>
    </message>
    <message>
        <location line="+8"/>
        <location line="+83"/>
        <source>导入</source>
        <translation>Import</translation>
    </message>
    <message>
        <location line="-65"/>
        <source>查看新名单中没有的 {n} 家企业</source>
        <translation>Show the {n} enterprises not in the new list</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>删除新名单中没有的 {n} 家企业</source>
        <translation>Delete the {n} enterprises not in the new list</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>导出校验报告</source>
        <translation>Export check report</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>导入数据</source>
        <translation>Import data</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>&lt; 上一步</source>
        <translation>&lt; Back</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>下一步 &gt;</source>
        <translation>Next &gt;</translation>
    </message>
    <message>
        <location line="+23"/>
        <location line="+12"/>
        <source>正在读取文件</source>
        <translation>Reading the file</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>正在校验</source>
        <translation>Checking</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>已导入 {n} 行到“{layer}”</source>
        <translation>{n} rows imported into “{layer}”</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>已导入“{layer}”：新增 {added} 家，更新 {updated} 家，无变化 {same} 家，删除 {deleted} 家</source>
        <translation>Imported into “{layer}”: {added} added, {updated} updated, {same} unchanged, {deleted} deleted</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>；新名单中没有的 {n} 家未删除</source>
        <translation>; {n} not in the new list kept (not deleted)</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>删除企业</source>
        <translation>Delete enterprises</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>将从项目中删除新名单中没有的 {n} 家企业（连同其评估记录），确定吗？</source>
        <translation>Delete from the project the {n} enterprises not in the new list (with their assessments)?</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>正在导入</source>
        <translation>Importing</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>导入数据…</source>
        <translation>Import data…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/main_window.py" line="+0"/>
        <source>视图</source>
        <translation>View</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>地图</source>
        <translation>Map</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>分析</source>
        <translation>Analysis</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>工具</source>
        <translation>Tools</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>帮助</source>
        <translation>Help</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>查看者</source>
        <translation>viewer</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>编辑者</source>
        <translation>editor</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>评估者</source>
        <translation>assessor</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>管理员</source>
        <translation>administrator</translation>
    </message>
    <message>
        <location line="+426"/>
        <source>识别结果</source>
        <translation>Identify</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>统计看板</source>
        <translation>Dashboard</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>风险分区</source>
        <translation>Risk zoning</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>打开项目…</source>
        <translation>Open project…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>打开示例项目</source>
        <translation>Open demo project</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>最近打开</source>
        <translation>Recent projects</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>退出</source>
        <translation>Quit</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>面板</source>
        <translation>Panels</translation>
    </message>
    <message>
        <location line="+3"/>
        <location filename="../../riskmap/ui/settings_dialog.py" line="-32"/>
        <source>显示标注</source>
        <translation>Show labels</translation>
    </message>
    <message>
        <location line="+3"/>
        <location filename="../../riskmap/ui/settings_dialog.py" line="+5"/>
        <source>地图坐标系</source>
        <translation>Map coordinate system</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>高斯-克吕格 3 度带（项目坐标系）</source>
        <translation>Gauss–Krüger 3° zone (project CRS)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Web 墨卡托</source>
        <translation>Web Mercator</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>平移</source>
        <translation>Pan</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>框选放大</source>
        <translation>Zoom to box</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>识别要素</source>
        <translation>Identify features</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>选择要素</source>
        <translation>Select features</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>放大</source>
        <translation>Zoom in</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>缩小</source>
        <translation>Zoom out</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>全图</source>
        <translation>Full extent</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>缩放到选中要素</source>
        <translation>Zoom to selection</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>缩放到当前图层</source>
        <translation>Zoom to current layer</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>上一视图</source>
        <translation>Previous view</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>下一视图</source>
        <translation>Next view</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>取消全部选择</source>
        <translation>Clear all selections</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>刷新地图</source>
        <translation>Refresh map</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>筛选当前图层…</source>
        <translation>Filter current layer…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>清除全部筛选</source>
        <translation>Clear all filters</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>在线底图…</source>
        <translation>Online base maps…</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>设置…</source>
        <translation>Settings…</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/settings_dialog.py" line="-1"/>
        <source>界面语言</source>
        <translation>Interface language</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/about_dialog.py" line="+28"/>
        <source>独立安装包，构建于 {date}</source>
        <translation>Self-contained bundle, built {date}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>（提交 {commit}）</source>
        <translation> (commit {commit})</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>独立安装包</source>
        <translation>Self-contained bundle</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>从源代码运行</source>
        <translation>Running from source</translation>
    </message>
    <message>
        <location line="+8"/>
        <location filename="../../riskmap/ui/main_window.py" line="+9"/>
        <source>关于 riskmap</source>
        <translation>About riskmap</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>县域安全风险四色图“一张图”桌面程序。下面是它所包含的软件、字体和数据及其许可证全文。</source>
        <translation>Desktop program for the county safety-risk four-colour map. Below: the software, fonts and data it carries, with the full texts of their licences.</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>所含组件（{n} 项）</source>
        <translation>Components ({n})</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>（未找到许可证文本）</source>
        <translation>(licence text not found)</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/main_window.py" line="+5"/>
        <source>地图工具</source>
        <translation>Map tools</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>比例尺（可输入，如 1:25000）</source>
        <translation>Scale (type e.g. 1:25000)</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>示例数据</source>
        <translation>Demo data</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>比例尺</source>
        <translation>Scale</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>没有找到“{t}”</source>
        <translation>Nothing found for “{t}”</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>打开项目</source>
        <translation>Open project</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>riskmap 项目 (*.gpkg);;所有文件 (*)</source>
        <translation>riskmap projects (*.gpkg);;All files (*)</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>正在读取项目</source>
        <translation>Reading the project</translation>
    </message>
    <message>
        <location line="+69"/>
        <source>正在打开项目</source>
        <translation>Opening the project</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>正在加载：{names}</source>
        <translation>Loading: {names}</translation>
    </message>
    <message>
        <location line="+66"/>
        <source>项目以只读方式打开，不能修改</source>
        <translation>The project is open read-only: it cannot be changed</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/registry.py" line="+28"/>
        <source>当前用户无权修改风险等级和分区（需要评估者角色）</source>
        <translation>You may not change risk levels or zoning (needs the assessor role)</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>当前用户无权编辑要素（需要编辑者角色）</source>
        <translation>You may not edit features (needs the editor role)</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/main_window.py" line="+39"/>
        <source>只读：项目以只读方式打开</source>
        <translation>Read-only: the project is open read-only</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>只读：当前用户为查看者</source>
        <translation>Read-only: you are a viewer</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>编辑者：可编辑要素，不能修改风险等级和分区</source>
        <translation>Editor: you may edit features but not risk levels or zoning</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>评估者：可修改风险等级和分区，不能编辑要素</source>
        <translation>Assessor: you may change risk levels and zoning but not edit features</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>用户：{user}；角色：{roles}</source>
        <translation>User: {user}; roles: {roles}</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>数据库中的数据已更新，已重新加载：{names}</source>
        <translation>Data changed in the database; reloaded: {names}</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>正在创建示例项目（会宁县，虚构数据）</source>
        <translation>Creating the demo project (Huining, fictitious data)</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/import_wizard.py" line="-648"/>
        <location filename="../../riskmap/ui/main_window.py" line="+6"/>
        <source>（无）</source>
        <translation>(none)</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/main_window.py" line="+7"/>
        <source>riskmap 安全风险一张图</source>
        <translation>riskmap safety-risk map</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>（只读）</source>
        <translation> (read-only)</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>正在转换坐标系</source>
        <translation>Changing the coordinate system</translation>
    </message>
    <message>
        <location line="+71"/>
        <source>属性表：{layer}</source>
        <translation>Attribute table: {layer}</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>请先在图层面板中选择一个图层</source>
        <translation>Choose a layer in the Layers panel first</translation>
    </message>
    <message>
        <location line="+50"/>
        <source>经度 {lon:.6f}° 纬度 {lat:.6f}°  X {x:.1f} Y {y:.1f}</source>
        <translation>Lon {lon:.6f}° Lat {lat:.6f}°  X {x:.1f} Y {y:.1f}</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>比例尺格式应为 1:25000</source>
        <translation>Write the scale as 1:25000</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>地图显示坐标系；数据保存为 CGCS2000（EPSG:4490）</source>
        <translation>Display coordinate system; data are stored in CGCS2000 (EPSG:4490)</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/planning.py" line="-160"/>
        <location line="+27"/>
        <source>无</source>
        <translation>None</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>，{n} 人</source>
        <translation>, {n} people</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>（按类型/人数推定）</source>
        <translation> (inferred from type/people)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>位于</source>
        <translation> is inside </translation>
    </message>
    <message>
        <location line="+0"/>
        <source>内，距边界 {d:.1f} m</source>
        <translation>, {d:.1f} m from its boundary</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>；{s}装置风险基准 {t}/年</source>
        <translation>; {s} installation risk criterion {t}/year</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>依据：</source>
        <translation>Source: </translation>
    </message>
    <message>
        <location line="+5"/>
        <source>潜在影响半径 {p:.1f} m，</source>
        <translation>potential impact radius {p:.1f} m, </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>（Φ{d:g} mm，{p:g} MPa，{pir}准则 {rule}，识别半径 {rad:.1f} m）：</source>
        <translation> (Φ{d:g} mm, {p:g} MPa, {pir}rule {rule}, identification radius {rad:.1f} m): </translation>
    </message>
    <message>
        <location line="+6"/>
        <source>安全控制线</source>
        <translation>Safety control line</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> 穿越 </source>
        <translation> crosses </translation>
    </message>
    <message>
        <location line="+19"/>
        <source>使用“分析”菜单中的规划工具，结果显示在这里</source>
        <translation>Use the planning tools in the Analysis menu; results appear here</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>保存 HTML…</source>
        <translation>Save HTML…</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/print_dialog.py" line="-192"/>
        <source>导出 PDF…</source>
        <translation>Export PDF…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导出 Excel…</source>
        <translation>Export Excel…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>查询半径</source>
        <translation>Search radius</translation>
    </message>
    <message>
        <location line="+35"/>
        <source>保存 HTML</source>
        <translation>Save HTML</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>网页 (*.html)</source>
        <translation>Web page (*.html)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>导出 PDF</source>
        <translation>Export PDF</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/print_dialog.py" line="+207"/>
        <source>PDF 文件 (*.pdf)</source>
        <translation>PDF file (*.pdf)</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>导出 Excel</source>
        <translation>Export Excel</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>导入个人风险等值线</source>
        <translation>Import individual-risk contours</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/forms.py" line="-12"/>
        <location filename="../../riskmap/ui/import_wizard.py" line="-225"/>
        <source>浏览…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/planning.py" line="+3"/>
        <source>如 IR；DXF 文件留空则用图层名</source>
        <translation>e.g. IR; for DXF leave empty to use the layer name</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>全部等值线同一风险值，如 3e-7</source>
        <translation>One risk value for all contours, e.g. 3e-7</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>名称=风险值，如 IR7=3e-7, IR6=3e-6</source>
        <translation>name=value, e.g. IR7=3e-7, IR6=3e-6</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../riskmap/ui/tools/editing.py" line="+53"/>
        <source>在役装置</source>
        <translation>In service</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/tools/editing.py" line="+0"/>
        <source>新建装置</source>
        <translation>New installation</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>（不指定）</source>
        <translation>(not specified)</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>如《某公司安全评价报告》</source>
        <translation>e.g. the company&apos;s safety assessment report</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>文件（GPKG/SHP/DXF）</source>
        <translation>File (GPKG/SHP/DXF)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>风险值字段</source>
        <translation>Risk value field</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>或统一风险值</source>
        <translation>or one risk value</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>名称对应</source>
        <translation>Name mapping</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>装置状态</source>
        <translation>Installation status</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>所属企业</source>
        <translation>Enterprise</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>装置/设施</source>
        <translation>Installation / facility</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>来源文件</source>
        <translation>Source document</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>选择等值线文件</source>
        <translation>Choose a contour file</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>等值线 (*.gpkg *.shp *.dxf *.geojson)</source>
        <translation>Contours (*.gpkg *.shp *.dxf *.geojson)</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>规划分析</source>
        <translation>Planning analysis</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>已保存 {n} 处修改</source>
        <translation>{n} changes saved</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/main_window.py" line="-1092"/>
        <source>编辑</source>
        <translation>Edit</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/planning.py" line="+35"/>
        <source>开始编辑</source>
        <translation>Start editing</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>保存编辑</source>
        <translation>Save edits</translation>
    </message>
    <message>
        <location line="+3"/>
        <location filename="../../riskmap/ui/tools/editing.py" line="-370"/>
        <source>停止编辑</source>
        <translation>Stop editing</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>撤销</source>
        <translation>Undo</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>重做</source>
        <translation>Redo</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>绘制要素</source>
        <translation>Draw feature</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>单击添加节点，回车或右键结束；Backspace 删除上一个节点；Esc 取消</source>
        <translation>Click to add vertices, Enter or right-click to finish; Backspace removes the last vertex; Esc cancels</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/tools/editing.py" line="+258"/>
        <source>绘制洞</source>
        <translation>Draw hole</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>在面要素内画出洞的边界</source>
        <translation>Draw the outline of a hole inside a polygon</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>选择与编辑节点</source>
        <translation>Select and edit vertices</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>单击选择要素；拖动节点移动；双击边添加节点；Delete 删除选中节点</source>
        <translation>Click to select a feature; drag a vertex to move it; double-click an edge to add a vertex; Delete removes the selected vertex</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/tools/editing.py" line="+28"/>
        <source>分割要素</source>
        <translation>Split feature</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>画一条穿过要素的线将其分割</source>
        <translation>Draw a line across a feature to split it</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>合并选中要素</source>
        <translation>Merge selected features</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>删除选中要素</source>
        <translation>Delete selected features</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>编辑属性…</source>
        <translation>Edit attributes…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>吸附到节点和边</source>
        <translation>Snap to vertices and edges</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>规划检查（侵占、高后果区、穿越）</source>
        <translation>Planning check (encroachment, high-consequence segments, crossings)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>按外部安全距离生成控制线</source>
        <translation>Control lines from external safety distances</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>导入个人风险等值线…</source>
        <translation>Import individual-risk contours…</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>生命线管段分级</source>
        <translation>Grade lifeline segments</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>选址检查（点）</source>
        <translation>Site check (point)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>选址检查（地块）</source>
        <translation>Site check (parcel)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>一点即现</source>
        <translation>What&apos;s here</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>单击地图，查看周边对象、人员和最近的应急资源</source>
        <translation>Click the map to see the objects and people around and the nearest emergency resources</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>量算距离</source>
        <translation>Measure distance</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>量算面积</source>
        <translation>Measure area</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>规划工具</source>
        <translation>Planning tools</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>正在编辑：{name}</source>
        <translation>Editing: {name}</translation>
    </message>
    <message>
        <location line="+85"/>
        <source>正在进行规划检查</source>
        <translation>Running the planning check</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>规划检查：侵占 {a} 处，高后果区 {b} 处，穿越 {c} 处</source>
        <translation>Planning check: {a} encroachments, {b} high-consequence segments, {c} crossings</translation>
    </message>
    <message>
        <location line="-443"/>
        <location line="+461"/>
        <source>新建</source>
        <translation>New</translation>
    </message>
    <message>
        <location line="-510"/>
        <source>{mark}：本页内容为虚构演示数据。</source>
        <translation>{mark}: this page shows fictitious demo data.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>（{mark}）</source>
        <translation> ({mark})</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>{target}（{cls}{people}）</source>
        <translation>{target} ({cls}{people})</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>在役</source>
        <translation>In-service</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>一、防护目标侵占（GB 36894）：{n}</source>
        <translation>1. Protected targets encroached on (GB 36894): {n}</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>二、输气管道高后果区（GB 32167）：{n}</source>
        <translation>2. High-consequence areas of gas pipelines (GB 32167): {n}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>（{what}）{length}</source>
        <translation> ({what}) {length}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>三、生命线穿越红橙风险区及安全控制线：{n}</source>
        <translation>3. Lifelines crossing red/orange risk zones and safety control lines: {n}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>规划检查：{project}</source>
        <translation>Planning check: {project}</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/import_wizard.py" line="+352"/>
        <location filename="../../riskmap/ui/planning.py" line="+440"/>
        <source>更新</source>
        <translation>Update</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/planning.py" line="+2"/>
        <source>按外部安全距离生成的控制线</source>
        <translation>Control lines from external safety distances</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>控制线</source>
        <translation>Control line</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>操作</source>
        <translation>Action</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>设施数</source>
        <translation>Facilities</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>依据</source>
        <translation>Basis</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>已生成 {n} 条草稿控制线</source>
        <translation>{n} draft control lines made</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>正在生成安全控制线</source>
        <translation>Making safety control lines</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>已导入 {n} 条等值线</source>
        <translation>{n} contours imported</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>正在导入等值线</source>
        <translation>Importing contours</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>生命线分级完成，{n} 段等级有变化</source>
        <translation>Lifeline grading done; {n} segments changed level</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>正在进行生命线分级</source>
        <translation>Grading lifelines</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>选址检查：位于 {n} 条控制线内</source>
        <translation>Site check: inside {n} control lines</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>选址检查</source>
        <translation>Site check</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/search.py" line="+86"/>
        <source>搜索企业名称、地址或镇街</source>
        <translation>Search enterprise name, address or town</translation>
    </message>
    <message>
        <location line="+96"/>
        <source>……另有 {n} 项，请输入更多文字</source>
        <translation>… {n} more; type more to narrow down</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/main_window.py" line="+0"/>
        <location filename="../../riskmap/ui/settings_dialog.py" line="-13"/>
        <source>设置</source>
        <translation>Settings</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/settings_dialog.py" line="+6"/>
        <source>高斯-克吕格 3 度带（CGCS2000，项目默认）</source>
        <translation>Gauss–Krüger 3° zone (CGCS2000, project default)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Web 墨卡托（EPSG:3857，与在线底图一致）</source>
        <translation>Web Mercator (EPSG:3857, as online base maps)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>常规</source>
        <translation>General</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>更改界面语言后，主窗口会立即以新语言重建。</source>
        <translation>After a language change the main window is rebuilt in the new language at once.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>在线底图（默认关闭；离线时仅显示项目自带边界）</source>
        <translation>Online base maps (off by default; offline, the project&apos;s own boundaries are shown)</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>天地图密钥 tk（在天地图官网申请）</source>
        <translation>Tianditu key tk (apply on the Tianditu website)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>矢量</source>
        <translation>Vector</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>影像</source>
        <translation>Imagery</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>地形</source>
        <translation>Terrain</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>添加天地图</source>
        <translation>Add Tianditu</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>添加地址</source>
        <translation>Add URL</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>删除选中的底图</source>
        <translation>Remove selected base maps</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>自定义底图</source>
        <translation>Custom base map</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/tasks.py" line="+1"/>
        <source>请稍候</source>
        <translation>Please wait</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/zoning_panel.py" line="+51"/>
        <source>重新计算</source>
        <translation>Recompute</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>分区单元</source>
        <translation>Zoning unit</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>定级规则</source>
        <translation>Grading rule</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>项目只读，显示项目中保存的分区等级。</source>
        <translation>The project is read-only: showing the zone levels stored in it.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>当前用户无权修改分区等级，显示项目中保存的分区等级。</source>
        <translation>You may not change zone levels; showing the zone levels stored in the project.</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>分区定级模块不可用，显示项目中保存的分区等级。</source>
        <translation>Zoning is not available: showing the zone levels stored in the project.</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>正在计算风险分区</source>
        <translation>Computing risk zones</translation>
    </message>
    <message>
        <location line="+11"/>
        <location line="+11"/>
        <source>未分级</source>
        <translation>Not graded</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>{unit} · 规则：{rule}</source>
        <translation>{unit} · rule: {rule}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>风险分区已更新：{unit}，{rule}</source>
        <translation>Risk zones updated: {unit}, {rule}</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/tools/editing.py" line="-286"/>
        <source>有未保存的编辑，是否保存？</source>
        <translation>There are unsaved edits. Save them?</translation>
    </message>
    <message>
        <location line="+146"/>
        <source>{problem}。是否自动修复？</source>
        <translation>{problem}. Repair it automatically?</translation>
    </message>
    <message>
        <location line="+35"/>
        <location line="+6"/>
        <source>添加要素</source>
        <translation>Add feature</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>新要素属性</source>
        <translation>Attributes of the new feature</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>修改几何</source>
        <translation>Change geometry</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>编辑属性</source>
        <translation>Edit attributes</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>修改属性</source>
        <translation>Change attributes</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>删除 {n} 个要素</source>
        <translation>Delete {n} features</translation>
    </message>
    <message>
        <location line="+71"/>
        <source>合并 {n} 个要素</source>
        <translation>Merge {n} features</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>{text}（{code}）</source>
        <translation>{text} ({code})</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>草稿</source>
        <translation>Draft</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>已批准</source>
        <translation>Approved</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>请填写：{fields}</source>
        <translation>Please fill in: {fields}</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>点数不足：线至少两个点，面至少三个点</source>
        <translation>Too few points: a line needs at least two, a polygon at least three</translation>
    </message>
    <message>
        <location line="+101"/>
        <source>移动节点</source>
        <translation>Move vertex</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>添加节点</source>
        <translation>Add vertex</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>删除节点</source>
        <translation>Delete vertex</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/tools/measure.py" line="+44"/>
        <source>面积 {a}
周长 {p}</source>
        <translation>Area {a}
Perimeter {p}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>距离 {d}
末段 {s}</source>
        <translation>Distance {d}
Last segment {s}</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>，</source>
        <translation>, </translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/print_dialog.py" line="-287"/>
        <source>打印出图</source>
        <translation>Print layout</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>横向</source>
        <translation>Landscape</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>纵向</source>
        <translation>Portrait</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>yyyy年M月d日</source>
        <translation>yyyy-MM-dd</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>使用标准底图时填写</source>
        <translation>Fill in when a standard base map is used</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>经纬网</source>
        <translation>Graticule</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>按当前地图视图出图</source>
        <translation>Use the current map view</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>GeoPDF：图层可开关，带坐标</source>
        <translation>GeoPDF: layers can be switched, with coordinates</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导出的 PDF 中各图层可在阅读器里打开或关闭，地图带经纬度坐标（仅 PDF）</source>
        <translation>Each layer of the exported PDF can be switched on and off in a PDF reader, and the map carries latitude and longitude (PDF only)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>单页</source>
        <translation>Single page</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>分幅图集：每个镇街一页</source>
        <translation>Atlas: one page per town</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>分幅图集：每个网格一页</source>
        <translation>Atlas: one page per grid</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>分幅图集：每个园区一页</source>
        <translation>Atlas: one page per park</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>模板</source>
        <translation>Template</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>纸张</source>
        <translation>Paper</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>方向</source>
        <translation>Orientation</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>分辨率</source>
        <translation>Resolution</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>图名</source>
        <translation>Title</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>副标题</source>
        <translation>Subtitle</translation>
    </message>
    <message>
        <location line="+123"/>
        <source>正在读取图层…</source>
        <translation>Reading the layers…</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>正在读取图层：{name}</source>
        <translation>Reading the layer {name}…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/new_project_dialog.py" line="-99"/>
        <source>省级</source>
        <translation>Province</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>地级</source>
        <translation>Prefecture</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>县级</source>
        <translation>County</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>选择地区后在此预览边界</source>
        <translation>Choose a place to preview its boundary here</translation>
    </message>
    <message>
        <location line="+26"/>
        <location line="+193"/>
        <source>新建项目</source>
        <translation>New project</translation>
    </message>
    <message>
        <location line="-183"/>
        <source>输入地名、地名的一部分或行政区划代码，如 平阴、370124</source>
        <translation>Type a place name in Chinese, part of one, or an administrative code such as 370124</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>省份</source>
        <translation>Province</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>地市</source>
        <translation>City</translation>
    </message>
    <message>
        <location line="+0"/>
        <location line="+11"/>
        <source>代码</source>
        <translation>Code</translation>
    </message>
    <message>
        <location line="-11"/>
        <source>行政级别</source>
        <translation>Level</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>行政区</source>
        <translation>Division</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>搜索</source>
        <translation>Search</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>按行政区划浏览</source>
        <translation>Browse by division</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>尚未选择地区</source>
        <translation>No place chosen yet</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>如 某某县应急管理局</source>
        <translation>e.g. the county emergency management bureau</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>项目标题</source>
        <translation>Project title</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/briefing_dialog.py" line="-59"/>
        <location filename="../../riskmap/ui/new_project_dialog.py" line="+1"/>
        <location filename="../../riskmap/ui/print_dialog.py" line="-133"/>
        <source>编制单位</source>
        <translation>Prepared by</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/new_project_dialog.py" line="+1"/>
        <location line="+121"/>
        <source>项目文件</source>
        <translation>Project file</translation>
    </message>
    <message>
        <location line="-107"/>
        <source>创建</source>
        <translation>Create</translation>
    </message>
    <message>
        <location line="+41"/>
        <source>没有找到“{text}”</source>
        <translation>Nothing found for &quot;{text}&quot;</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>找到 1 个地区</source>
        <translation>1 place found</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>（只列出前 {n} 个）</source>
        <translation> (only the first {n} are listed)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>找到 {n} 个同名或相近的地区，请按省份和地市选择{more}</source>
        <translation>{n} places with this or a similar name: choose by province and city{more}</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>{name}（{where}，{level}，代码 {adcode}）
面积 {area} 平方千米；量算坐标系 EPSG:{epsg}（CGCS2000 3 度带高斯-克吕格）</source>
        <translation>{name} ({where}, {level}, code {adcode})
Area {area} km²; metric CRS EPSG:{epsg} (CGCS2000 3-degree Gauss-Krüger)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>{name}安全风险一张图</source>
        <translation>{name} safety risk map</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>riskmap 项目 (*.gpkg)</source>
        <translation>riskmap projects (*.gpkg)</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>文件已存在：{path}
要覆盖它吗？</source>
        <translation>The file exists already: {path}
Overwrite it?</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>正在新建项目：{name}</source>
        <translation>Creating the project: {name}</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/print_dialog.py" line="+1"/>
        <source>编制日期</source>
        <translation>Date</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>审图号</source>
        <translation>Map approval number</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>出图方式</source>
        <translation>Output</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>保存为我的模板…</source>
        <translation>Save as my template…</translation>
    </message>
    <message>
        <location line="+4"/>
        <location line="+163"/>
        <location line="+50"/>
        <source>正在生成预览…</source>
        <translation>Making the preview…</translation>
    </message>
    <message>
        <location line="-200"/>
        <source>导出 PNG…</source>
        <translation>Export PNG…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导出 SVG…</source>
        <translation>Export SVG…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/about_dialog.py" line="-20"/>
        <location filename="../../riskmap/ui/print_dialog.py" line="+4"/>
        <source>关闭</source>
        <translation>Close</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/print_dialog.py" line="+186"/>
        <source>预览：分幅图集第 1 页</source>
        <translation>Preview: atlas page 1</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>PNG 图片 (*.png)</source>
        <translation>PNG image (*.png)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>SVG 矢量图 (*.svg)</source>
        <translation>SVG vector image (*.svg)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导出图件</source>
        <translation>Export map</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>正在导出图件</source>
        <translation>Exporting the map</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>保存为我的模板</source>
        <translation>Save as my template</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>模板名称</source>
        <translation>Template name</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>模板已保存：{path}</source>
        <translation>Template saved: {path}</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>打印出图…</source>
        <translation>Print layout…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/i18n.py" line="+39"/>
        <source>、</source>
        <translation>, </translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/tiles.py" line="+74"/>
        <source>瓦片</source>
        <translation>Tiles</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>天地图矢量</source>
        <translation>Tianditu vector</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>天地图矢量注记</source>
        <translation>Tianditu vector labels</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>天地图影像</source>
        <translation>Tianditu imagery</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>天地图影像注记</source>
        <translation>Tianditu imagery labels</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>天地图地形</source>
        <translation>Tianditu terrain</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>天地图地形注记</source>
        <translation>Tianditu terrain labels</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/first_steps.py" line="-271"/>
        <location filename="../../riskmap/ui/new_project_dialog.py" line="+12"/>
        <source>新建项目…</source>
        <translation>New project…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导入镇街边界…</source>
        <translation>Import town boundaries…</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+299"/>
        <source>由驻地生成示意镇街…</source>
        <translation>Approximate towns from town seats…</translation>
    </message>
    <message>
        <location line="-298"/>
        <location line="+293"/>
        <source>生成网格…</source>
        <translation>Generate grid…</translation>
    </message>
    <message>
        <location line="-292"/>
        <source>导入企业名单…</source>
        <translation>Import enterprise list…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>在地图上定位…</source>
        <translation>Locate on the map…</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/locate.py" line="+76"/>
        <source>导入坐标文件…</source>
        <translation>Import coordinates file…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>查看未评估企业</source>
        <translation>Show unassessed enterprises</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>风险分区…</source>
        <translation>Risk zoning…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>生成控制线</source>
        <translation>Generate control lines</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导入生命线…</source>
        <translation>Import lifelines…</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>正方形</source>
        <translation>Square</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>六边形</source>
        <translation>Hexagon</translation>
    </message>
    <message>
        <location line="+101"/>
        <source>请先打开或新建项目</source>
        <translation>Open or create a project first</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{name}：还有 {n} 项待完善</source>
        <translation>{name}: {n} steps to go</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{name}：各项均已具备</source>
        <translation>{name}: every step is done</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>生成网格</source>
        <translation>Generate grid</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>替换已有网格</source>
        <translation>Replace the existing grid</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>网格边长（千米）</source>
        <translation>Cell size (km)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>形状</source>
        <translation>Shape</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/briefing_dialog.py" line="+5"/>
        <location filename="../../riskmap/ui/first_steps.py" line="+2"/>
        <location line="+32"/>
        <source>生成</source>
        <translation>Generate</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/first_steps.py" line="-9"/>
        <source>由镇街驻地生成示意镇街</source>
        <translation>Approximate towns from town seats</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>表格中每行一个镇街：名称和驻地坐标（经纬度或高斯-克吕格）。生成的镇街范围为示意，在地图和所有导出中标注“示意”，导入正式镇街边界后替换。</source>
        <translation>One town per row: its name and the coordinates of its seat (longitude/latitude or Gauss-Krüger). The town areas made are approximate, marked so on the map and in every export, until real town boundaries are imported.</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>替换已有镇街</source>
        <translation>Replace the existing towns</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+9"/>
        <source>驻地表格</source>
        <translation>Town seats table</translation>
    </message>
    <message>
        <location line="+1"/>
        <location filename="../../riskmap/ui/locate.py" line="+117"/>
        <source>表格 (*.xlsx *.xls *.csv);;所有文件 (*)</source>
        <translation>Tables (*.xlsx *.xls *.csv);;All files (*)</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>已生成 {n} 个网格</source>
        <translation>{n} grid cells generated</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>正在生成网格</source>
        <translation>Generating the grid</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>已由驻地生成 {n} 个示意镇街</source>
        <translation>{n} approximate towns made from town seats</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>正在生成示意镇街</source>
        <translation>Making approximate towns</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>第一步</source>
        <translation>First steps</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/locate.py" line="-193"/>
        <source>统一社会信用代码</source>
        <translation>Unified social credit code</translation>
    </message>
    <message>
        <location line="+0"/>
        <location filename="../../riskmap/ui/timeline.py" line="-55"/>
        <source>镇街</source>
        <translation>Town</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>地址</source>
        <translation>Address</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>行业</source>
        <translation>Industry</translation>
    </message>
    <message>
        <location line="+73"/>
        <source>在地图上定位</source>
        <translation>Locate on the map</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>选中一家企业，再在地图上单击它的位置</source>
        <translation>Pick an enterprise, then click its place on the map</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>刷新</source>
        <translation>Refresh</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/attribute_table.py" line="+6"/>
        <location filename="../../riskmap/ui/locate.py" line="+32"/>
        <location filename="../../riskmap/ui/plant_view.py" line="-255"/>
        <location line="+1"/>
        <location filename="../../riskmap/ui/timeline.py" line="-12"/>
        <source>未评估</source>
        <translation>Not assessed</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/locate.py" line="+7"/>
        <source>未定位企业 {n} 家：选中一家，点“在地图上定位”后在地图上单击其位置</source>
        <translation>{n} unlocated enterprises: pick one, press &quot;Locate on the map&quot;, then click its place on the map</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>没有未定位的企业</source>
        <translation>No unlocated enterprises</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>请先在未定位表中选中一家企业</source>
        <translation>Pick an enterprise in the unlocated table first</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>在地图上单击“{name}”的位置（Esc 退出）</source>
        <translation>Click the place of &quot;{name}&quot; on the map (Esc to stop)</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>定位企业</source>
        <translation>Locate enterprise</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>将“{name}”定位到
经度 {lon:.6f}°，纬度 {lat:.6f}°？</source>
        <translation>Place &quot;{name}&quot; at
longitude {lon:.6f}°, latitude {lat:.6f}°?</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>已将“{name}”定位到 经度 {lon:.6f}°，纬度 {lat:.6f}°</source>
        <translation>&quot;{name}&quot; placed at longitude {lon:.6f}°, latitude {lat:.6f}°</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{text}（{note}）</source>
        <translation>{text} ({note})</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+24"/>
        <source>正在定位</source>
        <translation>Locating</translation>
    </message>
    <message>
        <location line="-18"/>
        <location line="+14"/>
        <source>导入坐标文件</source>
        <translation>Import coordinates file</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>{summary}

确定定位这些企业吗？</source>
        <translation>{summary}

Locate these enterprises?</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>正在检查坐标文件</source>
        <translation>Checking the coordinates file</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>匹配 {matched} 家；未找到 {missing} 家；名称不唯一 {ambiguous} 家；在边界外 {outside} 家；无坐标 {blank} 行；重复 {twice} 行</source>
        <translation>{matched} matched; {missing} not found; {ambiguous} ambiguous names; {outside} outside the boundary; {blank} rows without coordinates; {twice} repeated rows</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>未定位企业</source>
        <translation>Unlocated enterprises</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>定位企业（单击地图）</source>
        <translation>Locate enterprise (click the map)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>由坐标文件定位企业…</source>
        <translation>Locate enterprises from a coordinates file…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/timeline.py" line="+12"/>
        <location line="+35"/>
        <source>变化</source>
        <translation>Changes</translation>
    </message>
    <message>
        <location line="-35"/>
        <source>原</source>
        <translation>From</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>现</source>
        <translation>To</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+28"/>
        <source>日期</source>
        <translation>Date</translation>
    </message>
    <message>
        <location line="-9"/>
        <source>拖动查看任一日期的风险图（从第一次评估到今天）</source>
        <translation>Drag to see the risk map on any date (from the first assessment to today)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>今天</source>
        <translation>Today</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>回到今天（可编辑）</source>
        <translation>Back to today (editable)</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>在地图上显示两个日期之间的变化：等级升降、新增与减少企业、隐患销号</source>
        <translation>Show the changes between two dates on the map: levels raised and lowered, enterprises added and removed, hidden dangers closed</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>计算变化</source>
        <translation>Compute changes</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>从</source>
        <translation>From</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>到</source>
        <translation>to</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>变化图例</source>
        <translation>Change legend</translation>
    </message>
    <message>
        <location line="+91"/>
        <location line="+229"/>
        <source>截至 {date}</source>
        <translation>As of {date}</translation>
    </message>
    <message>
        <location line="-185"/>
        <source>正在计算…</source>
        <translation>Computing…</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>首次评估</source>
        <translation>First assessed</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>分区变色</source>
        <translation>Zone recoloured</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>隐患销号</source>
        <translation>Hidden danger closed</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>隐患新增</source>
        <translation>Hidden danger found</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>隐患逾期</source>
        <translation>Hidden danger overdue</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>挂牌督办</source>
        <translation>Supervised (listed)</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>{a} 至 {b}：上升 {up}，下降 {down}，新增 {new}，减少 {gone}，销号 {closed}</source>
        <translation>{a} to {b}: raised {up}, lowered {down}, added {new}, removed {gone}, closed {closed}</translation>
    </message>
    <message>
        <location line="+91"/>
        <source>已回到今天，可以编辑</source>
        <translation>Back to today: editing is possible again</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>地图显示历史日期；编辑已停用，点“今天”返回后可编辑</source>
        <translation>The map shows a past date; editing is off until you return with “Today”</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>地图显示 {date} 的风险状况（编辑已停用，点“今天”返回）</source>
        <translation>The map shows the risk as of {date} (editing is off; “Today” returns)</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>正在查看历史日期，请先点“今天”返回</source>
        <translation>A past date is shown: return with “Today” first</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/plant_view.py" line="+100"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="-23"/>
        <source>类别</source>
        <translation>Category</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>5个清单</source>
        <translation>Five lists</translation>
    </message>
    <message>
        <location line="+2"/>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="-111"/>
        <source>危险源</source>
        <translation>Hazard sources</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>厂区全图</source>
        <translation>Whole plant</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>配准平面图…</source>
        <translation>Georeference layout…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>绘制风险点（区域）</source>
        <translation>Draw risk point (area)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>绘制风险点（点位）</source>
        <translation>Draw risk point (point)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>评估…</source>
        <translation>Assess…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>重绘范围</source>
        <translation>Redraw area</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>删除</source>
        <translation>Delete</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>厂区</source>
        <translation>Plant</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>打印厂区图…</source>
        <translation>Print plant map…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>风险告知卡…</source>
        <translation>Risk cards…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>导出厂区包…</source>
        <translation>Export plant package…</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>单击添加顶点，双击、回车或右键结束；Backspace 撤销上一点，Esc 重来</source>
        <translation>Click to add vertices; double-click, Enter or right-click to finish; Backspace undoes the last point, Esc starts again</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>单击风险点的位置</source>
        <translation>Click the risk point&apos;s place</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>厂区图 — {name}</source>
        <translation>Plant map — {name}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>企业风险等级：{level}</source>
        <translation>Enterprise risk level: {level}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>平面图配准中误差 {rms:.2f} m（{n} 个控制点）</source>
        <translation>Layout georeferenced to RMS {rms:.2f} m ({n} control points)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>尚无厂区平面图：用“配准平面图…”加入</source>
        <translation>No plant layout yet: add one with “Georeference layout…”</translation>
    </message>
    <message>
        <location line="+205"/>
        <source>正在保存风险点</source>
        <translation>Saving the risk point</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>正在保存评估</source>
        <translation>Saving the assessment</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>正在保存风险点范围</source>
        <translation>Saving the risk point&apos;s area</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>删除风险点</source>
        <translation>Delete risk point</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>删除风险点“{name}”？其评估记录随之删除（保留在编辑历史中），企业等级重新判定。</source>
        <translation>Delete risk point “{name}”? Its assessments go with it (kept in the edit history) and the enterprise&apos;s level is derived again.</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>正在删除风险点</source>
        <translation>Deleting the risk point</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>打印厂区图</source>
        <translation>Print plant map</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>正在打印厂区图</source>
        <translation>Printing the plant map</translation>
    </message>
    <message>
        <location line="+9"/>
        <location line="+14"/>
        <source>风险告知卡</source>
        <translation>Risk cards</translation>
    </message>
    <message>
        <location line="-14"/>
        <source>应急管理局值班电话（印在每张告知卡上，可留空）</source>
        <translation>The bureau&apos;s duty phone (printed on every card; may be left empty)</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>电话应为 1–40 个字符</source>
        <translation>A phone number is 1–40 characters</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>正在生成风险告知卡</source>
        <translation>Making the risk cards</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>导出厂区包</source>
        <translation>Export plant package</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>正在导出厂区包</source>
        <translation>Exporting the plant package</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>已保存：{path}</source>
        <translation>Saved: {path}</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>企业“{name}”尚未定位，无法打开厂区图：请先在地图上定位</source>
        <translation>Enterprise “{name}” has no location yet: locate it on the map before opening its plant map</translation>
    </message>
    <message>
        <location line="+52"/>
        <location line="+12"/>
        <location line="+19"/>
        <location line="+3"/>
        <source>导入厂区包</source>
        <translation>Import plant package</translation>
    </message>
    <message>
        <location line="-21"/>
        <source>项目中没有与厂区包统一社会信用代码相同的企业。

{msg}

是否在项目中新建这家企业？</source>
        <translation>The project has no enterprise with the package&apos;s unified social credit code.

{msg}

Add this enterprise to the project?</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>正在检查厂区包</source>
        <translation>Checking the plant package</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>厂区包与项目一致，没有需要导入的内容。</source>
        <translation>The plant package matches the project: nothing to import.</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>导入后项目将有以下变化，是否导入？</source>
        <translation>Importing makes these changes to the project. Import?</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>厂区包已导入：{name}</source>
        <translation>Plant package imported: {name}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>正在导入厂区包</source>
        <translation>Importing the plant package</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>导入厂区包…</source>
        <translation>Import plant package…</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/risk_point_dialog.py" line="-5"/>
        <source>区域</source>
        <translation>Area</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>装置</source>
        <translation>Installation</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>设施</source>
        <translation>Facility</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>场所</source>
        <translation>Place</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>岗位</source>
        <translation>Post</translation>
    </message>
    <message>
        <location line="+52"/>
        <source>风险点评估</source>
        <translation>Risk point assessment</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>新风险点</source>
        <translation>New risk point</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>LEC 作业条件危险性分析</source>
        <translation>LEC (job hazard analysis)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>LS 风险矩阵</source>
        <translation>LS risk matrix</translation>
    </message>
    <message>
        <location line="+48"/>
        <source>风险评估</source>
        <translation>Assessment</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>危险有害因素</source>
        <translation>Hazard factors</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>可能导致的事故类型</source>
        <translation>Possible accidents</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>管控措施</source>
        <translation>Control measures</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>应急处置措施</source>
        <translation>Emergency measures</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>联系电话</source>
        <translation>Phone</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>告知卡</source>
        <translation>Card</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>安全标志</source>
        <translation>Safety signs</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>L 事故发生的可能性</source>
        <translation>L likelihood of an accident</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>E 暴露于危险环境的频繁程度</source>
        <translation>E exposure frequency</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>C 事故后果</source>
        <translation>C consequences</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>L 可能性</source>
        <translation>L likelihood</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>S 严重性</source>
        <translation>S severity</translation>
    </message>
    <message>
        <location line="+86"/>
        <source>请填写风险点名称</source>
        <translation>Enter the risk point’s name</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>请填写评估人</source>
        <translation>Enter the assessor’s name</translation>
    </message>
    <message>
        <location filename="../../riskmap/ui/plant_view.py" line="-84"/>
        <source>项目中还没有厂区数据。用“识别要素”单击一家企业，再点“厂区图”，即可配准平面图、绘制风险点。</source>
        <translation>The project has no plant data yet. Identify an enterprise, then click “Plant map” to georeference its layout and draw risk points.</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{name}（{code}）</source>
        <translation>{name} ({code})</translation>
    </message>
</context>
</TS>
