#!/usr/bin/env bash
# The same split on one workstation without Slurm: N shards as N processes (xargs -P),
# then the merge.
#
#   examples/slurm/workstation.sh 4 validate spec.toml --param training.ratio --values 0.1:0.9:0.1 \
#       --trials 10 --out-dir run
#
# Each process uses every core for its own linear algebra; with N processes set
# RAYON_NUM_THREADS to about cores / N. Set RFRISK to the binary if it is not on the PATH.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 N RFRISK-ARGS..." >&2
    exit 2
fi
n=$1
shift
rfrisk=${RFRISK:-rfrisk}
seq 1 "$n" | xargs -P "$n" -I{} "$rfrisk" "$@" --shard "{}/$n"
"$rfrisk" "$@" --merge
