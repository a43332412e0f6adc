"""Importers: existing client configurations (Mozilla clientConfig/ISPDB, automx2) -> catalog."""
