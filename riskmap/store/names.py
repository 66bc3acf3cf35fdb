"""Human-readable identifiers of the project's tables (gpkg_contents.identifier, zh)."""

TABLE_TITLES = {
    "project_meta": "项目信息",
    "zones": "分区",
    "zone_decisions": "分区定级依据",
    "enterprises": "企业",
    "enterprise_lists": "企业五个清单",
    "risk_points": "风险点与危险源",
    "substances": "危险物质",
    "assessments": "风险评估记录",
    "protected_targets": "防护目标",
    "control_lines": "安全控制线",
    "safety_distances": "外部安全防护距离",
    "risk_contours": "个人风险等值线",
    "lifelines": "生命线管线",
    "lifeline_points": "生命线设施点",
    "emergency_resources": "应急资源",
    "hidden_dangers": "隐患",
    "hidden_danger_events": "隐患处置记录",
    "indicators": "规划指标",
    "indicator_actuals": "指标年度实际值",
    "edit_history": "编辑历史",
}
