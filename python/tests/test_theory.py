"""predict and gep against the CLI's JSON, bit for bit (dict equality of the parsed JSON:
floats compare exactly), for specs given as a path, a dict, a TOML string and a JSON string."""

import json

import pytest

import rfrisk
from conftest import EXAMPLE

ENTROPIC = {
    "data": {"dim": 500},
    "features": {"widths": [1000], "activation": "tanh"},
    "teacher": {"prior": "half-normal", "noise_std": 0.0},
    "training": {"samples": 300, "mirror": "entropic"},
}

ENTROPIC_TOML = """
[data]
dim = 500
[features]
widths = [1000]
activation = "tanh"
[teacher]
prior = "half-normal"
noise_std = 0.0
[training]
samples = 300
mirror = "entropic"
"""


def test_squared_example_equals_the_cli(cli):
    expected = cli.json("predict", EXAMPLE, "--format", "json")
    got = rfrisk.predict(EXAMPLE)
    assert got == expected
    assert got["excess_risk"] == 0.09687254572868702  # the README's number, exactly
    assert rfrisk.predict(str(EXAMPLE)) == expected


def test_overrides_are_the_clis_set(cli):
    expected = cli.json("predict", EXAMPLE, "--format", "json", "--set", "training.samples=800", "--set", "training.ridge=0.01")
    assert rfrisk.predict(EXAMPLE, **{"training.samples": 800, "training.ridge": 0.01}) == expected
    assert rfrisk.predict(EXAMPLE, set={"training.samples": 800, "training.ridge": 0.01}) == expected
    assert rfrisk.predict(EXAMPLE, set={"training.samples": "800"}, **{"training.ridge": "0.01"}) == expected


def test_entropic_dict_and_strings_equal_the_cli(cli, write_spec):
    expected = cli.json("predict", write_spec(ENTROPIC_TOML), "--format", "json")
    assert expected["spec"]["training"]["mirror"] == "entropic"
    assert rfrisk.predict(ENTROPIC) == expected
    assert rfrisk.predict(ENTROPIC_TOML) == expected
    assert rfrisk.predict(json.dumps(ENTROPIC)) == expected
    # The JSON's spec reads back as a spec (every key explicit): the same prediction.
    assert rfrisk.predict(expected["spec"]) == expected


def test_non_odd_gep_and_widths_list_equal_the_cli(cli):
    args = ["--set", "features.activation=relu", "--set", "features.widths=[1500,1200]"]
    assert rfrisk.gep(EXAMPLE, **{"features.activation": "relu", "features.widths": [1500, 1200]}) == cli.json("gep", EXAMPLE, "--format", "json", *args)
    assert rfrisk.predict(EXAMPLE, **{"features.activation": "relu", "features.widths": [1500, 1200]}) == cli.json(
        "predict", EXAMPLE, "--format", "json", *args
    )
    layers = rfrisk.gep(EXAMPLE)
    assert layers == cli.json("gep", EXAMPLE, "--format", "json")
    assert len(layers) == 2 and layers[0]["v_in"] == 1.0


def test_numpy_values_are_accepted(cli):
    np = pytest.importorskip("numpy")
    expected = cli.json("predict", EXAMPLE, "--format", "json", "--set", "training.samples=800", "--set", "features.widths=[1500,1500]")
    spec = {"data": {"dim": np.int64(1000)}, "features": {"widths": np.array([1500, 1500]), "activation": "tanh", "weights": "onebit"},
            "teacher": {"noise_std": np.float64(0.1)}, "training": {"samples": 800}}
    assert rfrisk.predict(spec) == expected
    assert rfrisk.predict(EXAMPLE, **{"training.samples": np.int32(800), "features.widths": np.array([1500, 1500])}) == expected


def test_the_readmes_example_prints_what_the_cli_prints(cli):
    import re
    import subprocess
    import sys

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    example = re.search(r"## Python\n.*?```python\n(.*?)```", readme, re.S).group(1)
    assert len(example.strip().splitlines()) == 5
    printed = subprocess.run([sys.executable, "-c", example], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(l for l in cli("predict", EXAMPLE).stdout.splitlines() if l.startswith("excess risk"))
    assert printed.splitlines()[0] == line == "excess risk  0.0968725457"
