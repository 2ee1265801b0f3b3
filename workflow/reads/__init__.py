"""Read models for the edges: lists, worklists, reports, dashboard, records. Writes nothing."""
