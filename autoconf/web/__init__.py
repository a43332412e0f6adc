"""The HTTP face: setup endpoints, health, metrics."""
