"""The desktop application (QtWidgets): main window, map canvas, docks and dialogs.

Widgets hold no domain logic: they call the core (riskmap.store, riskmap.grading …) and paint through
riskmap.render. Start it with :func:`riskmap.ui.app.run_app`.
"""
