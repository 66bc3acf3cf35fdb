"""riskmap: a desktop GIS for county safety-risk four-colour maps (安全风险四色图, "一张图")."""

__version__ = "0.1.0"
