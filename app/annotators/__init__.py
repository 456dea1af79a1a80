"""Models attached to a project (``http`` model servers, ``builtin`` classifiers) and their
predictions: the machine suggests, the crowd corrects (issue 15)."""
