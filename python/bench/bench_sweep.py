"""A 200-point sweep through Python against the same sweep through the library, in one script.

The library's time is `rfrisk bench sweep`'s (the very sweep `rfrisk sweep` runs, timed
inside the process: a training.samples sweep at depth 5, width 2000, d0 = 1000, n = 5..1995,
best of 20); Python's is rfrisk.sweep on the same spec and values, best of 20. A second pair
times an entropic sweep (predictions 300 times slower) through Python and through the
`rfrisk sweep` command (process start included). Run from the repository root:

    python python/bench/bench_sweep.py [path/to/rfrisk]

(It lives in python/bench/, not python/: a script's folder comes first on sys.path, and in
python/ `import rfrisk` would find the source folder, which has no native module.)
"""

import re
import subprocess
import sys
import time
from pathlib import Path

import rfrisk

ROOT = Path(__file__).resolve().parents[2]
BINARY = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target" / "release" / "rfrisk")
REPEATS = 20


def best(run):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


bench = subprocess.run([BINARY, "bench", "sweep", "--points", "200", "--depth", "5", "--repeats", str(REPEATS)], capture_output=True, text=True, check=True)
library = float(re.search(r"parallel sweep\s+([\d.]+) ms", bench.stdout).group(1)) / 1e3

shape = {"data.dim": 1000, "features.widths": [2000], "features.depth": 5}
values = [5 + 10 * i for i in range(200)]
curve = rfrisk.sweep({}, "training.samples", values, **shape)
assert (curve["status"] == "ok").all(), "every point of the bench sweep solves"
python = best(lambda: rfrisk.sweep({}, "training.samples", values, **shape))
print(f"squared map, 200 points: library {library * 1e3:.2f} ms, Python {python * 1e3:.2f} ms, ratio {python / library:.2f}")

entropic = {**shape, "teacher.prior": "half-normal", "teacher.noise_std": 0.1, "training.mirror": "entropic"}
spec = ROOT / "target" / "bench-entropic.toml"
spec.write_text("")
sets = [a for k, v in entropic.items() for a in ("--set", f"{k}={str(v).replace(' ', '')}")]
command = [BINARY, "sweep", str(spec), "--param", "training.samples", "--values", "5:1995:10", *sets]
cli = best(lambda: subprocess.run(command, capture_output=True))
python_entropic = best(lambda: rfrisk.sweep({}, "training.samples", values, **entropic))
print(f"entropic map, 200 points: rfrisk sweep {cli:.3f} s, Python {python_entropic:.3f} s, ratio {python_entropic / cli:.2f}")
