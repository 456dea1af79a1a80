"""One module per annotation type; each defines ``KIND``, an ``AnnotationKind``.

Listed, and loaded on first use, by ``app.annotations.registry`` (``TYPE_MODULES``). Steps to
add a type: ``docs/ADDING_A_TYPE.md``.
"""
