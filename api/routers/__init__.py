"""Routers of the HTTP API, one per resource; ``deps`` holds what they share."""
