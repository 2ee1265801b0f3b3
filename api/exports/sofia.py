"""The Sofia-FMO pack of a dossier: a zip of its émargement lists and fiches de
rémunération, with a French manifest (CSV) listing each file and its SHA-256.

The charter asks the formateur to hand these documents over for Sofia-FMO (DOMAIN §3,
« après »); one archive per dossier, whose manifest lets the receiving service check that
nothing was lost or altered on the way. When a decision exists, the fiche de rémunération
formaflow prints is added too.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import datetime

from api.exports.sheets import Kind, csv_cell, neutralise
from workflow.language.french import PARIS
from workflow.reads.paperwork import Header, PackFile

MANIFEST = "manifeste.csv"
MANIFEST_HEADERS = (
    "Fichier",
    "Type de document",
    "Nom d'origine",
    "Taille (octets)",
    "SHA-256",
    "Déposé le",
    "Déposé par",
    "Remarque",
)
FOLDERS = {"emargement": "emargements", "fiche_remuneration": "fiches_remuneration"}


def _zip_time(value: datetime) -> tuple[int, int, int, int, int, int]:
    local = value.astimezone(PARIS)
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, local.second)


def pack(header: Header, files: list[PackFile], fiche_html: str | None, now: datetime) -> bytes:
    buffer = io.BytesIO()
    rows: list[list[str]] = []
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            d = item.document
            name = f"{FOLDERS.get(d.kind, 'autres')}/{d.id}-{d.filename}"
            note = ""
            if item.path is None or not item.path.is_file():
                note = "fichier introuvable sur le serveur : non joint"
                size, digest = "", d.sha256
            else:
                data = item.path.read_bytes()
                size, digest = str(len(data)), hashlib.sha256(data).hexdigest()
                if digest != d.sha256:
                    note = "empreinte différente de celle du dépôt"
                info = zipfile.ZipInfo(name, date_time=_zip_time(d.uploaded_at))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
            rows.append(
                [
                    name,
                    item.kind_label,
                    neutralise(d.filename),
                    size,
                    digest,
                    csv_cell(d.uploaded_at, Kind.DATETIME),
                    neutralise(item.uploaded_by),
                    note,
                ]
            )
        if fiche_html is not None:
            name = f"fiche_remuneration_{header.reference}.html"
            data = fiche_html.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=_zip_time(now))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
            rows.append(
                [
                    name,
                    "Fiche de rémunération (produite par formaflow)",
                    "",
                    str(len(data)),
                    hashlib.sha256(data).hexdigest(),
                    csv_cell(now, Kind.DATETIME),
                    "formaflow",
                    "",
                ]
            )
        manifest = io.StringIO()
        writer = csv.writer(manifest, delimiter=";", lineterminator="\r\n")
        writer.writerow([f"Dossier {header.reference}", neutralise(header.title)])
        writer.writerow(MANIFEST_HEADERS)
        writer.writerows(rows)
        info = zipfile.ZipInfo(MANIFEST, date_time=_zip_time(now))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, ("\ufeff" + manifest.getvalue()).encode("utf-8"))
    return buffer.getvalue()
