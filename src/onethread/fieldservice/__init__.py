"""Field service: work orders, prerequisites, visits, incidents, subcontractor records (docs/field-service.md)."""
