"""Domain health: the discovery chain of real mail clients, server checks, fleet checks."""
