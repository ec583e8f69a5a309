"""Sinks: stages where frames leave a graph."""
