"""The import pipeline for the files bureaus have: readers, encodings, field mapping, values, coordinates,
validation and the all-or-nothing import. The writers live in :mod:`riskmap.export`.

Import in one call: ``riskmap.io.importer.import_file(project, path, layer)``.
"""
