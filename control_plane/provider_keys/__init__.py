"""The provider_keys domain: each organisation's API keys for AI providers, kept in the secret store."""
