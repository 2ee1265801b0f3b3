"""The dossier capability: creation and editing, team, access rules, validated inputs, guards."""
