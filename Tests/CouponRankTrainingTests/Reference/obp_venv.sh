#!/usr/bin/env bash
# Creates (or reuses) a Python virtual environment with Open Bandit Pipeline 0.4.1 and a set of
# pins that imports and runs on CPython 3.11, for obp_check.py. Prints the venv's python on the
# last line of its output.
#
#   OBP_VENV   where the venv lives (default: .build/obp-venv beside Package.swift; never committed)
#
# obp 0.4.1 is the newest release that installs on Python 3.11 (0.5.x requires < 3.11). It
# imports torch at module level although its estimators do not need it: the CPU wheel is used
# (a local wheel when pip's find-links has one, else the PyPI build, which is far larger).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${OBP_VENV:-$root/.build/obp-venv}"
stamp="$venv/.couponrank-pins"

# numpy < 2: obp 0.4.1 predates it; the rest are the newest releases that accept numpy 1.26.
pins=(
    "obp==0.4.1"
    "numpy==1.26.4"
    "scipy==1.13.1"
    "pandas==2.2.3"
    "scikit-learn==1.5.2"
    "matplotlib==3.9.4"
    "seaborn==0.13.2"
    "pyyaml==6.0.2"
    "tqdm==4.67.1"
    "mypy-extensions==1.0.0"
)
torch_pin="torch==2.13.0+cpu"

wanted="$(printf '%s\n' "${pins[@]}" "$torch_pin")"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] \
    && "$venv/bin/python" -c "import obp.ope" >/dev/null 2>&1; then
    echo "obp venv: reusing $venv" >&2
    echo "$venv/bin/python"
    exit 0
fi

start=$(date +%s)
rm -rf "$venv"
python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input)
# The CPU build of torch: a wheel in pip's find-links (/opt/wheels on the project's machines) is
# taken when it is there; otherwise the CPU build from PyTorch's own index (PyPI's torch brings
# the CUDA libraries, several GB).
if ! "${pip[@]}" "$torch_pin" >&2; then
    echo "obp venv: $torch_pin is not available here; installing the CPU torch from download.pytorch.org" >&2
    "${pip[@]}" --index-url https://download.pytorch.org/whl/cpu "torch<2.14" >&2
fi
"${pip[@]}" "${pins[@]}" >&2
"$venv/bin/python" -c "import obp, obp.ope, torch, numpy; print('obp', obp.__version__, 'torch', torch.__version__, 'numpy', numpy.__version__)" >&2
echo "$wanted" > "$stamp"
echo "obp venv: created $venv in $(( $(date +%s) - start )) s" >&2
echo "$venv/bin/python"
