"""Transforms: stages that turn frames into other frames."""
