"""The generic machinery: the service (the one commit), machines, guard and effect registry,
events, roles on a dossier, deadlines and phase tasks. It imports no capability."""
