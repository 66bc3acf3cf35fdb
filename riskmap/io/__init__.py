"""Readers and writers: import of bureau files (readers, fieldmap, coords, values, validate, importer)
and the data exports and web map (export*, webmap).

Import in one call: ``riskmap.io.importer.import_file(project, path, layer)``.
"""
