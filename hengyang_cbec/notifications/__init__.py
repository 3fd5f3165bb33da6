"""Notifications to applicants: the inbox in the portal and the e-mail that follows each message.

Both sides tell the applicant through `services.notify`; the texts are templates under
templates/notifications/, translated like every other string and rendered once per language when
the message is written. E-mail leaves through a Celery task with retries and backoff; each
notification row is its own outbox entry, so a message the broker did not take is sent by the
periodic sweep.
"""
