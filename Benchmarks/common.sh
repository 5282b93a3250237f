# Shared by the benchmark scripts (sourced).

# median: the median of the numbers on stdin, one per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# time_one COMMAND...: runs it (stdout dropped, stderr kept in $WORK/stderr.txt), prints
# "seconds peak_kb" (elapsed time and max RSS); a failure prints its stderr and exits.
time_one() {
    /usr/bin/time -o "$WORK/time.txt" -f "%e %M" "$@" >/dev/null 2>"$WORK/stderr.txt" \
        || { echo "failed: $*" >&2; cat "$WORK/stderr.txt" >&2; exit 1; }
    tail -1 "$WORK/time.txt"
}
