"""Small extensions loaded by the Rasa server (never by the action server)."""
