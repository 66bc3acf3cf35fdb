"""The data model: every object of DOMAIN.md as a SQLAlchemy ORM class (geometry in EPSG:4490)."""

from riskmap.model.base import Base, JSONText, utcnow
from riskmap.model.entities import (
    Assessment, ControlLine, County, EditRecord, EmergencyResource, Enterprise, EnterpriseList, HiddenDanger,
    HiddenDangerEvent, Indicator, IndicatorActual, LifelinePoint, LifelineSegment, PlantPlan, ProjectMeta,
    ProtectedTarget, RiskContour, RiskPoint, SafetyDistance, Substance, Zone, ZoneDecision,
)
from riskmap.model.geometry import SRID, Geometry

MODEL_CLASSES = (
    ProjectMeta, County, Zone, ZoneDecision, Enterprise, EnterpriseList, RiskPoint, Substance, Assessment,
    ProtectedTarget, ControlLine, SafetyDistance, RiskContour, LifelineSegment, LifelinePoint,
    EmergencyResource, HiddenDanger, HiddenDangerEvent, Indicator, IndicatorActual, EditRecord, PlantPlan,
)
FEATURE_CLASSES = tuple(c for c in MODEL_CLASSES if c.__geometry__)
# tables whose rows belong to one county (schema 5: a ``county`` adcode column; see entities)
COUNTY_TABLES = tuple(c.__tablename__ for c in MODEL_CLASSES if "county" in c.__table__.c)


def class_for_table(name: str):
    """The model class whose table is ``name``."""
    for cls in MODEL_CLASSES:
        if cls.__tablename__ == name:
            return cls
    raise KeyError(name)


__all__ = [c.__name__ for c in MODEL_CLASSES] + [
    "Base", "Geometry", "JSONText", "SRID", "MODEL_CLASSES", "COUNTY_TABLES", "FEATURE_CLASSES", "class_for_table", "utcnow"]
