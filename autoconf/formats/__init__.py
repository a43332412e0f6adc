"""Renderers: a finished Account in, document bytes out. Pure; no I/O, no clock."""
