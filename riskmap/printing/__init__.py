"""Print layouts through the shared renderer (QtGui only): templates, pages, PDF/PNG/SVG and atlases."""
