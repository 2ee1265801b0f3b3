"""Whether an email's action link may serve the signed-in person now.

Shared by ``/liens/<jeton>`` and by the work pages a link leads to: a link opens the page
where the work is done, and that page's button for the link's action posts back to the
link, so that its use is recorded with the transition, once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, select

from api.pages.viewer import Viewer
from api.wiring import Container
from notifications.links import LinkClaim, LinkError, token_hash
from states import get_spec
from workflow.dossiers.access import readable
from workflow.engine.errors import DossierNotFound
from workflow.engine.service import FireResult
from workflow.language.french import format_datetime
from workflow.reads.queries import reading
from workflow.store.tables import action_link_use_table as U
from workflow.store.tables import history_table as H
from workflow.store.tables import person_table


def check(container: Container, viewer: Viewer, token: str) -> LinkClaim:
    """The link's claim if this person may act on it now; else a French ``LinkError``."""
    claim = container.links.read(token)
    with reading(container.engine) as conn:
        if claim.person_id != viewer.person_id:
            name = conn.execute(
                select(person_table.c.full_name).where(person_table.c.id == claim.person_id)
            ).scalar()
            raise LinkError(
                "lien-autre-destinataire",
                f"Ce lien a été envoyé à {name or 'une autre personne'} : il ne peut servir "
                "qu'à son destinataire. Connectez-vous avec votre propre compte et ouvrez le "
                "dossier pour voir ce que vous pouvez y faire.",
            )
        used = conn.execute(select(U.c.used_at).where(U.c.token_hash == token_hash(token)))
        if used.first() is not None:
            raise LinkError(
                "lien-utilise",
                "Ce lien a déjà servi : l'action a été effectuée. Ouvrez le dossier pour voir "
                "où il en est.",
            )
        try:
            dossier, _ = readable(
                conn, claim.dossier_id, viewer.person_id, container.service.clock()
            )
        except DossierNotFound as exc:
            raise LinkError(
                "lien-invalide", "Ce dossier n'existe pas ou ne vous est plus accessible."
            ) from exc
        if dossier.version != claim.version:
            _already_done(conn, claim)
            spec = get_spec(dossier.workflow_name, dossier.workflow_version)
            raise LinkError(
                "lien-perime",
                f"Le dossier {dossier.reference} a changé depuis l'envoi de ce courriel : il est "
                f"maintenant « {spec.state(dossier.state).label} ». Ouvrez-le pour voir ce qui "
                "reste à faire.",
            )
    return claim


def _already_done(conn: Connection, claim: LinkClaim) -> None:
    """A ``LinkError`` saying so if the link's person did its action since it was sent —
    from the page rather than from the link (a contract signed from « À traiter »): that,
    not « the dossier has changed », is what they need to read."""
    done = conn.execute(
        select(H.c.at, H.c.version)
        .where(
            H.c.dossier_id == claim.dossier_id,
            H.c.trigger == claim.trigger,
            H.c.actor_id == claim.person_id,
            H.c.version > claim.version,
        )
        .order_by(H.c.version)
        .limit(1)
    ).first()
    if done is not None:
        raise LinkError(
            "lien-deja-fait",
            f"Vous avez déjà fait cette action le {format_datetime(done.at)} : ce lien n'a "
            "plus rien à faire. Ouvrez le dossier pour voir où il en est.",
        )


def usable(
    container: Container, viewer: Viewer, token: str | None, dossier_id: int
) -> LinkClaim | None:
    """The claim of ``token`` if it may serve now on this dossier; None otherwise (the page
    then simply carries its ordinary buttons)."""
    if not token:
        return None
    try:
        claim = check(container, viewer, token)
    except LinkError:
        return None
    return claim if claim.dossier_id == dossier_id else None


def record_use(
    token: str, person_id: int, dossier_id: int
) -> Callable[[Connection, FireResult], None]:
    """What a transition done from a link writes in its own transaction: the link's use,
    so that a second use — even a concurrent one — fails with it."""

    def record(conn: Connection, result: FireResult) -> None:
        conn.execute(
            insert(U).values(
                token_hash=token_hash(token),
                person_id=person_id,
                dossier_id=dossier_id,
                used_at=result.at,
            )
        )

    return record
