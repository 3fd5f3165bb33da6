"""Publishing Celery tasks from a request without depending on the broker.

Services enqueue after commit. When the broker (Redis) is down, a request must neither hang nor fail
after its transaction committed: the publish is tried once, and a job that was not published stays
in its table (pending evidence, notice outbox, export job, e-mail outbox) for the periodic sweep
that sends it again.
"""

from __future__ import annotations

import logging

import redis
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a publish to a dead or unreachable broker raises.
BROKER_ERRORS = (OperationalError, redis.exceptions.RedisError, OSError)


def publish(task, *args, **options) -> bool:
    """`task.apply_async(args)` with no publish retries; False (logged) when the broker is down.

    Errors of the task itself (in-process mode) propagate; only broker errors are absorbed.
    """
    try:
        task.apply_async(args=args, retry=True, retry_policy={"max_retries": 0}, **options)
    except BROKER_ERRORS as exc:
        logger.warning("task %s%r not published, left to its sweep: %s", task.name, args, exc)
        return False
    return True
