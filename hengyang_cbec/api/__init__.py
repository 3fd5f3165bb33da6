"""The portal's open API (django-ninja, OpenAPI 3) at /api/v1/, its reference page at /api/, and
the API keys of the systems that call it. The API layer only reads and calls the apps' services."""
