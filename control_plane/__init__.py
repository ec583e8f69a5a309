"""AuraLink's control plane: a Litestar app over SQLModel tables (PostgreSQL or SQLite).

:func:`control_plane.app.create_app` assembles it from plugins; each domain lives in
its own folder with the same shape: ``models``, ``schemas``, ``service``, ``controller``.
"""
