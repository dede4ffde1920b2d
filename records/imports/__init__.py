"""Bulk import and export of administrative records: template, dry-run preview, all-or-nothing idempotent write,
large files in Celery, and exports of the applications a user may see (see docs/parts/architecture-imports.md)."""
