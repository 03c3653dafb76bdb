"""Commands beyond init/run/status/report. Each module here defines ``register(app)``; cli.py loads them all."""
