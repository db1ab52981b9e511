#!/usr/bin/env bash
# Prints the path of a Python >= 3.12 (LocalStack 4.14 and the project need it), newest first:
# PATH first, then pyenv's installed versions. Exits 1 with what to install when there is none.
set -euo pipefail

is_312_plus() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

for name in python3.13 python3.12 python3; do
  if candidate=$(command -v "$name" 2>/dev/null) && is_312_plus "$candidate"; then
    echo "$candidate"; exit 0
  fi
done

pyenv_root=${PYENV_ROOT:-}
if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null 2>&1; then pyenv_root=$(pyenv root); fi
pyenv_root=${pyenv_root:-$HOME/.pyenv}
for minor in 13 12; do
  for candidate in $(ls -d "$pyenv_root"/versions/3."$minor".*/bin/python3."$minor" 2>/dev/null | sort -rV); do
    if is_312_plus "$candidate"; then echo "$candidate"; exit 0; fi
  done
done

echo "error: no Python >= 3.12 found on PATH or under $pyenv_root/versions." >&2
echo "       Install one, e.g. 'pyenv install 3.13' or your OS package 'python3.13', then run make again." >&2
exit 1
