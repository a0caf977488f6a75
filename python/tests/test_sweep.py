"""sweep's arrays against the CLI's CSV (`rfrisk sweep`, the library's writer), exactly;
NaN only where the CSV's cell is empty; progress and Ctrl-C."""

import csv
import io
import os
import signal
import threading
import time

import numpy as np
import pytest

import rfrisk
from conftest import EXAMPLE
from test_theory import ENTROPIC_TOML

COLUMNS = ["excess_risk", "test_error", "bias", "variance", "eta", "s", "max_residual"]


def cli_columns(cli, spec, param, values, *sets, code=0):
    text = cli("sweep", spec, "--param", param, "--values", values, *sets, code=code).stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    columns = {name: np.array([float(r[name]) if r[name] else np.nan for r in rows]) for name in COLUMNS}
    columns[param] = [r[param] for r in rows]
    columns["status"] = [r["status"] for r in rows]
    return columns


def assert_same(got, expected, param):
    assert list(got) == [param, *COLUMNS, "status"]
    for name in COLUMNS:
        assert got[name].dtype == np.float64
        # Bit for bit, NaN where the CSV is empty and nowhere else.
        assert np.array_equal(got[name], expected[name], equal_nan=True), name
        assert np.array_equal(np.isnan(got[name]), np.isnan(expected[name])), name
    assert list(got["status"]) == expected["status"]


def test_squared_sweep_equals_the_csv(cli):
    # 200 points, the last (n = d_L with noise) failed: infinite risk.
    expected = cli_columns(cli, EXAMPLE, "training.samples", "10:2000:10", code=5)
    got = rfrisk.sweep(EXAMPLE, "training.samples", range(10, 2001, 10))
    assert_same(got, expected, "training.samples")
    assert got["training.samples"].dtype.kind == "i" and list(got["training.samples"]) == [int(v) for v in expected["training.samples"]]
    assert got["status"][-1].startswith("error: the risk is infinite")
    assert np.isnan(got["excess_risk"][-1]) and not np.isnan(got["excess_risk"][:-1]).any()
    # The CLI's value syntax gives the same sweep.
    assert_same(rfrisk.sweep(EXAMPLE, "training.samples", "10:2000:10"), expected, "training.samples")


def test_entropic_sweep_with_infeasible_points_equals_the_csv(cli, write_spec):
    path = write_spec(ENTROPIC_TOML)
    expected = cli_columns(cli, path, "training.samples", "100:950:50", "--set", "teacher.noise_std=0.1", code=5)
    got = rfrisk.sweep(ENTROPIC_TOML, "training.samples", np.arange(100, 951, 50), **{"teacher.noise_std": 0.1})
    assert_same(got, expected, "training.samples")
    infeasible = [s.startswith("infeasible:") for s in got["status"]]
    assert 0 < sum(infeasible) < len(infeasible)
    assert np.array_equal(np.isnan(got["excess_risk"]), np.array(infeasible))


def test_ridge_sweep_has_no_eta_or_s_as_in_the_csv(cli):
    expected = cli_columns(cli, EXAMPLE, "training.ridge", "0.001,0.01,0.1", "--set", "training.samples=2000")
    got = rfrisk.sweep(EXAMPLE, "training.ridge", [0.001, 0.01, 0.1], **{"training.samples": 2000})
    assert_same(got, expected, "training.ridge")
    assert got["training.ridge"].dtype == np.float64 and list(got["status"]) == ["ok"] * 3
    assert np.isnan(got["eta"]).all() and not np.isnan(got["excess_risk"]).any()


def test_named_values_stay_strings(cli):
    expected = cli_columns(cli, EXAMPLE, "features.activation", "tanh,sign,erf")
    got = rfrisk.sweep(EXAMPLE, "features.activation", ["tanh", "sign", "erf"])
    assert_same(got, expected, "features.activation")
    assert list(got["features.activation"]) == ["tanh", "sign", "erf"]


def test_progress_counts_to_the_end():
    seen = []
    rfrisk.sweep(EXAMPLE, "training.samples", range(10, 2000, 10), progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (199, 199)
    assert all(total == 199 and 0 <= done <= 199 for done, total in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_an_exception_in_progress_stops_the_sweep():
    def fail(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        rfrisk.sweep(EXAMPLE, "training.samples", range(10, 2000, 10), progress=fail)


# About 13 s of work on 2 cores: 200 points of a tanh network 20,000 layers deep.
DEEP = {"features.widths": [2000], "features.depth": 20000}


def test_ctrl_c_interrupts_a_sweep_promptly():
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        rfrisk.sweep(EXAMPLE, "training.samples", range(10, 2001, 10), **DEEP)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0, f"took {elapsed:.1f} s to stop"


def test_the_gil_is_released_during_a_sweep():
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    thread = threading.Thread(target=count)
    thread.start()
    started = time.perf_counter()
    rfrisk.sweep(EXAMPLE, "training.samples", range(10, 2001, 100), **DEEP)  # about 1.3 s
    elapsed = time.perf_counter() - started
    stop.set()
    thread.join()
    # The other thread ran throughout (a tick per 10 ms; a held GIL would allow about one).
    assert len(ticks) > 0.3 * elapsed / 0.01 > 3
