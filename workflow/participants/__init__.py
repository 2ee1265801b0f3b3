"""Stagiaires as people: enrolment, attendance, counts, questionnaire, attestations, purge.

**One source of truth.** The ``enrolment`` row says that a person is a stagiaire of a
dossier. The ``stagiaire`` assignment, which the engine and the access rules read like any
other role (tasks of the charter, notification recipients, « may read this dossier »), is a
consequence of it: ``enrolment`` writes and removes that assignment in the same
transaction, and nothing else may (``DossierEditor.assign`` refuses the role). So an active
enrolment and a ``stagiaire`` assignment always come and go together; a withdrawal keeps the
enrolment row (and its events), removes the assignment.

A stagiaire is on a dossier as a participant, not as a member of its team: they read their
own enrolment, convocation, attendance and attestation (``access.participant_only``), never
another stagiaire's.
"""
