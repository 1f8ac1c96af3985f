"""The vision pipeline's exceptions: whose fault a failure is decides what the caller does.

VisionError
├── DocumentRejected   the input's fault: not a PDF or image, encrypted, damaged, over a
│                      limit, unreadable by the model, or lacking a required field. The job
│                      marks the file failed and never retries; the message tells the user
│                      what to fix.
├── SchemaRejected     the extraction schema breaks a rule (checked when the job is
│                      requested: a 400); the message names the field and the rule.
├── VisionFailed       transient: the OCR model was unreachable, timed out or failed (5xx).
│                      The job retries.
└── ExtractionInvalid  a bug: an extraction result that does not validate against its own
                       schema. Never returned; the job reports an internal error.
"""

from __future__ import annotations

__all__ = [
    "DocumentRejected",
    "ExtractionInvalid",
    "SchemaRejected",
    "VisionError",
    "VisionFailed",
]


class VisionError(Exception):
    """Base of the pipeline's exceptions; ``str(error)`` is the message for the user."""


class DocumentRejected(VisionError):
    """The document cannot be processed as sent; retrying will not help."""


class SchemaRejected(VisionError):
    """The extraction schema is not one this pipeline accepts."""


class VisionFailed(VisionError):
    """The OCR model failed for a reason outside the document; retrying may succeed."""


class ExtractionInvalid(VisionError):
    """An extraction result failed its own schema's validation: a bug in the extractor."""
