"""The web pages in French on the State design system (DSFR), server-rendered with Jinja2.

``install`` mounts the DSFR files that ``make install`` put in ``node_modules`` (never a
CDN: the pages must work on a closed network), adds the page routers, and answers an
unknown address outside the API with the French « page introuvable ».
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.pages import (
    admin_academies,
    admin_people,
    admin_roles,
    admin_settings,
    attendance,
    bilan,
    bulk,
    contract,
    dashboard,
    demande,
    dossier,
    errors,
    home,
    legal,
    links,
    paf,
    participants,
    payment,
    privacy,
    questionnaire,
    review,
    scenario,
    sessions,
    setup,
    signin,
    signin_link,
    tasks,
    team,
    trainee,
)

DSFR_DIST = Path(__file__).resolve().parents[2] / "node_modules" / "@gouvfr" / "dsfr" / "dist"
OWN_STATIC = Path(__file__).resolve().parents[1] / "static"
"""Our own few static scripts (no inline script on any page)."""


def install(app: FastAPI) -> None:
    app.mount("/static/dsfr", StaticFiles(directory=DSFR_DIST, check_dir=False), name="dsfr")
    app.mount("/static/formaflow", StaticFiles(directory=OWN_STATIC), name="formaflow")
    # ``setup`` first: its ``/dossiers/nouveau`` must win over ``/dossiers/{dossier_id}``.
    for module in (
        setup,
        signin,
        home,
        tasks,
        dossier,
        links,
        review,
        dashboard,
        bilan,
        scenario,
        payment,
        demande,
        sessions,
        team,
        paf,
        bulk,
        contract,
        participants,
        attendance,
        trainee,
        questionnaire,
        signin_link,
        privacy,
        legal,
        admin_academies,
        admin_people,
        admin_roles,
        admin_settings,
    ):
        app.include_router(module.router)
    errors.install_fallback(app)
