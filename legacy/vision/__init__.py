"""Document vision: a PDF or image in, its pages' text and layout out, or a schema filled.

The pipeline behind the doc-AI jobs (``/doc-ai/v1/job/digitise`` and ``/extract``); the job
worker calls ``legacy.vision.pipeline``, which lists the steps:

    bytes ─ raster.py ─> page PNGs ─ ocr_client.py (POST /v1/ocr) ─> lines with boxes
      ─ layout.py ─> pages of blocks ─┬─ render.py ─> Markdown, HTML, JSON
                                      └─ extract.py (schema.py, fields.py) ─> result, annotations

**Limits.** At most 50 pages a document; images of at most 50 MP; pages rendered at 150 DPI
and at most 2000 px on a side (the OCR model's working size); the OCR model reads Latin
script (English), not Devanagari or other Indic scripts.

**Determinism.** Every step is a pure function of its input but OCR, and the OCR model is
deterministic too (``legacy/inference/ocr.py``): the same bytes give the same pages, the
same Markdown and the same extraction.

**Errors** (``errors.py`` draws the tree): ``DocumentRejected`` is the input's fault (fail
the file, no retry), ``SchemaRejected`` the schema's (400 at request time), ``VisionFailed``
transient (retry), ``ExtractionInvalid`` a bug.
"""

from __future__ import annotations

__all__: list[str] = []
