"""Editing people and académies: create them (CLI, demo, imports), undo a failed creation."""

from __future__ import annotations

from sqlalchemy import delete, insert, select

from states.roles import CIVILITES
from workflow.dossiers.editing_base import EditorBase, primary_key
from workflow.engine.errors import InvalidInput
from workflow.store.tables import academie_table, assignment_table, person_table


class PeopleEdits(EditorBase):
    def create_academie(self, slug: str, name: str, code: str, reply_to: str | None = None) -> int:
        with self.engine.begin() as conn:
            if conn.execute(
                select(academie_table.c.id).where(
                    (academie_table.c.slug == slug) | (academie_table.c.code == code)
                )
            ).first():
                raise InvalidInput(f"Une académie utilise déjà l'identifiant {slug} ou {code}.")
            result = conn.execute(
                insert(academie_table).values(
                    slug=slug, name=name, code=code, reply_to=reply_to, created_at=self.clock()
                )
            )
            return primary_key(result.inserted_primary_key)

    def create_person(self, email: str, full_name: str, civilite: str | None = None) -> int:
        """``civilite``: ``madame``, ``monsieur`` or None (labels then stay as they are)."""
        email = email.strip().lower()
        if "@" not in email or len(email) > 320:
            raise InvalidInput(f"Adresse électronique invalide : {email}", field="email")
        if civilite is not None and civilite not in CIVILITES:
            raise InvalidInput(
                f"Civilité inconnue : « {civilite} » (madame, monsieur, ou rien).", "civilite"
            )
        with self.engine.begin() as conn:
            if conn.execute(select(person_table.c.id).where(person_table.c.email == email)).first():
                raise InvalidInput(f"Une personne existe déjà avec l'adresse {email}.", "email")
            result = conn.execute(
                insert(person_table).values(
                    email=email,
                    full_name=full_name.strip(),
                    civilite=civilite,
                    created_at=self.clock(),
                )
            )
            return primary_key(result.inserted_primary_key)

    def remove_new_person(self, person_id: int) -> None:
        """Undo ``create_person`` when the rest of an account's creation failed (all or
        nothing): the person and the académie roles just given, nothing else refers to them."""
        with self.engine.begin() as conn:
            conn.execute(delete(assignment_table).where(assignment_table.c.person_id == person_id))
            conn.execute(delete(person_table).where(person_table.c.id == person_id))
