"""Objects the job APIs take in and hand out: where they live and how a URL proves access.

Job files are uploaded and downloaded by plain HTTP with no API key (the SDK helpers PUT with
``x-ms-blob-type: BlockBlob`` and GET without headers, sdk-contract §1.9), so each URL carries
its own proof: an HMAC over the method, the object's key and an expiry (``signing.py``). The
bytes live behind :class:`ObjectStore` (``objects.py``); the lab's store is a directory on
local disk, and an object store could replace it without touching the job system.
"""

from legacy.storage.objects import LocalDiskStore, ObjectMissing, ObjectStore, ObjectTooLarge
from legacy.storage.signing import SignatureRejected, SignedUrl, UrlSigner

__all__ = [
    "LocalDiskStore",
    "ObjectMissing",
    "ObjectStore",
    "ObjectTooLarge",
    "SignatureRejected",
    "SignedUrl",
    "UrlSigner",
]
