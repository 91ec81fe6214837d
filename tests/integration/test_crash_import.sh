#!/usr/bin/env bash
# test_crash_import: an import killed at any moment, or stopped by a full disk, loses no
# committed row, stores no row twice, and leaves a store that opens; the next import finishes.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROWS=60000       # data rows; row on line L carries ref R<L>, so lines 2..ROWS+1
LAST=$((ROWS + 1)) # last line of the file
CHUNK=8192       # rows per commit (node/cmd_import.c S_CHUNK_ROWS)
MIN_ROUNDS=20
MAX_ROUNDS=48
ROUNDS_PER_NODE=2 # a fresh node every other round, so kills keep landing amid new rows
RANDOM=20250901   # deterministic kill delays

SHEET=$TMP/sheet.csv
awk -v rows="$ROWS" 'BEGIN {
    print "teacher_id,date,category,minutes,note,ref"
    split("lecture open_class research_session", cat, " ")
    for (line = 2; line <= rows + 1; line++) {
        c = cat[line % 3 + 1]
        printf "T%04d,2025-%02d-%02d,%s,%s,第%d行备注,R%d\n", line % 3000, line % 12 + 1,
            line % 28 + 1, c, c == "lecture" ? 30 + line % 90 : "", line, line
    }
}' >"$SHEET" || die "cannot write $SHEET"

now_us() {
    echo "${EPOCHREALTIME/./}"
}

# new_node DIR: an initialised node of school S01.
new_node() {
    "$NODE" init --dir "$1" --school S01 >/dev/null || die "init $1"
}

# committed_line OUTFILE: the L of the last "through line L" an import printed, or 0.
committed_line() {
    local l
    l=$(sed -n 's/.*(through line \([0-9]*\))$/\1/p' "$1" | tail -n 1)
    echo "${l:-0}"
}

# check_store WHAT DIR L: the store opens and decodes every record, and holds exactly the rows
# of lines 2..K in file order, once each, with K ≥ L and K at a chunk boundary or the end: a
# chunk is all there or not at all. Sets STORED to K - 1 (rows stored).
check_store() {
    local what=$1 dir=$2 committed=$3 verdict
    STORED=-1
    "$NODE" list --dir "$dir" --format csv >"$TMP/list.csv" 2>"$TMP/list.err"
    local rc=$?
    if [ "$rc" -ne 0 ] || grep -q '无法解码' "$TMP/list.err"; then
        fail "$what: list exit $rc: $(head -c 300 "$TMP/list.err")"
        return
    fi
    # The sheet's cells need no quoting, so the ref is plainly column 21.
    verdict=$(tail -n +2 "$TMP/list.csv" | cut -d, -f21 | tr -d '\r' | awk -v chunk="$CHUNK" \
        -v last="$LAST" -v committed="$committed" '
        $0 != ("R" (NR + 1)) { print "row " NR " holds ref " $0 ", expected R" (NR + 1); bad = 1; exit }
        END {
            if (bad) exit
            k = NR + 1
            if (k < committed) print "only lines 2.." k " stored, but line " committed " was committed"
            else if (NR % chunk != 0 && k != last) print NR " rows stored: a partial chunk"
            else print "ok " NR
        }')
    case $verdict in
    ok\ *)
        STORED=${verdict#ok }
        pass "$what: store opens, $STORED rows in order, each once, through committed line $committed"
        ;;
    *) fail "$what: $verdict" ;;
    esac
}

# ---- calibration: how long an uninterrupted import takes here --------------------------------

new_node "$TMP/calibrate"
t0=$(now_us)
"$NODE" import --dir "$TMP/calibrate" "$SHEET" >"$TMP/calibrate.out" 2>&1
rc=$?
IMPORT_MS=$((($(now_us) - t0) / 1000))
check_eq "uninterrupted import of $ROWS rows" 0 "$rc"
check_store "uninterrupted import (${IMPORT_MS} ms)" "$TMP/calibrate" "$(committed_line "$TMP/calibrate.out")"
check_eq "uninterrupted import stores every row" "$ROWS" "$STORED"

# ---- kill -9 at random moments ---------------------------------------------------------------

# Kill delays spread over 5 ms .. 1.2 import times: before the first commit, between and during
# commits, and after the import finished.
SPAN_MS=$((IMPORT_MS * 12 / 10))
[ "$SPAN_MS" -lt 40 ] && SPAN_MS=40
killed_before=0 killed_between=0 finished=0 round=0 nodes=0
while [ "$round" -lt "$MIN_ROUNDS" ] ||
    { [ "$killed_between" -lt 5 ] && [ "$round" -lt "$MAX_ROUNDS" ]; }; do
    if [ $((round % ROUNDS_PER_NODE)) -eq 0 ]; then
        nodes=$((nodes + 1))
        DIR=$TMP/node-$nodes
        new_node "$DIR"
    fi
    round=$((round + 1))
    delay_ms=$((5 + (RANDOM * 32768 + RANDOM) % (SPAN_MS - 4)))
    "$NODE" import --dir "$DIR" "$SHEET" >"$TMP/round.out" 2>"$TMP/round.err" &
    pid=$!
    XS_BG_PIDS=("$pid")
    sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
    kill -KILL "$pid" 2>/dev/null
    { wait "$pid"; } 2>/dev/null # no "Killed" notice from the shell
    rc=$?
    XS_BG_PIDS=()
    committed=$(committed_line "$TMP/round.out")
    if [ "$rc" -eq 137 ]; then
        if grep -q 'through line' "$TMP/round.out"; then
            killed_between=$((killed_between + 1))
            how="killed between commits"
        else
            killed_before=$((killed_before + 1))
            how="killed before its first commit"
        fi
    elif [ "$rc" -eq 0 ]; then
        finished=$((finished + 1))
        how="finished first"
    else
        fail "round $round: import exit $rc: $(head -c 300 "$TMP/round.err")"
        continue
    fi
    check_store "round $round (node $nodes, kill at ${delay_ms} ms, $how)" "$DIR" "$committed"
done
echo "kills: $killed_before before a first commit, $killed_between after one or more," \
    "$finished after the import finished; $round rounds on $nodes nodes"
check "at least 5 kills landed between commits" test "$killed_between" -ge 5

# An uninterrupted import then completes every node, whatever state the kills left.
for n in $(seq 1 "$nodes"); do
    "$NODE" import --dir "$TMP/node-$n" "$SHEET" >"$TMP/final.out" 2>"$TMP/final.err"
    rc=$?
    check_eq "node $n: import after the kills" 0 "$rc"
    check_store "node $n: after the final import" "$TMP/node-$n" "$LAST"
    check_eq "node $n: every row stored exactly once" "$ROWS" "$STORED"
done

# ---- full disk -------------------------------------------------------------------------------

# limited_import KB DIR: import under a file-size limit of KB KiB (RLIMIT_FSIZE), the closest
# an unprivileged test gets to a full disk; SIGXFSZ keeps its default action (termination).
limited_import() {
    env --default-signal=XFSZ bash -c 'ulimit -f "$1" && exec "$2" import --dir "$3" "$4"' \
        limited "$1" "$NODE" "$2" "$SHEET" >"$TMP/full.out" 2>"$TMP/full.err"
    RC=$?
    ERR=$(cat "$TMP/full.err")
}

# A limit right at the end of the file: the next chunk's first write starts at the limit and
# gets EFBIG (and SIGXFSZ, which the node must ignore).
DIR=$TMP/full-aligned
new_node "$DIR"
head -n $((2 * CHUNK + 1)) "$SHEET" >"$TMP/two-chunks.csv"
"$NODE" import --dir "$DIR" "$TMP/two-chunks.csv" >/dev/null || die "import two chunks"
size=$(stat -c %s "$DIR/store/data.mdb")
limited_import $((size / 1024)) "$DIR"
check "disk full at a chunk: not killed by SIGXFSZ (exit $RC)" test "$RC" -lt 128
check "disk full at a chunk: exit non-zero" test "$RC" -ne 0
check "disk full at a chunk: says 磁盘已满 (disk full): $ERR" has "$ERR" "磁盘已满 (disk full)"
check_store "disk full at a chunk" "$DIR" $((2 * CHUNK + 1))
check_eq "disk full at a chunk: the earlier rows are all there" $((2 * CHUNK)) "$STORED"
"$NODE" import --dir "$DIR" "$SHEET" >/dev/null
check_store "disk full at a chunk, then room again" "$DIR" "$LAST"
check_eq "disk full at a chunk, then room again: every row once" "$ROWS" "$STORED"

# A limit inside a chunk's pages: the write that crosses it is cut short, which LMDB reports as
# EIO; the store must still call it a full disk.
DIR=$TMP/full-midway
new_node "$DIR"
limited_import 2999 "$DIR"
committed=$(committed_line "$TMP/full.out")
check "disk full midway: not killed by SIGXFSZ (exit $RC)" test "$RC" -lt 128
check "disk full midway: exit non-zero" test "$RC" -ne 0
check "disk full midway: some chunks committed first (through line $committed)" \
    test "$committed" -gt 1
check "disk full midway: says 磁盘已满 (disk full): $ERR" has "$ERR" "磁盘已满 (disk full)"
check_store "disk full midway" "$DIR" "$committed"
"$NODE" import --dir "$DIR" "$SHEET" >/dev/null
check_store "disk full midway, then room again" "$DIR" "$LAST"
check_eq "disk full midway, then room again: every row once" "$ROWS" "$STORED"

finish
