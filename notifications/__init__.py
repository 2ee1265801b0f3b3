"""Email notifications: the catalogue of messages the specs refer to (outbox, rendering and
relay come with the notifications work). Depends on ``workflow`` and ``states`` only."""
