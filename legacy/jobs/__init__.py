"""Batch jobs (issue 8, rfcs/0007): a PostgreSQL queue of files, worked by ``banyan worker``.

``queue.py`` keeps jobs, files, leases and the once-only billing of each file; ``work.py``
holds what a worker does with a file of each kind; ``worker.py`` is the worker process. The
HTTP surfaces that create and read jobs are ``legacy/stt_jobs_api.py`` and
``legacy/doc_ai_api.py``; ``legacy/jobs/starting.py`` is what both do to start one.
"""
