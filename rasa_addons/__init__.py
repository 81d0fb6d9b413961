"""Small extensions loaded by the Rasa server (never by the action server).

Rasa imports this package when it loads any of them (config.yml, endpoints.yml and
credentials.yml name them), which also installs the two speed-ups in speedups.py.
"""
from rasa_addons import speedups  # noqa: F401 - installs itself on import
