"""What every administration page shares: the académie being administered (checked against
the viewer, like every use case: another académie is « introuvable »), its sections for the
side menu, and the form helpers that turn catalogue keys into form fields and back.

Pages never decide a rule: values go to ``Administration`` (the same use cases as the API
and the CLI), whose French refusals come back on the field they are about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from api.pages.flash import Flash, set_flash
from api.pages.forms import FormState
from api.pages.viewer import Viewer
from api.wiring import Container
from workflow.admin import catalog
from workflow.admin.authority import AcademieRef
from workflow.admin.catalog import SettingsRefused
from workflow.admin.changes import Change

ROOT = "/administration"


@dataclass(frozen=True, slots=True)
class Section:
    path: str
    label: str


SECTIONS = (
    Section("", "Identité"),
    Section("/personnes", "Personnes"),
    Section("/roles", "Rôles"),
    Section("/suppleances", "Suppléances"),
    Section("/tarifs", "Tarifs"),
    Section("/echeances", "Échéances"),
    Section("/signataires", "Signataires"),
    Section("/regles", "Participation et conservation"),
    Section("/historique", "Historique"),
)


def base(academie: AcademieRef) -> str:
    return f"{ROOT}/academies/{academie.slug}"


def administered(container: Container, viewer: Viewer, slug: str) -> AcademieRef:
    """The académie if the viewer administers it (``AcademieNotFound``/``NotPermitted``
    otherwise, rendered as « Page introuvable » / « Accès refusé »)."""
    return container.admin.academie(slug, actor_id=viewer.person_id)


def context(academie: AcademieRef, section: str, title: str) -> dict[str, Any]:
    """The template context every académie page starts from (side menu, breadcrumb)."""
    return {
        "academie": academie,
        "base": base(academie),
        "sections": SECTIONS,
        "section": section,
        "page_title": f"{title} — {academie.name}",
        "title": title,
        "institution": academie.institution,
    }


def field_id(key: str) -> str:
    """The form field of a catalogue key (``tarifs.hse`` → ``tarifs-hse``): ids with dots
    would need escaping in every CSS selector and fragment."""
    return key.replace(".", "-")


def labels(keys: Iterable[str]) -> dict[str, str]:
    return {field_id(key): catalog.label_of(key) for key in keys}


def refusals(form: FormState, refused: SettingsRefused, fields: Mapping[str, str]) -> None:
    """Each refused key's message on its field (``fields``: key → field id)."""
    for key, message in refused.errors:
        form.add(fields.get(key, field_id(key)), message)


def changes_text(made: list[Change]) -> str:
    if not made:
        return "Aucune valeur n'a changé."
    return " ; ".join(
        f"{catalog.label_of(c.key)} : {catalog.shown(c.key, c.old)} → {catalog.shown(c.key, c.new)}"
        for c in made
    )


def saved(request: Request, target: str, made: list[Change]) -> Response:
    """Post/redirect/get after a change, its old → new values in the message."""
    response = RedirectResponse(target, status_code=303)
    title = "Réglages enregistrés" if made else "Rien à enregistrer"
    set_flash(request, response, Flash("success" if made else "info", title, changes_text(made)))
    return response


def done(request: Request, target: str, title: str, text: str = "") -> Response:
    response = RedirectResponse(target, status_code=303)
    set_flash(request, response, Flash("success", title, text))
    return response
