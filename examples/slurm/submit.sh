#!/usr/bin/env bash
# Submits an rfrisk run as an N-task job array and its merge as a job that starts when every
# task has succeeded (--dependency=afterok). Prints both job IDs.
#
#   examples/slurm/submit.sh 16 validate spec.toml --param features.width --values 1024:16384:1024 \
#       --trials 20 --out-dir run
#
# SBATCH_ARGS (e.g. "--partition=long --time=04:00:00") go to both submissions; MERGE_ARGS
# (e.g. --wait) to the merge job only.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 N RFRISK-ARGS..." >&2
    exit 2
fi
n=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_ARGS:-} --array=0-$((n - 1)) "$here/shard.sbatch" "$@")
echo "shards: job array $array (${n} tasks)"
# shellcheck disable=SC2086
sbatch ${SBATCH_ARGS:-} ${MERGE_ARGS:-} --dependency=afterok:"${array%%;*}" --kill-on-invalid-dep=yes "$here/merge.sbatch" "$@"
