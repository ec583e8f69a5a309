"""The agents domain."""
