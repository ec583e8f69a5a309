"""The api_keys domain."""
