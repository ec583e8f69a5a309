"""The secrets domain: one :class:`~control_plane.secrets.store.SecretStore` interface, two backends.

``local`` (:mod:`.local`) is the embedded default, an AES-GCM envelope keystore in the control-plane
database; ``vault`` (:mod:`.vault`) keeps secrets in HashiCorp Vault's KV v2 engine and encrypts fields with
its transit engine. ``docs/secrets.md`` describes both, their settings and the rotation procedure.
"""
