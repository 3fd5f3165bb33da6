"""The auditor's dossier (审计档案).

The whole record of one application, of a measure and year or of a disbursement batch, in one
ZIP that can be verified offline.

record: what the portal knows of one application, as plain values (the summary PDF and
record.json); writer: the ZIP, streamed, with the audit chain excerpt and manifest.json;
verify: the offline check, standard library only (`python3 reviews/dossier/verify.py FILE.zip`).
"""
