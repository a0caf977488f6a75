"""The CLI the tests compare against: $RFRISK_BIN, else the repository's
target/release/rfrisk (.ci/run has built it), built here if it is missing."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tanh-depth2.toml"


@pytest.fixture(scope="session")
def cli():
    binary = Path(os.environ.get("RFRISK_BIN", ROOT / "target" / "release" / "rfrisk"))
    if "RFRISK_BIN" not in os.environ and not binary.exists():
        subprocess.run(["cargo", "build", "--release", "--bin", "rfrisk"], cwd=ROOT, check=True)
    assert binary.exists(), f"no rfrisk binary at {binary}"

    def run(*args, code=0):
        done = subprocess.run([str(binary), *map(str, args)], cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == code, f"rfrisk {' '.join(map(str, args))}: exit {done.returncode}\n{done.stderr}"
        return done

    run.json = lambda *args: json.loads(run(*args).stdout)
    return run


@pytest.fixture
def write_spec(tmp_path):
    """Writes a TOML spec text to a file, for the CLI."""

    def write(text, name="spec.toml"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
