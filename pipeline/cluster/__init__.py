"""Rooms across engine worker processes and machines, through Redis (see ``registry.py``)."""
