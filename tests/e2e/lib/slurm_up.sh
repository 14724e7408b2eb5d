# slurm_up.sh — start a one-node Slurm (munged, slurmctld, slurmd) for a test, as root, with
# its configuration, state, sockets and logs in a temporary directory; sourced by a test after
# run_common.sh.  Every daemon is stopped by its pid when the test exits, also when it fails.
#
# Sets: slurm_dir, SLURM_CONF (exported, so sbatch, squeue, ... talk to this Slurm).
# Functions: slurm_stop (the EXIT trap calls it), slurm_log (print the daemons' logs).
# Needs the Debian packages slurm-wlm and munge: installed here (tests/install-deps.sh) when missing.
command -v slurmctld >/dev/null && command -v munged >/dev/null ||
    sh "$root/tests/install-deps.sh" slurm-wlm munge || fail "slurm-wlm and munge are missing and could not be installed"
slurm_dir=$(mktemp -d)
chmod 755 "$slurm_dir"      # munged wants its socket's directory, and every parent, executable by all
slurm_pids=""
slurm_stop() {
    if [ -n "$slurm_pids" ]; then
        # end the jobs first, so that no slurmstepd outlives its slurmd
        scancel -u "$(id -un)" 2>/dev/null
        i=0
        while [ -n "$(squeue -h -o %A 2>/dev/null)" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    fi
    for p in $slurm_pids; do kill "$p" 2>/dev/null; done
    for p in $slurm_pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
    done
    slurm_pids=""
    # anything our Slurm started that is still there (a job step, its nnx): by pid, found by our SLURM_CONF
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" != $$ ] && { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "SLURM_CONF=$slurm_dir/slurm.conf" &&
            grep -qx "slurmstepd\|nnx" "$p/comm" 2>/dev/null && kill -9 "${p#/proc/}" 2>/dev/null
    done
    rm -rf "$slurm_dir" "$tmp"
}
trap 'slurm_stop' EXIT
trap 'exit 1' INT TERM
slurm_log() { for f in "$slurm_dir"/*.log; do echo "== $f"; tail -n 30 "$f"; done >&2; }

# non-default ports, different for each test process; every address is 127.0.0.1, so a machine
# whose hostname is not in /etc/hosts (a fresh container, a chroot) still reaches its own daemons
port=$((20000 + $$ % 20000))
host=$(hostname -s)
mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
dd if=/dev/urandom of="$slurm_dir/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$slurm_dir/munge.key"
mkdir -p "$slurm_dir/state" "$slurm_dir/spool"
cat >"$slurm_dir/slurm.conf" <<CONF
ClusterName=nnxtest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$slurm_dir/munge.sock
CredType=cred/munge
StateSaveLocation=$slurm_dir/state
SlurmdSpoolDir=$slurm_dir/spool
SlurmctldPidFile=$slurm_dir/slurmctld.pid
SlurmdPidFile=$slurm_dir/slurmd.pid
SlurmctldLogFile=$slurm_dir/slurmctld.log
SlurmdLogFile=$slurm_dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=600
KillWait=30
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=2 RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$slurm_dir/slurm.conf"

munged --force --socket="$slurm_dir/munge.sock" --key-file="$slurm_dir/munge.key" \
    --pid-file="$slurm_dir/munged.pid" --log-file="$slurm_dir/munged.log" \
    --seed-file="$slurm_dir/munged.seed" || { slurm_log; fail "munged did not start"; }
slurm_pids="$(cat "$slurm_dir/munged.pid")"
slurmctld -D -f "$SLURM_CONF" -i >"$slurm_dir/slurmctld.out" 2>&1 &
slurm_pids="$slurm_pids $!"
slurmd -D -f "$SLURM_CONF" >"$slurm_dir/slurmd.out" 2>&1 &
slurm_pids="$slurm_pids $!"
i=0
until sinfo -h -o '%t' 2>/dev/null | grep -q idle; do
    i=$((i + 1))
    [ $i -lt 300 ] || { slurm_log; fail "Slurm did not become ready in 30 s"; }
    sleep 0.1
done
