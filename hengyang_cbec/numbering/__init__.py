"""Gap-free numbers: application references, notice numbers and disbursement batch numbers."""
