"""Planning analysis on a project: control lines, encroachment and site checks, lifelines, contours, nearby."""
