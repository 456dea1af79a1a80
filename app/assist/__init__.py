"""Assist tools for drawing: box to polygon or mask (GrabCut), superpixel fill, edge snapping.

``POST /v1/assist/{tool}`` for a task the worker holds a live lease on; answers come in the
project's answer shape, so the worker edits them like any shape they drew.
"""
