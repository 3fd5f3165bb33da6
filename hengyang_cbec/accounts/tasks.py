from celery import shared_task


@shared_task
def disable_dormant_staff() -> int:
    from .services import disable_dormant_staff as disable

    return len(disable())
