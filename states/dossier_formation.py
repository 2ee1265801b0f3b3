"""Workflow ``dossier_formation`` v1: the life of one hybrid-training dossier.

Written from DOMAIN §2–3 (seeds 000–004): contract, hybrid scenario validated by the
pilot, delivery, bilan d'activités, payment decision. Deadlines are the defaults of
DOMAIN §2; an académie may configure others.

One module, past the usual size, on purpose: it is one workflow spec, pure data, and the
states, transitions, guards' names and deadlines are read together to check it against
the seeds; spread over files, a transition would be separated from the states it joins.
"""

from __future__ import annotations

from dataclasses import replace

from states.roles import BILAN_AUTHOR, SIGNATORY, UNANSWERED
from states.spec import (
    DeadlineAction,
    DeadlineAnchor,
    DeadlineSpec,
    NotificationRule,
    PhaseSpec,
    StateSpec,
    TaskSpec,
    TransitionSpec,
    WorkflowSpec,
)

NAME = "dossier_formation"

PHASES = (
    PhaseSpec("montage", "Montage"),
    PhaseSpec("conception", "Conception"),
    PhaseSpec("en_amont", "En amont"),
    PhaseSpec("pendant", "Pendant"),
    PhaseSpec("apres", "Après"),
    PhaseSpec("decision", "Décision"),
    PhaseSpec("termine", "Terminé"),
)

STATES = (
    StateSpec("brouillon", "Brouillon", "montage"),
    StateSpec("contrat_a_signer", "Contrat à signer", "montage"),
    StateSpec("contrat_signe", "Contrat signé", "conception"),
    StateSpec("scenario_soumis", "Scénario soumis au pilote", "conception"),
    StateSpec("scenario_a_reviser", "Scénario à réviser", "conception"),
    StateSpec("scenario_valide", "Scénario validé", "en_amont"),
    StateSpec("en_cours", "Formation en cours", "pendant"),
    StateSpec("realisee", "Formation réalisée", "apres"),
    StateSpec("bilan_soumis", "Bilan soumis", "apres"),
    StateSpec("bilan_a_completer", "Bilan à compléter", "apres"),
    StateSpec("bilan_valide", "Bilan validé", "decision"),
    StateSpec("paiement_accorde", "Paiement accordé", "decision"),
    StateSpec("paiement_refuse", "Paiement refusé", "termine", terminal=True),
    StateSpec("mis_en_paiement", "Mis en paiement", "termine", terminal=True),
    StateSpec("annule", "Annulé", "termine", terminal=True),
)

_NON_TERMINAL = tuple(s.id for s in STATES if not s.terminal)
SIGNED_STATES = (
    "contrat_signe",
    "scenario_soumis",
    "scenario_a_reviser",
    "scenario_valide",
    "en_cours",
    "realisee",
    "bilan_soumis",
    "bilan_a_completer",
    "bilan_valide",
)
"""After the contract is signed and before the payment decision: an avenant may arise."""
AVENANT_STATES = ("contrat_a_signer", *SIGNED_STATES)
QUESTIONNAIRE_REMINDER_DAYS = 7
"""The stagiaires who have not answered the questionnaire are reminded once, a week after
the end of the training (DOMAIN §7)."""
_TEAM = ("pilote", "concepteur", "formateur", "tuteur")
_PAID = ("formateur", "concepteur", "tuteur")
_LOCAL = ("chef_etablissement", "ien", "coordonnateur_reseau")


def _notify(*recipients: str, template: str, only_to: str | None = None) -> NotificationRule:
    return NotificationRule(recipients=recipients, template=f"{NAME}/{template}", only_to=only_to)


TRANSITIONS = (
    TransitionSpec(
        trigger="emettre_contrat",
        label="Émettre le contrat",
        sources=("brouillon",),
        dest="contrat_a_signer",
        roles=("pilote", "gestionnaire"),
        awaited_from=("pilote",),
        guards=("formateur_affecte", "dispositif_choisi", "heures_prevues"),
        effects=("etablir_contrat",),
        notifications=(_notify("signataires", "pilote", template="emettre_contrat"),),
    ),
    TransitionSpec(
        trigger="signer",
        label="Signer le contrat",
        sources=("contrat_a_signer",),
        dest="contrat_signe",
        roles=(SIGNATORY,),
        guards=("signature_attendue",),
        turn_guards=("signature_attendue",),
        effects=("enregistrer_signature",),
        dest_condition="signatures_completes",
        notifications=(
            _notify("signataires_restants", template="signer", only_to="contrat_a_signer"),
            # The co-signatories too: on an ENT convention the chef d'établissement signs it.
            _notify(
                *_TEAM,
                "signataires",
                "gestionnaire",
                template="contrat_signe",
                only_to="contrat_signe",
            ),
        ),
    ),
    TransitionSpec(
        # Fired by the system in the transaction of the edit that changed the contract's
        # terms (a signatory added or removed, hours, dispositif): never offered to a person.
        trigger="etablir_avenant",
        label="Établir un avenant au contrat",
        sources=AVENANT_STATES,
        dest="contrat_a_signer",
        reflexive=True,
        roles=(),
        system_may_fire=True,
        guards=("avenant_necessaire",),
        effects=("enregistrer_avenant",),
        notifications=(
            _notify("signataires_restants", "pilote", "gestionnaire", template="etablir_avenant"),
        ),
    ),
    TransitionSpec(
        trigger="signer_avenant",
        label="Signer l'avenant au contrat",
        sources=SIGNED_STATES,
        dest="contrat_signe",
        reflexive=True,
        roles=(SIGNATORY,),
        guards=("signature_attendue",),
        turn_guards=("signature_attendue",),
        effects=("enregistrer_signature",),
        notifications=(_notify("signataires_restants", "gestionnaire", template="signer_avenant"),),
    ),
    TransitionSpec(
        trigger="soumettre_scenario",
        label="Soumettre le scénario au pilote",
        sources=("contrat_signe", "scenario_a_reviser"),
        dest="scenario_soumis",
        roles=("concepteur", "formateur"),
        guards=("scenario_complet",),
        notifications=(_notify("pilote", template="soumettre_scenario"),),
    ),
    TransitionSpec(
        trigger="valider_scenario",
        label="Valider le scénario hybride",
        sources=("scenario_soumis",),
        dest="scenario_valide",
        roles=("pilote",),
        opens_phase_tasks="en_amont",
        notifications=(
            _notify(*_TEAM, "stagiaire", *_LOCAL, "gestionnaire", template="valider_scenario"),
        ),
    ),
    TransitionSpec(
        trigger="demander_revision",
        label="Demander une révision du scénario",
        sources=("scenario_soumis",),
        dest="scenario_a_reviser",
        roles=("pilote",),
        comment_required=True,
        notifications=(_notify("concepteur", "formateur", template="demander_revision"),),
    ),
    TransitionSpec(
        trigger="demarrer",
        label="Démarrer la formation",
        sources=("scenario_valide",),
        dest="en_cours",
        roles=("formateur", "gestionnaire"),
        awaited_from=("formateur",),
        guards=("debut_atteint",),
        system_may_fire=True,
        opens_phase_tasks="pendant",
        notifications=(_notify(*_TEAM, "stagiaire", template="demarrer"),),
    ),
    TransitionSpec(
        trigger="terminer",
        label="Terminer la formation",
        sources=("en_cours",),
        dest="realisee",
        roles=("formateur", "gestionnaire"),
        awaited_from=("formateur",),
        guards=("fin_atteinte",),
        system_may_fire=True,
        opens_phase_tasks="apres",
        notifications=(_notify(*_TEAM, "stagiaire", *_LOCAL, template="terminer"),),
    ),
    TransitionSpec(
        trigger="soumettre_bilan",
        label="Soumettre le bilan d'activités",
        sources=("realisee", "bilan_a_completer"),
        dest="bilan_soumis",
        roles=(BILAN_AUTHOR,),
        guards=("bilan_complet",),
        notifications=(_notify("gestionnaire", "pilote", template="soumettre_bilan"),),
    ),
    TransitionSpec(
        trigger="demander_complement",
        label="Demander un complément au bilan",
        sources=("bilan_soumis",),
        dest="bilan_a_completer",
        roles=("gestionnaire",),
        comment_required=True,
        notifications=(_notify("formateur", "chef_etablissement", template="demander_complement"),),
    ),
    TransitionSpec(
        trigger="valider_bilan",
        label="Valider le bilan",
        sources=("bilan_soumis",),
        dest="bilan_valide",
        roles=("gestionnaire",),
        notifications=(_notify("responsable", "formateur", "pilote", template="valider_bilan"),),
    ),
    TransitionSpec(
        # A validated bilan that turns out wrong (sessions, attendance: a co-animation
        # short of participants makes the payment impossible) goes back to its authors.
        trigger="rouvrir_bilan",
        label="Rouvrir le bilan",
        sources=("bilan_valide",),
        dest="bilan_a_completer",
        roles=("gestionnaire",),
        awaited_from=(),  # a way back when a figure proves wrong, never a task
        comment_required=True,
        notifications=(
            _notify(BILAN_AUTHOR, "formateur", "pilote", "responsable", template="rouvrir_bilan"),
        ),
    ),
    TransitionSpec(
        trigger="accorder_paiement",
        label="Accorder le paiement",
        sources=("bilan_valide",),
        dest="paiement_accorde",
        roles=("responsable",),
        guards=("contrat_a_jour", "montants_conformes"),
        effects=("enregistrer_decision",),
        irreversible=True,
        notifications=(
            # The bilan's author too: on an ENT convention the chef d'établissement proposed
            # the hours the decision pays.
            _notify(*_PAID, BILAN_AUTHOR, "pilote", "gestionnaire", template="accorder_paiement"),
        ),
    ),
    TransitionSpec(
        trigger="refuser_paiement",
        label="Refuser le paiement",
        sources=("bilan_valide",),
        dest="paiement_refuse",
        roles=("responsable",),
        comment_required=True,
        irreversible=True,
        notifications=(
            _notify(*_PAID, BILAN_AUTHOR, "pilote", "gestionnaire", template="refuser_paiement"),
        ),
    ),
    TransitionSpec(
        trigger="mettre_en_paiement",
        label="Mettre en paiement",
        sources=("paiement_accorde",),
        dest="mis_en_paiement",
        roles=("gestionnaire",),
        irreversible=True,
        notifications=(_notify(*_PAID, "pilote", template="mettre_en_paiement"),),
    ),
    TransitionSpec(
        trigger="annuler",
        label="Annuler le dossier",
        sources=_NON_TERMINAL,
        dest="annule",
        roles=("pilote", "responsable"),
        awaited_from=(),
        comment_required=True,
        irreversible=True,
        notifications=(
            _notify(
                *_TEAM, "stagiaire", *_LOCAL, "gestionnaire", "responsable", template="annuler"
            ),
        ),
    ),
)

BILAN_DUE_DAYS = 30
"""Bilan due 30 days after the end of the training (DOMAIN §2 default)."""

DEADLINES = (
    DeadlineSpec(
        id="rappel_signature",
        label="Rappel aux signataires qui n'ont pas signé",
        states=("contrat_a_signer",),
        anchor=DeadlineAnchor.STATE_ENTERED,
        offset_days=7,
        action=DeadlineAction.REMINDER,
        recipients=("signataires_restants",),
        template=f"{NAME}/rappel_signature",
        marks_due=True,
    ),
    DeadlineSpec(
        id="rappel_validation_scenario",
        label="Rappel au pilote : scénario en attente de validation",
        states=("scenario_soumis",),
        anchor=DeadlineAnchor.STATE_ENTERED,
        offset_days=7,
        action=DeadlineAction.REMINDER,
        recipients=("pilote",),
        template=f"{NAME}/rappel_validation_scenario",
        marks_due=True,
    ),
    DeadlineSpec(
        id="escalade_validation_scenario",
        label="Escalade au gestionnaire : scénario non validé",
        states=("scenario_soumis",),
        anchor=DeadlineAnchor.STATE_ENTERED,
        offset_days=14,
        action=DeadlineAction.ESCALATION,
        recipients=("gestionnaire",),
        template=f"{NAME}/escalade_validation_scenario",
    ),
    DeadlineSpec(
        id="demarrage_automatique",
        label="Démarrage au début de la première session",
        states=("scenario_valide",),
        anchor=DeadlineAnchor.FIRST_SESSION_START,
        offset_days=0,
        action=DeadlineAction.TRANSITION,
        trigger="demarrer",
        marks_due=True,
    ),
    DeadlineSpec(
        id="fin_automatique",
        label="Fin après la dernière session",
        states=("en_cours",),
        anchor=DeadlineAnchor.LAST_SESSION_END,
        offset_days=0,
        action=DeadlineAction.TRANSITION,
        trigger="terminer",
    ),
    DeadlineSpec(
        id="rappel_bilan_j_moins_7",
        label="Rappel : bilan attendu prochainement",
        states=("realisee", "bilan_a_completer"),
        anchor=DeadlineAnchor.TRAINING_ENDED,
        offset_days=23,
        action=DeadlineAction.REMINDER,
        recipients=(BILAN_AUTHOR,),
        template=f"{NAME}/rappel_bilan",
    ),
    DeadlineSpec(
        id="rappel_bilan_echeance",
        label="Rappel : bilan attendu aujourd'hui",
        states=("realisee", "bilan_a_completer"),
        anchor=DeadlineAnchor.TRAINING_ENDED,
        offset_days=BILAN_DUE_DAYS,
        action=DeadlineAction.REMINDER,
        recipients=(BILAN_AUTHOR,),
        template=f"{NAME}/rappel_bilan",
        marks_due=True,
    ),
    DeadlineSpec(
        id="escalade_bilan",
        label="Escalade au gestionnaire : bilan en retard",
        states=("realisee", "bilan_a_completer"),
        anchor=DeadlineAnchor.TRAINING_ENDED,
        offset_days=31,
        action=DeadlineAction.ESCALATION,
        recipients=("gestionnaire",),
        template=f"{NAME}/escalade_bilan",
    ),
    DeadlineSpec(
        id="rappel_questionnaire",
        label="Rappel aux stagiaires : questionnaire d'évaluation sans réponse",
        states=("realisee", "bilan_soumis", "bilan_a_completer", "bilan_valide"),
        anchor=DeadlineAnchor.TRAINING_ENDED,
        offset_days=QUESTIONNAIRE_REMINDER_DAYS,
        action=DeadlineAction.REMINDER,
        recipients=(UNANSWERED,),
        template=f"{NAME}/rappel_questionnaire",
    ),
    DeadlineSpec(
        id="relance_bilan_soumis",
        label="Relance : bilan en attente d'examen",
        states=("bilan_soumis",),
        anchor=DeadlineAnchor.STATE_ENTERED,
        offset_days=15,
        action=DeadlineAction.REMINDER,
        recipients=("gestionnaire",),
        template=f"{NAME}/relance_inactivite",
        marks_due=True,
    ),
    DeadlineSpec(
        id="relance_decision_paiement",
        label="Relance : décision de paiement en attente",
        states=("bilan_valide",),
        anchor=DeadlineAnchor.STATE_ENTERED,
        offset_days=15,
        action=DeadlineAction.REMINDER,
        recipients=("responsable",),
        template=f"{NAME}/relance_inactivite",
        marks_due=True,
    ),
    DeadlineSpec(
        id="relance_mise_en_paiement",
        label="Relance : mise en paiement en attente",
        states=("paiement_accorde",),
        anchor=DeadlineAnchor.STATE_ENTERED,
        offset_days=15,
        action=DeadlineAction.REMINDER,
        recipients=("gestionnaire",),
        template=f"{NAME}/relance_inactivite",
        marks_due=True,
    ),
)

TASK_DUE_WITH = {"en_amont": "demarrage_automatique", "apres": "rappel_bilan_echeance"}
"""The charter's due dates: the « en amont » tasks prepare the first session, so they are
due when it starts; the « après » ones go with the bilan, due with it. « Pendant » tasks
are done while the training runs and have none."""

_LOCAL_AUTHORITY_TASKS = (
    (
        "salle_distance",
        "Mettre à disposition une salle pour les sessions à distance (synchrones ou asynchrones)",
    ),
    (
        "informer_personnels",
        "Informer les personnels de l'existence de la salle et de ses règles d'usage",
    ),
    (
        "expliquer_convocations",
        "S'assurer que les convocations sont explicitées (synchrone ou asynchrone)",
    ),
    (
        "liberer_enseignant",
        "Libérer l'enseignant de ses cours pendant les sessions synchrones "
        "(une convocation asynchrone ne libère pas)",
    ),
)
"""Charter 002/003: the chef d'établissement and the IEN have the same duties."""

_CHARTER_TASKS = (
    # En amont — on valider_scenario (charter 002/003).
    *(
        TaskSpec("en_amont", code, role, label)
        for role in ("chef_etablissement", "ien")
        for code, label in _LOCAL_AUTHORITY_TASKS
    ),
    TaskSpec(
        "en_amont",
        "salle_distance",
        "coordonnateur_reseau",
        "Identifier une salle pour les sessions à distance (synchrones ou asynchrones)",
    ),
    TaskSpec(
        "en_amont",
        "informer_personnels",
        "coordonnateur_reseau",
        "Communiquer sur la salle et ses règles d'usage",
    ),
    TaskSpec(
        "en_amont",
        "reserver_salle",
        "stagiaire",
        "Repérer la salle et ses règles d'usage, et la réserver",
    ),
    TaskSpec(
        "en_amont",
        "comprendre_convocation",
        "stagiaire",
        "Prendre connaissance de la convocation et de ses modalités",
    ),
    TaskSpec(
        "en_amont",
        "etre_libere",
        "stagiaire",
        "S'assurer d'être libéré pour les sessions synchrones",
    ),
    TaskSpec(
        "en_amont",
        "configurer_espace",
        "formateur",
        "Configurer l'espace numérique (parcours M@gistère, classe virtuelle)",
    ),
    TaskSpec(
        "en_amont",
        "scenariser",
        "formateur",
        "Scénariser les modalités et planifier l'accompagnement",
    ),
    TaskSpec(
        "en_amont",
        "tester_materiel",
        "formateur",
        "Préparer et tester le matériel de classe virtuelle",
    ),
    TaskSpec(
        "en_amont",
        "sensibiliser_personnels",
        "pilote",
        "Sensibiliser les personnels au caractère hybride de la formation et à sa plus-value "
        "dans la communication de rentrée",
    ),
    TaskSpec(
        "en_amont",
        "verifier_competences",
        "pilote",
        "Vérifier la compétence du formateur en formation hybride",
    ),
    TaskSpec(
        "en_amont",
        "calendrier",
        "pilote",
        "Établir le calendrier en tenant compte du délai administratif",
    ),
    # Pendant — on demarrer.
    TaskSpec(
        "pendant",
        "liens_connexion",
        "formateur",
        "Vérifier que les stagiaires ont reçu les liens de connexion",
    ),
    TaskSpec(
        "pendant",
        "message_ouverture",
        "formateur",
        "Annoncer les critères de validation et le plan d'accompagnement "
        "dans le message d'ouverture",
    ),
    TaskSpec(
        "pendant",
        "consignes_activites",
        "formateur",
        "Expliciter les consignes de chaque activité, en suivant le scénario",
    ),
    TaskSpec(
        "pendant",
        "criteres_validation",
        "stagiaire",
        "Identifier les critères de validation et la personne à contacter",
    ),
    TaskSpec("pendant", "planifier_asynchrone", "stagiaire", "Planifier les activités asynchrones"),
    # Après — on terminer.
    TaskSpec(
        "apres",
        "contenus_disponibles",
        "formateur",
        "Laisser les contenus de formation à disposition",
    ),
    TaskSpec(
        "apres",
        "documents_administratifs",
        "formateur",
        "Déposer les documents administratifs : listes d'émargement (présentiel et "
        "asynchrone) et fiches de rémunération, pour Sofia-FMO",
    ),
    TaskSpec(
        "apres", "conseiller_pilote", "formateur", "Faire part au pilote des pistes d'amélioration"
    ),
    TaskSpec(
        "apres",
        "promouvoir_parcours",
        "formateur",
        "Promouvoir les parcours M@gistère en libre accès",
    ),
    TaskSpec(
        "apres", "questionnaire_evaluation", "stagiaire", "Renseigner le questionnaire d'évaluation"
    ),
    TaskSpec(
        "apres", "bilan_qualite", "pilote", "Faire le bilan à partir des questionnaires qualité"
    ),
    TaskSpec(
        "apres",
        "evaluer_dispositif",
        "pilote",
        "Évaluer le dispositif hybride pour le prochain PAF",
    ),
    *(
        TaskSpec(
            "apres",
            "dynamique_positive",
            role,
            "Impulser et veiller au maintien d'une dynamique positive autour de la modalité "
            "hybride, en s'appuyant sur les personnes formées à distance et volontaires pour "
            "accompagner",
        )
        for role in _LOCAL
    ),
)

TASKS = tuple(replace(task, due_with=TASK_DUE_WITH.get(task.phase)) for task in _CHARTER_TASKS)

SPEC = WorkflowSpec(
    name=NAME,
    version=1,
    label="Dossier de formation hybride",
    initial="brouillon",
    phases=PHASES,
    states=STATES,
    transitions=TRANSITIONS,
    deadlines=DEADLINES,
    tasks=TASKS,
)
