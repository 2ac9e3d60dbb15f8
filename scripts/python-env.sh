#!/usr/bin/env bash
# The Python environment of the tests and benchmarks: a virtual environment in
# target/py-venv with maturin and pytest (python/requirements-dev.txt), and this
# checkout's package installed the way a user installs it, `pip install ./python` (built
# from the Rust core by maturin, in release mode). Idempotent; a rebuild after a change
# takes seconds. Prints the environment's python on stdout; everything else goes to
# stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$PWD/target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv" >&2
fi
export PATH="$venv/bin:$PATH"  # pip runs the maturin it installed
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
if ! "$venv/bin/python" -c 'import maturin, pytest, mypy' 2>/dev/null; then
  "${pip[@]}" install -r python/requirements-dev.txt >&2
fi
# --no-build-isolation: the pinned maturin above builds it, without a fetch per run.
"${pip[@]}" install --no-build-isolation --force-reinstall --no-deps ./python >&2
echo "$venv/bin/python"
