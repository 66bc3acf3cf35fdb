"""Project storage behind one interface: a GeoPackage file, or PostgreSQL + PostGIS."""

from riskmap.store.project import DEMO_MARK, Project, create_project, is_url, open_project

__all__ = ["DEMO_MARK", "Project", "create_project", "is_url", "open_project"]
