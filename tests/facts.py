"""The general facts of an eligible enterprise (Article I), shared by the tests that assess."""

from types import MappingProxyType

# Read-only: a test builds its own facts with {**GENERAL_FACTS, ...}.
GENERAL_FACTS = MappingProxyType(
    {
        "entity_type": "enterprise",
        "registered_in_hengyang": True,
        "pays_taxes": True,
        "independent_legal_person": True,
        "has_cbec_performance": True,
        "in_customs_cbec_statistics": True,
        "year": 2026,
    }
)
