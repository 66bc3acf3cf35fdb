"""Project storage behind one interface: a GeoPackage file, or PostgreSQL + PostGIS."""

from riskmap.store.project import Project, create_project, is_url, open_project

__all__ = ["Project", "create_project", "is_url", "open_project"]
