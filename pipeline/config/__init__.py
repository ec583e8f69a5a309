"""Pipeline files: YAML in, a validated :class:`engine.graph.Graph` out."""

from pipeline.config.errors import ConfigError, ConfigProblem
from pipeline.config.loader import Pipeline, load_pipeline, load_pipeline_text

__all__ = ["ConfigError", "ConfigProblem", "Pipeline", "load_pipeline", "load_pipeline_text"]
