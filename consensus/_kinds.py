"""Names of the geometry types, importable without loading the geometry code (scipy, shapely).

``consensus.geometry.records.KINDS`` is the table of what each does; it checks at import that
its keys are these names, so the CLI can offer them as ``--type`` choices for free.
"""

GEOMETRY_TYPES = ("bbox", "polygon", "segmentation", "keypoints", "points")
