#!/usr/bin/env bash
# A sharded rfrisk run under a real Slurm scheduler (issue 19), called by .ci/run.
#
# Installs slurm-wlm and munge when they are missing (as root, with apt-get), starts munged,
# slurmctld and slurmd for a one-node cluster in a scratch directory, submits a small
# validate run with a family of curves (3 values x 2 depths x 2 laws x 4 trials = 48 units)
# as a 4-task job array plus a merge job (--dependency=afterok, sbatch --wait), and compares
# the merged validate.csv with a single-machine run byte for byte (the trials files too,
# but for their seconds column). Stops the daemons it started. Without Slurm, and no way
# to install it, it says SKIPPED and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
start=$(date +%s)
if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge > /dev/null
    else
        echo "SKIPPED: slurm-wlm and munge are not installed (apt-get install slurm-wlm munge, as root)"
        exit 0
    fi
fi
rfrisk=${RFRISK:-$repo/target/release/rfrisk}
[ -x "$rfrisk" ] || cargo build --release --quiet
export RFRISK=$rfrisk

work=$(mktemp -d /tmp/rfrisk-slurm.XXXXXX)
mkdir -p "$work/state" "$work/spool" "$work/munge" "$work/logs"
chmod 700 "$work/munge"
pids=()
stop() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2> /dev/null || true
    done
    for _ in $(seq 1 20); do
        alive=0
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2> /dev/null && alive=1
        done
        [ "$alive" = 0 ] && return
        sleep 0.5
    done
    echo "warning: a daemon outlived SIGTERM; killing it" >&2
    for pid in "${pids[@]}"; do
        kill -9 "$pid" 2> /dev/null || true
    done
}
failed() {
    echo "FAILED: $1" >&2
    tail -n 20 "$work"/logs/* "$work"/*.log 2> /dev/null >&2 || true
    exit 1
}
trap stop EXIT

host=$(hostname -s)
cat > "$work/slurm.conf" << CONF
ClusterName=rfrisk-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=rfrisk Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf
munged --force --socket="$work/munge/munge.socket" --pid-file="$work/munge/munged.pid" \
    --log-file="$work/munge/munged.log" --seed-file="$work/munge/seed"
pids+=("$(cat "$work/munge/munged.pid")")
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 1 20); do
    [ -s "$work/slurmctld.pid" ] && [ -s "$work/slurmd.pid" ] && break
    sleep 0.5
done
pids+=("$(cat "$work/slurmctld.pid")" "$(cat "$work/slurmd.pid")")
for _ in $(seq 1 30); do
    sinfo --noheader --states=idle 2> /dev/null | grep -q idle && break
    sleep 1
done
sinfo --noheader --states=idle | grep -q idle || failed "the one-node cluster did not come up"
echo "cluster up after $(($(date +%s) - start)) s"

printf '[data]\ndim = 40\n[features]\nwidths = [80]\nactivation = "tanh"\n[teacher]\nnoise_std = 0.2\n' > "$work/spec.toml"
job=(validate "$work/spec.toml" --param training.samples --values 10,20,40 --series features.depth=1,2
    --trials 4 --n-test 200)
RAYON_NUM_THREADS=1 "$rfrisk" "${job[@]}" --out-dir "$work/single" 2> /dev/null

cd "$work/logs"
export RAYON_NUM_THREADS=1
SBATCH_ARGS="--cpus-per-task=1" MERGE_ARGS="--wait" timeout 600 \
    "$repo/examples/slurm/submit.sh" 4 "${job[@]}" --out-dir "$work/sharded" || failed "the merge job did not succeed"
cd "$repo"
for k in 1 2 3 4; do
    grep -q "shard $k/4 done" "$work"/logs/rfrisk-*_*.out || failed "no log says shard $k/4 finished"
done
shards=$(find "$work/sharded" -name '*.shard-*-of-4.csv' | wc -l)
cmp "$work/single/validate.csv" "$work/sharded/validate.csv" || failed "validate.csv differs from the single-machine run"
files=0
while IFS= read -r single; do
    merged=$work/sharded/${single#"$work/single/"}
    cmp <(cut -d, -f1-6,8 "$single") <(cut -d, -f1-6,8 "$merged") || failed "$merged differs from $single"
    files=$((files + 1))
done < <(find "$work/single" -path '*trials/*.csv')
[ "$files" = 6 ] || failed "expected 6 trials files, found $files"
stop
trap - EXIT
echo "PASS: 4-task array ($shards shard files) + merge: validate.csv identical byte for byte to the single-machine run; $files trials files identical but for seconds; $(($(date +%s) - start)) s in all"
rm -rf "$work"
