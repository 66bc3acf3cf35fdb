"""Planning map tools: drawing and editing features, measuring, site check and “一点即现”.

``capture`` — vertex capture with snapping (the base of drawing, splitting, measuring);
``editing`` — the edit session (QUndoStack per layer, save as one transaction), draw / vertex / split tools
and the attribute form; ``measure`` — geodesic distance and area; ``query`` — site check and nearby tools.
``riskmap/ui/planning.py`` puts them into the main window's menus and toolbar.
"""
