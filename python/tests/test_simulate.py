"""simulate and gap against the CLI's trials CSV and JSON (the same seeds, so the same
draws: every number equal but the wall time), and a run stopped by Ctrl-C resumed."""

import csv
import os
import signal
import threading

import pytest

import rfrisk

SMALL = "[data]\ndim = 100\n[features]\nwidths = [200]\nactivation = \"tanh\"\n[teacher]\nnoise_std = 0.1\n[training]\nsamples = 80\n"
TRIAL = ["--trials", "4", "--n-test", "500", "--backend", "cpu", "--seed", "7"]


def without_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def read_trials(path):
    number = lambda x: float(x) if x else None
    return [
        {"weights": r["weights"], "trial": int(r["trial"]), "seed": int(r["seed"]), "excess_risk": number(r["excess_risk"]),
         "test_error": number(r["test_error"]), "train_residual": number(r["train_residual"]), "status": r["status"]}
        for r in csv.DictReader(open(path))
    ]


def test_a_small_simulation_equals_the_clis_trials(cli, write_spec, tmp_path):
    path = write_spec(SMALL)
    cli("simulate", path, *TRIAL, "--out", tmp_path / "trials.csv")
    seen = []
    rows = rfrisk.simulate(SMALL, 4, n_test=500, backend="cpu", seed=7, progress=lambda d, t: seen.append((d, t)))
    assert without_seconds(rows) == read_trials(tmp_path / "trials.csv")
    assert [r["weights"] for r in rows] == ["gaussian", "onebit"] * 4
    assert all(r["status"] == "ok" and 0 < r["excess_risk"] < 1 for r in rows)
    assert seen[-1] == (8, 8)
    # The theory is near the mean of these small trials (d_L = 200): within 40%.
    theory = rfrisk.predict(SMALL)["excess_risk"]
    mean = sum(r["excess_risk"] for r in rows) / len(rows)
    assert abs(mean - theory) < 0.4 * theory


def test_gap_equals_the_clis_json(cli, write_spec):
    path = write_spec(SMALL)
    expected = cli.json("gap", path, *TRIAL, "--format", "json")
    got = rfrisk.gap(path, 4, n_test=500, backend="cpu", seed=7)
    assert got == expected
    assert got["in_theory"] is True and len(got["assumptions"]) == 6


def test_a_gap_scan_equals_the_clis_json(cli, write_spec):
    path = write_spec(SMALL)
    expected = cli.json("gap", path, *TRIAL, "--scan", "features.width", "--values", "100,200,400", "--format", "json")
    got = rfrisk.gap(SMALL, 4, n_test=500, backend="cpu", seed=7, scan="features.width", values=[100, 200, 400])
    assert got == expected
    assert [p["value"] for p in got["points"]] == ["100", "200", "400"] and got["scan"] == "features.width"
    assert rfrisk.gap(SMALL, 4, n_test=500, backend="cpu", seed=7, scan="features.width", values="100:400:100")["points"][3]["value"] == "400"


def test_entropic_infeasible_trials_have_none_not_nan():
    spec = {"data": {"dim": 100}, "features": {"widths": [200]}, "teacher": {"prior": "half-normal", "noise_std": 0.5},
            "training": {"samples": 180, "mirror": "entropic"}}
    rows = rfrisk.simulate(spec, 2, weights="gaussian", n_test=200, backend="cpu")
    assert [r["status"] for r in rows] == ["infeasible", "infeasible"]
    assert all(r["excess_risk"] is None and r["test_error"] is None for r in rows)


def test_bad_trial_arguments_are_value_errors():
    with pytest.raises(ValueError, match="weights"):
        rfrisk.simulate(SMALL, 2, weights="bogus")
    with pytest.raises(ValueError, match="trials and n_test"):
        rfrisk.simulate(SMALL, 0)
    with pytest.raises(ValueError, match="exactly two laws"):
        rfrisk.gap(SMALL, 3, weights="gaussian")
    with pytest.raises(rfrisk.SpecError) as caught:
        rfrisk.simulate(SMALL, 2, **{"features.activation": "tahn"})
    assert caught.value.key == "features.activation"


# Trials of about 0.1-0.5 s each on 2 cores.
MEDIUM = {"data": {"dim": 1000}, "features": {"widths": [2000, 2000]}, "training": {"samples": 800}}


def test_ctrl_c_stops_between_trials_and_the_csv_resumes(tmp_path):
    out = tmp_path / "trials.csv"
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        rfrisk.simulate(MEDIUM, 200, weights="gaussian", n_test=500, backend="cpu", out=out)
    finished = read_trials(out)  # every line whole: each trial was appended as it finished
    assert [r["trial"] for r in finished] == list(range(len(finished)))
    with pytest.raises(FileExistsError):
        rfrisk.simulate(MEDIUM, 1, weights="gaussian", n_test=500, backend="cpu", out=out)
    k = len(finished) + 1
    resumed = rfrisk.simulate(MEDIUM, k, weights="gaussian", n_test=500, backend="cpu", out=out, resume=True)
    fresh = rfrisk.simulate(MEDIUM, k, weights="gaussian", n_test=500, backend="cpu")
    assert without_seconds(resumed) == without_seconds(fresh) == read_trials(out)
