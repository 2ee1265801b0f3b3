"""The three document models, in French, written from the seeds (DOMAIN §8).

- ``vacation_accompagnement``: contrat d'accompagnement à distance (seed 000);
- ``hse_convention_ent``: convention de formation with the plan de formation ENT and the
  cahier des charges du formateur-accompagnateur as annex (seed 001);
- ``eafc_taux_a``: lettre de mission for concepteurs, formateurs and tuteurs (seed 004).

Each returns blocks (``canonical``); their serialisation is the text that is shown, hashed
and signed. Nothing here depends on a rendering library: layout is the edges' business.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from states.dispositifs import DISPOSITIFS, SignatoryMode
from states.roles import role_label
from workflow.documents.canonical import (
    Block,
    bullets,
    paragraph,
    section,
    serialise,
    subsection,
    table,
    title,
)
from workflow.documents.content import ContractFacts, PlannedSession
from workflow.language.french import PARIS, format_date, format_hours
from workflow.language.vocabulary import MODALITIES
from workflow.payments.baremes import (
    CONCEPTION_BOUNDS,
    MAX_HSE_PER_FORMATEUR,
    MISE_A_JOUR_BOUNDS,
    TRAINEES_PER_TUTORAT_VACATION,
    format_decimal_fr,
    format_euros,
)

NOT_SET = "(non renseigné)"


def _people(facts: ContractFacts, role: str) -> list[str]:
    return [f"{m.full_name} ({m.email})" for m in facts.holders(role)]


def _names(facts: ContractFacts, role: str) -> str:
    return ", ".join(m.full_name for m in facts.holders(role)) or NOT_SET


def _header(facts: ContractFacts, heading: str) -> list[Block]:
    d = facts.dossier
    return [
        title(heading),
        paragraph(f"{facts.academie.name} — dossier {d.reference} : « {d.title} »."),
    ]


def _when(session: PlannedSession) -> str:
    local = session.starts_at.astimezone(PARIS)
    return f"{format_date(local.date())} à {local:%H:%M}"


def _duration(minutes: int) -> str:
    return format_hours((Decimal(minutes) / 60).quantize(Decimal("0.01")))


def _planned(facts: ContractFacts) -> list[str]:
    d = facts.dossier
    return [
        f"Dispositif : {DISPOSITIFS[d.dispositif or ''].label}",
        f"Période : du {format_date(d.planned_start)} au {format_date(d.planned_end)}",
        f"Heures prévues en présentiel : {format_hours(d.planned_hours_presentiel)}",
        f"Heures prévues à distance : {format_hours(d.planned_hours_distance)}",
        "Participants prévus : "
        + (NOT_SET if d.planned_participants is None else str(d.planned_participants)),
    ]


def _sessions_table(facts: ContractFacts) -> Block:
    rows = [
        (
            _when(s),
            _duration(s.duration_minutes),
            MODALITIES.get(s.modality, s.modality),
            "—" if s.headcount is None else str(s.headcount),
            s.formateur or "—",
        )
        for s in facts.sessions
    ]
    return table(("Date", "Durée", "Modalité", "Participants", "Formateur"), rows)


def _signatories(facts: ContractFacts) -> list[Block]:
    lines = []
    for rule in facts.rules:
        holders = facts.holders(rule.role) or [m for m in facts.signatories if m.role == rule.role]
        label = role_label(rule.role)
        if rule.mode is SignatoryMode.EACH:
            lines += [f"{m.full_name}, {label.lower()}" for m in holders] or [
                f"{label} : {NOT_SET}"
            ]
        else:
            names = " ou ".join(m.full_name for m in holders) or NOT_SET
            lines.append(f"{label} : {names}")
    place = facts.academie.place or NOT_SET
    return [
        section("Signataires"),
        paragraph("Le présent document est signé par :"),
        bullets(*lines),
        paragraph(f"Fait à {place}, à la date de la dernière signature."),
    ]


def _rate(facts: ContractFacts) -> str:
    if facts.vacation_rate is None:
        return "au taux fixé par l'académie"
    return f"au taux de {format_euros(facts.vacation_rate)} la vacation"


def contrat_accompagnement(facts: ContractFacts) -> list[Block]:
    """Seed 000: « un contrat … signé par le formateur et le responsable académique »."""
    d = facts.dossier
    gestionnaires = ", ".join(m.full_name for m in facts.gestionnaires) or NOT_SET
    responsables = " ou ".join(m.full_name for m in facts.holders("responsable")) or NOT_SET
    return [
        *_header(facts, "Contrat d'accompagnement à distance"),
        section("Les parties"),
        paragraph(
            "Entre le responsable académique de la formation, "
            f"{responsables}, pour {facts.academie.name},"
        ),
        paragraph("et le ou les formateurs chargés de l'accompagnement à distance :"),
        bullets(*(_people(facts, "formateur") or [NOT_SET])),
        section("Objet"),
        paragraph(
            f"Le présent contrat est établi avant la mise en place de la formation « {d.title} ». "
            "Il porte sur l'accompagnement à distance des stagiaires : des activités des "
            "stagiaires et du formateur avant, entre ou après les sessions en présentiel ou en "
            "classe virtuelle, qui permettent d'apporter des réponses individualisées."
        ),
        section("Le dispositif"),
        bullets(*_planned(facts)),
        section("Les modules à distance"),
        paragraph(
            "Les modules à distance se déroulent de façon synchrone (« classe virtuelle ») ou "
            "asynchrone (« accompagnement à distance »). L'accompagnement peut prendre la forme "
            "d'un travail collaboratif entre stagiaires et formateur, d'une aide individualisée "
            "significative sur le plan pédagogique ou didactique, ou de la poursuite par le "
            "stagiaire de la formation à partir de ressources apportées par le formateur. Le "
            "formateur met à disposition et anime les outils d'échange (travail collaboratif, "
            "liste de diffusion, forum, courriel)."
        ),
        subsection("Sessions prévues"),
        _sessions_table(facts)
        if facts.sessions
        else paragraph("Aucune session n'est encore planifiée."),
        section("Rémunération"),
        paragraph(
            "Le temps total d'intervention pour l'accompagnement à distance est rémunéré en "
            f"vacations, {_rate(facts)} : une vacation pour deux heures d'intervention. La "
            "rétribution est limitée à une vacation par stagiaire ayant effectivement participé "
            "à la formation. Pour un groupe, la rémunération est limitée à huit vacations."
        ),
        paragraph(
            "Au vu du bilan d'activités et sur décision du responsable académique de la "
            "formation, le formateur est rémunéré en vacations."
        ),
        section("Bilan d'activités"),
        paragraph(
            "Un bilan d'activités est adressé après la formation au correspondant de formation "
            f"continue du domaine ({gestionnaires}) : sessions tenues, heures d'intervention "
            "par formateur, stagiaires inscrits et effectivement présents, listes d'émargement."
        ),
        *_signatories(facts),
    ]


_CAHIER_DES_CHARGES: tuple[Block, ...] = (
    section(
        "Annexe — Cahier des charges du « formateur-accompagnateur » des EPLE dans le cadre "
        "du déploiement de l'ENT"
    ),
    subsection("1. Contexte de la formation"),
    paragraph(
        "Il s'agit d'une aide à la prise en main et à l'utilisation de la plateforme ENT. Cette "
        "formation concerne tous les personnels de l'établissement. Elle s'appuie sur un "
        "dispositif de formation ouverte et à distance qui donne une place privilégiée à "
        "l'accompagnement des stagiaires, ce qui implique un réel engagement des stagiaires "
        "dans leur formation."
    ),
    subsection("2. Objectif de la formation"),
    paragraph(
        "Permettre la prise en main de la plateforme ENT pour tous les personnels, puis son "
        "utilisation avec les élèves."
    ),
    subsection("3. Les modalités d'organisation de la formation"),
    paragraph(
        "La formation peut être hybride (alternant présentiel et distanciel), s'appuyant sur "
        "l'accompagnement individualisé des stagiaires. Les ressources sont mises à disposition "
        "de tous à tout moment sur la plateforme ENT. Les parcours sont individualisés, tout "
        "comme le rythme de travail. Chacun des acteurs de la formation (stagiaire, responsable "
        "d'établissement, « formateur accompagnateur ») s'engage à créer et entretenir les "
        "conditions de réussite."
    ),
    bullets(
        "Les contenus (ressources) sont déposés sur la plateforme ENT ; le formateur peut aussi "
        "utiliser les contenus bureautiques mis à disposition par le pôle de compétences.",
        "L'organisation dans le temps : le chef d'établissement établit, si nécessaire avec "
        "l'aide du conseiller de l'EAFC, un plan de formation (modalités, calendrier) en "
        "concertation avec le « formateur-accompagnateur ». En fin de mise en œuvre du plan, "
        "il communique à l'EAFC la liste et les modalités des formations effectuées, ainsi "
        "que son appréciation des effets.",
    ),
    subsection("4. Les missions du « formateur-accompagnateur »"),
    paragraph(
        "Le « formateur-accompagnateur » est au cœur du dispositif : de son engagement auprès "
        "des stagiaires dépend leur réussite. Il aide à évaluer les connaissances acquises par "
        "le stagiaire et lui propose un parcours de formation. Il a en charge l'accompagnement "
        "et le suivi des apprenants, ce qui mobilise des compétences pédagogiques et "
        "relationnelles de qualité. Il participe aux échanges entre formateurs et avec l'équipe "
        "de projet de l'établissement pour améliorer le dispositif d'accompagnement, et aux "
        "formations de formateurs qui lui sont proposées dans le cadre de ce projet."
    ),
    subsection("5. Évaluation de la formation"),
    bullets(
        "la fiabilité du dispositif : technique, respect des engagements de chacun des acteurs ;",
        "la faisabilité pédagogique : rythmes de travail, séquençage des activités, rythme de "
        "l'accompagnement ;",
        "l'accompagnement : nature et qualité des contenus des échanges ;",
        "les effets de la formation dans l'EPLE.",
    ),
    subsection("6. Rémunération"),
    paragraph(
        f"Une rémunération forfaitaire de {format_decimal_fr(MAX_HSE_PER_FORMATEUR)} HSE au "
        "maximum est proposée pour chaque « formateur-accompagnateur »."
    ),
)


def _ent_tables(facts: ContractFacts) -> list[Block]:
    in_person = [s for s in facts.sessions if s.modality == "presentiel"]
    online = [s for s in facts.sessions if s.modality != "presentiel"]

    def count(s: PlannedSession) -> str:
        return "—" if s.headcount is None else str(s.headcount)

    blocks: list[Block] = [subsection("Formations en présentiel")]
    blocks.append(
        table(
            (
                "Date",
                "Durée",
                "Type du public concerné",
                "Nombre de personnes",
                "Formateur accompagnateur",
            ),
            [
                (
                    _when(s),
                    _duration(s.duration_minutes),
                    s.public_type or "—",
                    count(s),
                    s.formateur or "—",
                )
                for s in in_person
            ],
        )
        if in_person
        else paragraph("Aucune formation en présentiel n'est planifiée.")
    )
    blocks.append(subsection("Formations en ligne et suivi"))
    blocks.append(
        table(
            (
                "Date",
                "Durée",
                "Modalité (CV ou suivi)",
                "Nombre de personnes concernées",
                "Formateur accompagnateur",
            ),
            [
                (
                    _when(s),
                    _duration(s.duration_minutes),
                    "CV" if s.modality in {"classe_virtuelle", "webinaire"} else "suivi",
                    count(s),
                    s.formateur or "—",
                )
                for s in online
            ],
        )
        if online
        else paragraph("Aucune formation en ligne ni suivi n'est planifié.")
    )
    return blocks


def convention_ent(facts: ContractFacts) -> list[Block]:
    """Seed 001: the convention between the EAFC/DAFPEN director and the chef
    d'établissement, the plan de formation ENT, and the cahier des charges as annex."""
    etablissement = facts.etablissement or NOT_SET
    responsables = " ou ".join(m.full_name for m in facts.holders("responsable")) or NOT_SET
    chefs = _names(facts, "chef_etablissement")
    block = "; ".join(facts.academie.signature_block)
    return [
        *_header(facts, "Convention de formation"),
        paragraph(
            "Organisation de l'accompagnement des EPLE dans le cadre du déploiement de l'ENT."
        ),
        paragraph(
            "Objet : la présente convention a pour objet de définir les modalités de mise en "
            "œuvre des formations en établissement liées au déploiement de l'ENT."
        ),
        section("Entre"),
        paragraph(
            f"{facts.academie.name}, représentée par {responsables}, "
            "responsable académique de la formation" + (f" ({block})" if block else "") + ","
        ),
        paragraph(
            f"et le chef d'établissement : établissement « {etablissement} », représenté par "
            f"{chefs}."
        ),
        paragraph(
            "Pour permettre l'évaluation du dispositif et la rémunération des « formateurs "
            "accompagnateurs », le chef d'établissement facilite l'accès de l'EAFC à toutes les "
            "informations utiles, au cours de la campagne de formation. En fin de formation, un "
            "bilan est établi sur la base de la fiche « Formation ENT ». Il engage la "
            "responsabilité du chef d'établissement sur le service effectué par chaque "
            "« formateur accompagnateur », et permet la rémunération selon la ventilation qu'il "
            "précise."
        ),
        section("Les formateurs accompagnateurs"),
        bullets(*(_people(facts, "formateur") or [NOT_SET])),
        section("Plan de formation ENT de l'EPLE"),
        bullets(*_planned(facts)),
        *_ent_tables(facts),
        section("Rémunération"),
        paragraph(
            "Proposition de rémunération par le chef d'établissement : le nombre d'heures "
            "effectuées par chaque « formateur accompagnateur », rémunérées en HSE, "
            f"{format_decimal_fr(MAX_HSE_PER_FORMATEUR)} HSE au maximum par « formateur "
            "accompagnateur »."
        ),
        *_signatories(facts),
        *_CAHIER_DES_CHARGES,
    ]


def lettre_de_mission(facts: ContractFacts) -> list[Block]:
    """Seed 004: conception or update of the parcours M@gistère, tutorat, virtual classes."""
    lo, hi = CONCEPTION_BOUNDS
    ulo, uhi = MISE_A_JOUR_BOUNDS
    responsables = " ou ".join(m.full_name for m in facts.holders("responsable")) or NOT_SET
    team: list[str] = []
    for role in ("concepteur", "formateur", "tuteur"):
        team += [
            f"{m.full_name} ({m.email}), {role_label(role).lower()}" for m in facts.holders(role)
        ]
    virtual = [s for s in facts.sessions if s.modality in {"classe_virtuelle", "webinaire"}]
    return [
        *_header(facts, "Lettre de mission"),
        paragraph(
            f"{facts.academie.name}, représentée par {responsables}, responsable académique de "
            "la formation, confie la mission décrite ci-dessous, sous la conduite du pilote "
            f"({_names(facts, 'pilote')}), à l'équipe suivante :"
        ),
        bullets(*(team or [NOT_SET])),
        section("La mission"),
        paragraph(
            "Concevoir (ou mettre à jour) le parcours de formation hybride et son parcours "
            "M@gistère, animer les sessions en présentiel et les classes virtuelles, et "
            "accompagner les stagiaires sur la partie distancielle asynchrone (tutorat), selon "
            "le scénario validé par le pilote."
        ),
        bullets(*_planned(facts)),
        subsection("Sessions prévues"),
        _sessions_table(facts)
        if facts.sessions
        else paragraph("Aucune session n'est encore planifiée."),
        section("Rémunération (vacations au taux A)"),
        paragraph(f"Les vacations sont rémunérées {_rate(facts)}."),
        bullets(
            f"Conception initiale d'un parcours M@gistère : entre {format_decimal_fr(lo)} et "
            f"{format_decimal_fr(hi)} vacations selon le parcours (longueur, nature, complexité, "
            "nombre d'activités), décision de l'EAFC en lien avec le pilote.",
            f"Mise à jour ou ajustement l'année suivante : entre {format_decimal_fr(ulo)} et "
            f"{format_decimal_fr(uhi)} vacations selon la nature et la longueur du parcours.",
            "Tutorat : compté en nombre de candidats tutorés, non en heures : une vacation pour "
            f"{TRAINEES_PER_TUTORAT_VACATION} candidats suivis.",
            "Classes virtuelles : taux variable selon l'effectif et la nature de l'intervention "
            "(barème de l'académie) ; la co-animation est possible à partir de 15 participants "
            f"({len(virtual)} classe(s) virtuelle(s) prévue(s)).",
        ),
        paragraph(
            "Au vu du bilan d'activités et sur décision du responsable académique de la "
            "formation, chaque membre de l'équipe est rémunéré pour sa part."
        ),
        *_signatories(facts),
    ]


MODELS: dict[str, Callable[[ContractFacts], list[Block]]] = {
    "vacation_accompagnement": contrat_accompagnement,
    "hse_convention_ent": convention_ent,
    "eafc_taux_a": lettre_de_mission,
}

DOCUMENT_TITLES: dict[str, str] = {
    "vacation_accompagnement": "Contrat d'accompagnement à distance",
    "hse_convention_ent": "Convention de formation",
    "eafc_taux_a": "Lettre de mission",
}


def document_text(facts: ContractFacts) -> str:
    """The canonical text of the dossier's document as its data stand now."""
    return serialise(MODELS[facts.dossier.dispositif or ""](facts))
