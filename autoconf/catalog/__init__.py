"""Catalog: which provider serves which domain, with which servers."""
