"""Every exception type, with its key or residuals, where the CLI exits 2, 3 or 4."""

import re

import pytest

import rfrisk
from conftest import EXAMPLE
from test_theory import ENTROPIC

# A non-odd chain through narrow bottlenecks between 10^6-wide layers (equations/nonodd.md
# §4, the known limit): the solver stops short and reports its residuals (CLI exit 4).
UNCONVERGED = {"data": {"dim": 1000}, "features": {"widths": [59, 1000000, 47, 51, 44, 23, 1000000], "activation": "relu"},
               "training": {"samples": 999000}}


@pytest.mark.parametrize(
    "spec, overrides, key, words",
    [
        ({"training": {"samples": "x"}}, {}, "training.samples", "expected an integer"),
        ({"trainin": {}}, {}, "trainin", "did you mean `training`"),
        ({"features": {"widths": [100, -3]}}, {}, "features.widths[1]", "must be > 0"),
        ({}, {"training.sample": 3}, "training.sample", "did you mean `training.samples`"),
        ({}, {"features.widths": 1500}, "features.widths", "write a list"),
        (ENTROPIC, {"training.samples": 1000}, "training.samples", "not below the last width"),
        ("does-not-exist.toml", {}, None, "cannot read spec file does-not-exist.toml"),
        ("[data\ndim = 3", {}, None, "cannot parse spec"),
    ],
)
def test_spec_errors_name_their_key(spec, overrides, key, words):
    with pytest.raises(rfrisk.SpecError) as caught:
        rfrisk.predict(spec, **overrides)
    assert caught.value.key == key
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_the_same_spec_error_as_the_cli(cli):
    done = cli("predict", EXAMPLE, "--set", "training.ratio=-1", code=2)
    with pytest.raises(rfrisk.SpecError) as caught:
        rfrisk.predict(EXAMPLE, **{"training.ratio": -1})
    assert caught.value.key == "training.ratio"
    assert str(caught.value) in done.stderr


def test_sweep_refuses_a_bad_key_or_value_up_front():
    with pytest.raises(rfrisk.SpecError) as caught:
        rfrisk.sweep(EXAMPLE, "training.sampels", [100])
    assert caught.value.key == "training.sampels" and "training.samples" in str(caught.value)
    with pytest.raises(rfrisk.SpecError) as caught:
        rfrisk.sweep(EXAMPLE, "training.samples", [100, 2.5])
    assert caught.value.key == "training.samples" and "not an integer" in str(caught.value)


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"data.source": "student-t:5"}, "t inputs are simulated only"),
        ({"training.samples": 2000}, "the risk is infinite"),
        ({"features.activation": "gelu", "training.mirror": "entropic", "training.init": 0.01}, "negative mean"),
    ],
)
def test_outside_the_theory(cli, overrides, words):
    with pytest.raises(rfrisk.OutsideTheory, match=words) as caught:
        rfrisk.predict(EXAMPLE, **overrides)
    sets = [a for k, v in overrides.items() for a in ("--set", f"{k}={v}")]
    assert str(caught.value) in cli("predict", EXAMPLE, *sets, code=3).stderr


def test_entropic_infeasible_is_outside_the_theory():
    with pytest.raises(rfrisk.OutsideTheory, match="no positive interpolator"):
        rfrisk.predict(ENTROPIC, **{"training.samples": 900, "teacher.noise_std": 0.5})


def test_solver_error_carries_the_residuals(cli, write_spec):
    with pytest.raises(rfrisk.SolverError) as caught:
        rfrisk.predict(UNCONVERGED)
    residuals = caught.value.residuals
    assert len(residuals) == 8 and abs(residuals[0]) > 1e-10  # E_0 is the one left unsolved
    # The CLI's message prints the same residuals (Rust's shortest round-trip floats).
    path = write_spec("[data]\ndim = 1000\n[features]\nwidths = [59, 1000000, 47, 51, 44, 23, 1000000]\nactivation = \"relu\"\n[training]\nsamples = 999000\n")
    stderr = cli("predict", path, code=4).stderr
    printed = [float(x) for x in re.search(r"residuals \[([^\]]*)\]", stderr).group(1).split(",")]
    assert residuals == printed


def test_solver_error_without_a_root_has_no_residuals(cli):
    # The known entropic limit (tests/cli.rs): a start 9.5 times the teacher's scale.
    spec = {"features": {"widths": [1000]}, "teacher": {"prior": "half-normal"}, "training": {"samples": 800, "mirror": "entropic", "init": 0.3}}
    with pytest.raises(rfrisk.SolverError, match="no root") as caught:
        rfrisk.predict(spec)
    assert caught.value.residuals is None


def test_wrong_python_types_are_type_errors():
    with pytest.raises(TypeError):
        rfrisk.predict(42)
    with pytest.raises(TypeError):
        rfrisk.predict({}, **{"training.samples": object()})
