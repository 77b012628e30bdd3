"""The workflow package: a zip whose bytes depend on the files' paths and contents only.

Entries are sorted, stamped with one fixed time and one file mode, and compressed at one level, so
the same files always give the same bytes, the same hash and the same blob name; a changed file
gives a new name, which is what makes the site pick up the new package.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
FILE_MODE = 0o100644  # a regular file, rw-r--r--


@dataclass(frozen=True)
class Package:
    content: bytes
    sha256: str

    @property
    def blob_name(self) -> str:
        return f"workflows-{self.sha256[:20]}.zip"


def build_package(files: Mapping[str, bytes]) -> Package:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(files):
            entry = zipfile.ZipInfo(path, date_time=FIXED_TIMESTAMP)
            entry.external_attr = FILE_MODE << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # unix, whatever machine builds it
            archive.writestr(entry, files[path], compresslevel=9)
    content = buffer.getvalue()
    return Package(content=content, sha256=hashlib.sha256(content).hexdigest())
