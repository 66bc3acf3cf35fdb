"""Editing without a screen: the working copy of a layer (:mod:`riskmap.edit.working`)."""

from riskmap.edit.working import FeatureState, LayerData, LayerEdits

__all__ = ["FeatureState", "LayerData", "LayerEdits"]
