import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


def _ruff(*args):
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    return subprocess.run(  # noqa: S603
        [ruff, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_ruff_check_is_clean():
    result = _ruff("check", ".")

    assert result.returncode == 0, result.stdout


def test_ruff_format_is_clean():
    result = _ruff("format", "--check", ".")

    assert result.returncode == 0, result.stdout


@pytest.mark.django_db
def test_migrations_match_the_models():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
