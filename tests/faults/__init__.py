"""Tiny loopback servers that misbehave on purpose, one subclass per scenario."""
