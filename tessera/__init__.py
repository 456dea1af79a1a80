"""Tessera's requester toolkit: the Python client (``tessera.client``)."""
