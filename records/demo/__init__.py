"""Synthetic applications for demonstrations and benchmarks (``manage.py seed_demo``).

The data look like the real thing in shape (years 2015-2025, every code list used with plausible weights,
districts weighted by province, nationalities weighted to the region, decisions and their delays, people referred
by more than one institution) while the identity data are obviously fake ("PERSONA DE PRUEBA", documents
"DEMO..."), so a screenshot of the demo can never be mistaken for a victim's file.

Speed: rows are generated in chunks (memory stays bounded) as plain tuples per table (``generator``) and written
by the bulk writer the import uses too (records/bulk.py: COPY on PostgreSQL, multi-row INSERTs elsewhere).
Nothing calls ``save()`` per row. Simple-history rows are not written for synthetic data (there is no "who
changed it" to record); workflow events and decisions are.

``reference`` holds the weights and the reference data the generator draws from, ``rows`` the tables' columns,
``seeding`` the load itself.
"""

from .generator import Generator
from .reference import DEMO_USERNAME
from .rows import Chunk
from .seeding import BULK_THRESHOLD, ChunkWriter, seed

__all__ = ["BULK_THRESHOLD", "DEMO_USERNAME", "Chunk", "ChunkWriter", "Generator", "seed"]
