#!/usr/bin/env bash
# `make test`'s end-to-end SONATA check: libsonata and h5py, pip-installed in a virtual
# environment under target/, read what a fresh ganglion run writes. Skipped, with a notice,
# only when the package index cannot be reached.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/sonata-venv
index="${PIP_INDEX_URL:-https://pypi.org/simple}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import libsonata, h5py" 2>/dev/null; then
    if ! python3 -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1] + '/libsonata/', timeout=20)" "$index" 2>/dev/null; then
        echo "NOTICE: $index is unreachable: the libsonata check is SKIPPED (the Rust tests check the layout)"
        exit 0
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check libsonata==0.2.2 h5py numpy
fi
cargo build --release --quiet
"$venv/bin/python" tests/sonata/check_with_libsonata.py target/release/ganglion target/sonata-check
