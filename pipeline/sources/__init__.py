"""Sources: stages that bring frames into a graph."""
