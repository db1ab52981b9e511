"""Find a host interpreter for a Lambda Python runtime (python3.12 -> a Python 3.12 binary)."""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException


def _version_of(python: str) -> str | None:
    try:
        out = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


@functools.cache
def find_python(version: str) -> str:
    """An interpreter whose major.minor is `version`, checked by running it."""
    override = os.environ.get(f"LAMBDA_PROCESS_PYTHON_{version.replace('.', '_')}")
    candidates = [override] if override else []
    # LocalStack's own interpreter (outside its venv) when it is the right version.
    candidates.append(getattr(sys, "_base_executable", sys.executable))
    candidates.append(shutil.which(f"python{version}"))
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        if candidate and _version_of(candidate) == version:
            return candidate
    raise LambdaRuntimeException(
        f"No Python {version} interpreter found for runtime python{version}: install it (e.g. "
        f"`pyenv install {version}`) or set LAMBDA_PROCESS_PYTHON_{version.replace('.', '_')}"
    )
