"""HTTP routes, one module per resource family; each is a thin call into the service."""
