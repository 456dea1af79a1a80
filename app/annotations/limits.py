"""Limits on annotation specs and answers.

Each cap bounds the work (CPU and memory) one request can cause; the HTTP layer caps body size
separately, these cap what a body of an allowed size can still ask for.
"""

MAX_NAME_LENGTH = 100
"""Longest label or keypoint name, in characters (after stripping)."""

MAX_LABELS = 1000
"""Most labels in one project."""

MAX_SEGMENTATION_LABELS = 255
"""Most labels for segmentation: a mask pixel is 8-bit, 0 means "none", so k = 1..255."""

MAX_KEYPOINTS = 200
"""Most named keypoints (COCO person has 17; whole-body sets reach 133)."""

MAX_OBJECTS = 1000
"""Most objects (boxes, polygons, keypoint sets) in one answer."""

MAX_POLYGON_POINTS = 10_000
"""Most vertices in one polygon."""

MAX_TOTAL_POINTS = 100_000
"""Most vertices over all polygons of one answer, so 1000 objects x 10,000 points is refused."""

MAX_MASK_PNG_BYTES = 64 * 1024 * 1024
"""Largest mask PNG, in bytes; an incompressible 50-megapixel 8-bit mask is about 50 MB."""

COORD_TOLERANCE = 1e-6
"""Pixels a coordinate may lie outside the image (float round-off in clients); clamped back in."""

MAX_ERRORS = 50
"""Most errors reported for one answer; beyond that the client has the gist."""
