"""The recompute engine of the indicators, one module per idea:

* ``outbox``: the marks records' write transactions leave (``recompute_mark_dirty``) and the task queued after
  the commit; the only module ``records`` imports;
* ``runner``: the lock, the run rows, the kind of build, the swap of the indicator version;
* ``cost``: the estimate that chooses between an incremental build and a full rebuild;
* ``builder``: runs the SQL of a build (reference tables, facts, cells; full, by years, by difference);
* ``sql``: the SQL text, which a test can read without running it;
* ``parallel``: a full rebuild's jobs shared by several PostgreSQL connections;
* ``seam``: the one test seam, just before a build commits.

``indicators.services`` is the public face (the names callers use).
"""
