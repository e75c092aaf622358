#!/usr/bin/env bash
# make test-slurm: `persephone submit` against a real Slurm, on this machine alone.
# Installs Slurm and MUNGE from Debian when missing, writes a single-node slurm.conf and a
# munge key in a temporary folder, starts munged, slurmctld and slurmd (as root, on
# loopback), then: checks submit's errors; runs experiments/slurm/tiny.yaml (one point,
# nine users: nine units) locally; submits it as 3 array tasks plus the merge; compares
# the merged tables byte for byte with the local run's; submits it again, cancels a task
# mid-run (scancel), resubmits that task alone, checks it resumed and that the merge is
# again byte-identical. Every daemon it started is stopped by pid on exit, after its jobs
# are cancelled. KEEP=1 keeps the temporary folder (logs).
# Needs root (or sudo) and the release build. See docs/runner.md, "Slurm".
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/.build/release/persephone
SPEC=experiments/slurm/tiny.yaml
TASKS=3
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
started=$(date +%s)

say() { echo "test-slurm: $*"; }
fail() { echo "test-slurm: FAILED: $*" >&2; exit 1; }

[ -x "$BIN" ] || fail "$BIN is missing (make release)"
[ "$(id -u)" = 0 ] || [ -n "$(command -v sudo)" ] || fail "run as root: munged, slurmctld and slurmd run here as root"
# A cancelled task resumes from the units it stored, which the runner reuses only for code it
# can name (the git tree of Sources and Package.swift, committed).
if ! git rev-parse --git-dir >/dev/null 2>&1 || [ -n "$(git status --porcelain -- Sources Package.swift)" ]; then
    fail "Sources or Package.swift have uncommitted changes (or this is no git checkout): units of unknown code are never reused, so the resubmitted task could not resume; commit or stash them, then rerun"
fi
[ -f datasets/fashion-mnist/dataset.json ] || "$BIN" datasets import fashion-mnist

# 1. Packages: the controller, the node daemon, the client commands and MUNGE.
PACKAGES="slurmctld slurmd slurm-client munge"
missing=$(for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"; done)
if [ -n "$missing" ]; then
    say "installing" $missing
    $SUDO apt-get update -qq
    # The packages' services are not started here: this script starts its own daemons.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    say "installed in $(($(date +%s) - started)) s"
fi
[ "$(id -u)" = 0 ] || fail "run as root: munged, slurmctld and slurmd run here as root (sudo make test-slurm)"

# 2. A private cluster: every file in one temporary folder, ports chosen free.
T=$(mktemp -d /tmp/persephone-slurm.XXXXXX)
chmod 755 "$T"
DAEMONS=()   # "name:pid:log"
cleanup() {
    local status=$?
    if [ -n "${SLURM_CONF:-}" ] && [ -n "${SLURMCTLD_PID:-}" ] && kill -0 "$SLURMCTLD_PID" 2>/dev/null; then
        # Jobs outlive slurmd (slurmstepd runs them): cancel ours and wait for them to end.
        scancel --quiet --user=root 2>/dev/null || true
        for _ in $(seq 60); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.5; done
    fi
    local i
    for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
        IFS=: read -r name pid _ <<<"${DAEMONS[$i]}"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { say "$name ($pid) ignored SIGTERM; killing it"; kill -9 "$pid" 2>/dev/null || true; }
    done
    if [ "${KEEP:-0}" = 1 ] || [ "$status" != 0 ]; then say "logs and results kept in $T"; else rm -rf "$T"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 20000))
        ss -Hltn "sport = :$port" 2>/dev/null | grep -q . || { echo "$port"; return; }
    done
}

# show_log NAME LOG: the last lines of a daemon's log and of its captured output (LOG with .out).
show_log() {
    local f
    for f in "$2" "${2%.log}.out"; do
        [ -s "$f" ] && { echo "--- $1: $f" >&2; tail -n 15 "$f" >&2; }
    done
    return 0
}

# started NAME PID LOG: remember a daemon, fail at once if it died on start.
started() {
    DAEMONS+=("$1:$2:$3")
    sleep 0.5
    kill -0 "$2" 2>/dev/null || { show_log "$1" "$3"; fail "$1 exited at start; see its log $3 and output ${3%.log}.out (last lines above)"; }
}

# wait_for WHAT SECONDS COMMAND...: poll until COMMAND succeeds; on timeout name the daemons' logs.
wait_for() {
    local what=$1 seconds=$2 deadline entry name pid log
    shift 2
    deadline=$(($(date +%s) + seconds))
    until "$@" >/dev/null 2>&1; do
        for entry in "${DAEMONS[@]}"; do
            IFS=: read -r name pid log <<<"$entry"
            kill -0 "$pid" 2>/dev/null || { show_log "$name" "$log"; fail "$name ($pid) died while waiting for $what; see its log $log"; }
        done
        if [ "$(date +%s)" -ge "$deadline" ]; then
            for entry in "${DAEMONS[@]}"; do IFS=: read -r name pid log <<<"$entry"; show_log "$name" "$log"; done
            echo "--- sinfo: node, state, reason" >&2
            sinfo -h -N -o "%N %T %E" >&2 2>/dev/null || true
            fail "$what did not happen within ${seconds}s (daemon logs above, in $T)"
        fi
        sleep 0.5
    done
}

HOST=$(hostname -s)
MEMORY=$(slurmd -C | grep -o 'RealMemory=[0-9]*' | cut -d= -f2)
mkdir -p "$T/state" "$T/spool" "$T/munge"
chmod 700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
export SLURM_CONF=$T/slurm.conf
cat >"$SLURM_CONF" <<EOF
# Written by experiments/slurm/test-slurm.sh: one node, this machine, on loopback.
ClusterName=persephone-test
SlurmctldHost=$HOST(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge/munge.socket
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
# No cgroups: processes tracked through /proc, tasks not bound.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
# No slurmdbd: job records go to a text file, which 'sacct --completion' reads.
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$T/jobcomp.txt
# Keep finished jobs visible to 'scontrol show job' for the whole test.
MinJobAge=3600
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=2 RealMemory=$MEMORY State=UNKNOWN
PartitionName=test Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF

say "starting munged, slurmctld, slurmd ($T)"
munged --foreground --force --key-file="$T/munge/munge.key" --socket="$T/munge/munge.socket" \
    --pid-file="$T/munge/munged.pid" --log-file="$T/munged.log" --seed-file="$T/munge/munged.seed" >"$T/munged.out" 2>&1 &
started munged $! "$T/munged.log"
wait_for "munged's socket" 20 test -S "$T/munge/munge.socket"
slurmctld -D -c -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
SLURMCTLD_PID=$!
started slurmctld $SLURMCTLD_PID "$T/slurmctld.log"
slurmd -D -f "$SLURM_CONF" >"$T/slurmd.out" 2>&1 &
started slurmd $! "$T/slurmd.log"
node_idle() { [ "$(sinfo -h -n "$HOST" -o %t)" = idle ]; }
wait_for "node $HOST to be idle (sinfo)" 60 node_idle
say "node $HOST idle after $(($(date +%s) - started)) s"

# 3. Bad use: each error names the problem.
expect_error() {  # expect_error TEXT COMMAND...: COMMAND fails and its stderr says TEXT.
    local text=$1 said
    shift
    if said=$("$@" 2>&1 >/dev/null); then fail "'$*' succeeded; expected an error saying: $text"; fi
    grep -qF -- "$text" <<<"$said" || fail "'$*' said \"$said\"; expected: $text"
    say "error as expected: $(head -n 1 <<<"$said")"
}
printf 'experiment: global-vs-personal\ndata:\n  users: two\n' >"$T/bad.yaml"
expect_error "no \`sbatch\` on PATH" env PATH=/nonexistent "$BIN" submit "$SPEC" --tasks $TASKS --out "$T/x"
expect_error "$T/bad.yaml:3:" "$BIN" submit "$T/bad.yaml" --tasks $TASKS
expect_error "at least one task" "$BIN" submit "$SPEC" --tasks 0
# --dry-run's second line: "<p> points, <u> distinct units -> <folder>".
units=$("$BIN" run "$SPEC" --dry-run | sed -n '2s/.*, \([0-9]*\) distinct units.*/\1/p')
[ -n "$units" ] || fail "persephone run $SPEC --dry-run did not say how many units there are"
expect_error "more than the $units units of work" "$BIN" submit "$SPEC" --tasks $((units + 1))
expect_error "Invalid partition name specified" "$BIN" submit "$SPEC" --tasks $TASKS --partition nosuch --out "$T/x/global-vs-personal"

# 4. The local, unsharded run the cluster's must equal.
say "local run of $SPEC ($units units)"
nice -n 10 "$BIN" run "$SPEC" --out "$T/local/global-vs-personal" 2>"$T/local.log" \
    || { cat "$T/local.log" >&2; fail "the local run failed"; }
tables=$(cd "$T/local/global-vs-personal" && ls -- *.csv.zst | grep -v '^timings\.csv\.zst$')

job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' '; }
job_done() { [ -z "$(squeue -h -j "$1" 2>/dev/null)" ]; }
# submit OUT [ARGS]: submits and sets ARRAY and MERGE to the job ids it printed.
submit() {
    local out=$1 printed
    shift
    printed=$("$BIN" submit "$SPEC" --tasks $TASKS --out "$out" "$@") || fail "persephone submit $* failed"
    echo "$printed" | sed 's/^/    /'
    ARRAY=$(sed -n 's/^array job \([0-9]*\):.*/\1/p' <<<"$printed")
    MERGE=$(sed -n 's/^merge job \([0-9]*\) .*/\1/p' <<<"$printed")
    [ -n "$ARRAY" ] && [ -n "$MERGE" ] || fail "persephone submit printed no job ids"
}
same_tables() {  # same_tables MERGED: every table byte-identical to the local run's.
    local t
    for t in $tables; do cmp "$T/local/global-vs-personal/$t" "$1/$t" || fail "$1/$t differs from the local run's"; done
    say "merged tables byte-identical to the local run: $(echo $tables)"
}

# 5. Three tasks and the merge.
say "submission 1: $TASKS tasks"
submit "$T/one/global-vs-personal"
wait_for "array job $ARRAY and merge job $MERGE to end" 900 job_done "$ARRAY,$MERGE"
[ "$(job_state "$ARRAY")" = "COMPLETED " ] || fail "array job $ARRAY ended $(job_state "$ARRAY") (logs in $T/one/global-vs-personal.slurm/)"
[ "$(job_state "$MERGE")" = "COMPLETED " ] || fail "merge job $MERGE ended $(job_state "$MERGE") (log in $T/one/global-vs-personal.slurm/)"
computed=$(cat "$T/one/global-vs-personal.slurm/array-${ARRAY}"_*.out | sed -n 's/.*: \([0-9]*\) units computed, .*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
[ "$computed" = "$units" ] || fail "the tasks of $ARRAY computed $computed units, not $units (logs in $T/one/global-vs-personal.slurm/)"
say "the $TASKS tasks computed $computed units (their own store, $T/one/unit-store)"
same_tables "$T/one/global-vs-personal"
[ -f "$T/one/REPORT.md" ] || fail "the merge job wrote no $T/one/REPORT.md"
JOBS="$ARRAY,$MERGE"

# 6. Cancel a task mid-run, resubmit it alone: it resumes, and the merge is the same again.
say "submission 2: cancel a task mid-run"
OUT=$T/two/global-vs-personal
submit "$OUT"
JOBS="$JOBS,$ARRAY,$MERGE"
first_array=$ARRAY first_merge=$MERGE
# Each task computes ceil(units/TASKS) units, two at a time, and records each in its shard
# folder's units/ as it ends: cancel the first task seen running with some but not all.
per_task=$(((units + TASKS - 1) / TASKS))
running_with_records() {
    local k n
    for k in $(seq 0 $((TASKS - 1))); do
        n=$(ls "$OUT.shard-$k-of-$TASKS/units" 2>/dev/null | grep -c '\.unit$' || true)
        if [ "$n" -ge 1 ] && [ "$n" -lt "$per_task" ] && [ "$(squeue -h -j "${ARRAY}_$k" -o %T 2>/dev/null)" = RUNNING ]; then
            VICTIM=$k; return 0
        fi
    done
    return 1
}
wait_for "a task of $ARRAY running with part of its units recorded" 600 running_with_records
scancel "${ARRAY}_$VICTIM"
wait_for "task ${ARRAY}_$VICTIM to end" 60 job_done "${ARRAY}_$VICTIM"
wait_for "array job $ARRAY and merge job $MERGE to end" 900 job_done "$ARRAY,$MERGE"
shard=$OUT.shard-$VICTIM-of-$TASKS
kept=$(cd "$shard/units" && ls -- *.unit)
before=$(cd "$shard/units" && sha256sum -- *.unit)
say "task ${ARRAY}_$VICTIM cancelled with $(echo "$kept" | wc -l) of $per_task units recorded; task states: $(job_state "$ARRAY"); merge: $(job_state "$MERGE")"
[ "$(job_state "${ARRAY}_$VICTIM")" = "CANCELLED " ] || fail "task ${ARRAY}_$VICTIM ended $(job_state "${ARRAY}_$VICTIM"), not CANCELLED"
[ "$(job_state "$MERGE")" = "CANCELLED " ] || fail "merge job $MERGE ended $(job_state "$MERGE"); after a cancelled task Slurm should cancel it"
say "resubmitting task $VICTIM alone"
submit "$OUT" --only "$VICTIM"
JOBS="$JOBS,$ARRAY,$MERGE"
wait_for "array job $ARRAY and merge job $MERGE to end" 900 job_done "$ARRAY,$MERGE"
[ "$(job_state "$ARRAY")" = "COMPLETED " ] || fail "resubmitted task $ARRAY ended $(job_state "$ARRAY")"
[ "$(job_state "$MERGE")" = "COMPLETED " ] || fail "merge job $MERGE ended $(job_state "$MERGE")"
log=$(ls "$OUT.slurm/array-${ARRAY}_$VICTIM.out")
resumed=$(echo "$kept" | wc -l)
grep -q "computed, $resumed reused" "$log" || fail "task ${ARRAY}_$VICTIM's log $log does not say it reused the $resumed units stored before the cancel"
after=$(cd "$shard/units" && for f in $kept; do sha256sum -- "$f"; done)
[ "$before" = "$after" ] || fail "the unit records kept from the cancelled task were rewritten: it did not resume"
say "task ${ARRAY}_$VICTIM resumed its $resumed stored units: $(grep -o '[0-9]* units computed, [0-9]* reused' "$log")"
same_tables "$OUT"

# Without slurmdbd, sacct reads the job completion file (--completion). Slurm 22.05's
# reader does not know the file's ArrayJobId/ArrayTaskId fields and complains once per array
# task (silenced here), and it names array tasks by their own job ids: the map follows.
say "sacct --completion (jobs $JOBS and their array tasks):"
sacct --completion --format=JobID,JobName%36,State,ExitCode,Elapsed 2>/dev/null | sed 's/^/    /'
awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
       if (f["ArrayJobId"] != "") printf "    job %s is array task %s_%s: %s\n", f["JobId"], f["ArrayJobId"], f["ArrayTaskId"], f["JobState"]
       delete f }' "$T/jobcomp.txt"
say "passed in $(($(date +%s) - started)) s"
