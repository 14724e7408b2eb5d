# bench/quiet.sh — sourced by the bench scripts: how many cores OTHER
# processes kept busy while a part of a bench ran.
#
# The script counts the CPU time the whole machine spent (/proc/stat) and the
# time it and its finished children spent (/proc/$$/stat): the difference,
# over the wall time, is the cores other processes used.  The load average
# cannot say that: a bench's own threads raise it (to about 2 on a 2-core
# machine), and it lags a minute behind.  A part is NOT CLEAN when other
# processes used more than a tenth of the cores.

# cpu_mark: "BUSY OWN WALL": the CPU ticks the machine spent on all cores
# (user, nice, system, irq, softirq, steal), those of this script and its
# finished children (utime, stime, cutime, cstime) and the wall clock in
# seconds
cpu_mark() {
    echo "$(awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat)" \
         "$(sed 's/^.*) //' "/proc/$$/stat" | awk '{ print $12 + $13 + $14 + $15 }')" \
         "$(date +%s.%N)"
}
quiet_hz=$(getconf CLK_TCK)
worst=0
# others MARK: sets $others to the cores other processes kept busy, on
# average, since MARK (never below 0); the most of them is kept in $worst
others() {
    others=$(echo "$1 $(cpu_mark)" | awk -v hz="$quiet_hz" '{ w = $6 - $3
        o = w > 0 ? (($4 - $1) - ($5 - $2)) / hz / w : 0; printf "%.2f", o < 0 ? 0 : o }')
    worst=$(echo "$worst $others" | awk '{ print ($2 > $1 ? $2 : $1) }')
}
# noisy [CORES]: whether CORES (default $worst) is more than a tenth of the cores
noisy() { echo "${1:-$worst} $(nproc)" | awk '{ exit !($1 > $2 / 10) }'; }
# verdict CORES: "clean" or "NOT CLEAN", with the figure
verdict() {
    if noisy "$1"; then echo "NOT CLEAN (other processes: $1 of $(nproc) cores)"
    else echo "clean (other processes: $1 of $(nproc) cores)"; fi
}
