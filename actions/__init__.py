"""Thin rasa_sdk adapters over the `prescreen` core package.

This package must not import `rasa` (it pulls in TensorFlow): only `rasa_sdk` and
`prescreen`. The trial catalog is loaded once, when the action server starts, so a
broken trial file stops the server instead of screening wrongly.
"""
