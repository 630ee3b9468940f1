"""Write a local `.env` with fresh random keys, unless one exists.

Keys are generated on the developer's machine so none is ever in the code.
"""

import secrets
import sys
from pathlib import Path

ENV_FILE = Path(__file__).resolve().parent.parent / ".env"


def main() -> int:
    if ENV_FILE.exists():
        return 0
    ENV_FILE.write_text(
        "# Local development settings, written by `make demo`. Never commit.\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"CRYPTOGRAPHY_KEY={secrets.token_urlsafe(32)}\n"
    )
    ENV_FILE.chmod(0o600)
    print(f"Wrote {ENV_FILE.name} with new random keys.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
