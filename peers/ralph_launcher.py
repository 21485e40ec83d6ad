"""Starts Ralph (ralph-malph 5.1.0) for the tests, run by the interpreter of Ralph's own venv.

Ralph's filesystem backend writes every POST in "create" mode, so every write after the first
fails; this launcher patches it to append once the file exists, then serves Ralph's FastAPI app
with uvicorn on 127.0.0.1 only. The other known defects (verb/activity filters never match, no
voiding, invalid statements accepted, `since` compared with `timestamp` instead of `stored`) are
left as they are: the tests either rely on them on purpose or avoid them.

Usage: python ralph_launcher.py PORT DATA_DIR USERNAME PASSWORD
Runs outside Skillpath's venv: imports only Ralph's dependencies.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def main() -> None:
    port, data_dir, username, password = sys.argv[1:5]
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    import bcrypt

    auth_file = data / "auth.json"
    auth_file.write_text(
        json.dumps(
            [
                {
                    "agent": {"account": {"homePage": "http://127.0.0.1", "name": username}},
                    "scopes": ["all"],
                    "hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode(),
                    "username": username,
                }
            ]
        )
    )
    os.environ.update(
        {
            "RALPH_APP_DIR": str(data),
            "RALPH_AUTH_FILE": str(auth_file),
            "RALPH_RUNSERVER_BACKEND": "fs",
            "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(data / "lrs"),
            "RALPH_BACKENDS__DATA__FS__DEFAULT_DIRECTORY_PATH": str(data / "lrs"),
        }
    )
    (data / "lrs").mkdir(exist_ok=True)

    from ralph.backends.data.base import BaseOperationType
    from ralph.backends.lrs.fs import FSLRSBackend

    original_write = FSLRSBackend.write

    def appending_write(
        self, data, target=None, chunk_size=None, ignore_errors=False, operation_type=None
    ):  # type: ignore[no-untyped-def]
        if operation_type is None:
            operation_type = BaseOperationType.APPEND
            lrs_file = Path(self.settings.DEFAULT_DIRECTORY_PATH) / self.settings.DEFAULT_LRS_FILE
            if not lrs_file.exists():
                operation_type = BaseOperationType.CREATE
        return original_write(self, data, target, chunk_size, ignore_errors, operation_type)

    FSLRSBackend.write = appending_write  # type: ignore[method-assign]

    import uvicorn

    uvicorn.run("ralph.api:app", host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
