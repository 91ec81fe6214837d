#!/usr/bin/env bash
# test_backup: a hot backup taken while a node syncs 50,000 records restores to a hub that
# holds every record acknowledged before the backup began, whose report is `xueshi certify`
# over exactly the records it holds, and which catches up to the original's final report with
# one more sync; a restore refuses a store in use and a damaged file; a store of a future
# format is refused by hub and node; a format-1 hub refuses `run` until `migrate` has backed
# it up and upgraded it; a node restored from an old backup seals nothing until it has synced,
# then continues the hub's chain without a fork, and the hub has every record.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
[ -x "$XS" ] || die "no xueshi in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
FIRST=1024          # records the hub holds before the sync the backup runs during
ROWS=50000          # records of that sync
TOTAL=$((FIRST + ROWS))
H=$TMP/hub
SYNC_TIMEOUT=120

# node_line DIR NAME: node NAME's line of `xueshi-hub nodes` at hub DIR.
node_line() {
    "$HUB" nodes --dir "$1" 2>/dev/null | grep -a "${KEY[$2]:4:16}" | head -n 1
}

# have_through DIR NAME: how far the hub at DIR holds node NAME's records without a gap.
have_through() {
    node_line "$1" "$2" | awk '{ print $(NF - 3) }'
}

# report_of DIR FILE: the report of the hub at DIR into FILE; dies when it fails.
report_of() {
    "$HUB" report --dir "$1" >"$2" 2>"$TMP/report.err" || die "report: $(cat "$TMP/report.err")"
}

# school_report REPORT SCHOOL: the report's header and SCHOOL's rows, as `xueshi certify`
# prints them (no school_id or name column).
school_report() {
    {
        head -n 1 "$1"
        grep -a "^$2," "$1"
    } >"$TMP/school-wide.csv"
    hub_report_bare "$TMP/school-wide.csv"
}

# patch_format DIR FROM TO: rewrites the format stored in DIR/store/data.mdb, where the key
# "format" and its value lie side by side in an LMDB leaf (pages an earlier write step freed
# may hold a stale copy: every one is rewritten). Dies unless one is found.
patch_format() {
    local data=$1/store/data.mdb n
    n=$(grep -ac "format$2" "$data")
    [ "$n" -ge 1 ] || die "no format$2 in $data"
    perl -0777 -pi -e "s/format$2/format$3/g" "$data" || die "patch $data"
}

# ---- (a) a backup while 50,000 records sync ------------------------------------------------

t0=$(now_ms)
"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init n1 S1 "$HUB_ENDPOINT" "$HUB_KEY"
enroll n1 S1
mixed_sheet S1 "$TOTAL" 400 "2025学年县级考试" >"$TMP/S1.csv"
head -n $((FIRST + 1)) "$TMP/S1.csv" >"$TMP/S1-first.csv"
run "$NODE" import --dir "$TMP/n1" "$TMP/S1-first.csv"
check "n1 records its first $FIRST rows" has "$OUT" "新登记 $FIRST 条"
sync n1
check_rc "n1's first sync" 0
run "$NODE" import --dir "$TMP/n1" "$TMP/S1.csv"
check_rc "n1 imports the sheet again, $ROWS rows new" 0
check "n1: the other rows recorded" has "$OUT" "新登记 $ROWS 条"

# What the hub acknowledged before the backup: read while it is idle, then it is paused and the
# sync of the other rows begins, and the backup is taken during that sync at a point the test
# knows, however fast this machine merges (a hub that merged all of them before the backup
# began would test nothing). A paused hub may hold LMDB's write lock (its metrics flush): the
# backup, a read-only snapshot, does not wait for it.
before=$(have_through "$H" n1)
kill -STOP "$HUB_PID"
bg_start "$TMP/sync1.log" "$NODE" sync --dir "$TMP/n1" --timeout "$SYNC_TIMEOUT"
SYNC_PID=$BG_PID
running=0
kill -0 "$SYNC_PID" 2>/dev/null && running=1
run "$HUB" backup --dir "$H" --out "$TMP/hub.xsbak"
kill -CONT "$HUB_PID"
check_rc "xueshi-hub backup while the hub serves" 0
check "the backup began while the sync ran (hub had $before of $TOTAL)" \
    test "$running" = 1 -a "${before:-0}" -gt 0 -a "${before:-0}" -lt "$TOTAL"
check "backup says what it wrote: $(head -n 1 <<<"$OUT")" has "$OUT" "备份完成 (backup written)"
bg_wait "$SYNC_PID" "$SYNC_TIMEOUT" || die "the sync did not end"
check_eq "the sync during the backup ends well" 0 "$BG_RC"
check "the hub holds all $TOTAL" test "$(have_through "$H" n1)" = "$TOTAL"
report_of "$H" "$TMP/report-final.csv"
"$XS" certify --policy "$POLICY" --records "$TMP/S1.csv" >"$TMP/oracle-all.csv" ||
    die "certify of every row"
hub_report_bare "$TMP/report-final.csv" >"$TMP/final-bare.csv"
check "the original's final report = xueshi certify over all $TOTAL rows" \
    cmp -s "$TMP/oracle-all.csv" "$TMP/final-bare.csv"

run "$HUB" restore --dir "$TMP/hub2" --from "$TMP/hub.xsbak"
check_rc "restore into a new directory" 0
check "restore says where from" has "$OUT" "已恢复 (restored)"
line=$(node_line "$TMP/hub2" n1)
read -r held gaps forks <<<"$(awk '{ print $(NF - 3), $(NF - 1), $NF }' <<<"$line")"
check "the restored hub holds every record acknowledged before the backup began ($held ≥ $before)" \
    test "${held:-0}" -ge "${before:-1}"
check "the restored hub holds a snapshot from during the sync ($held < $TOTAL), without gaps" \
    test "${held:-0}" -lt "$TOTAL" -a "${gaps:-1}" = 0 -a "${forks:-1}" = 0
# Records are sealed in row order: the restored hub's report is certify over rows 1..held.
head -n $((held + 1)) "$TMP/S1.csv" >"$TMP/S1-held.csv"
"$XS" certify --policy "$POLICY" --records "$TMP/S1-held.csv" >"$TMP/oracle-held.csv" ||
    die "certify of the held rows"
report_of "$TMP/hub2" "$TMP/report-restored.csv"
hub_report_bare "$TMP/report-restored.csv" >"$TMP/restored-bare.csv"
if cmp -s "$TMP/oracle-held.csv" "$TMP/restored-bare.csv"; then
    pass "the restored report = xueshi certify over the $held records it holds"
else
    fail "the restored report differs from certify over its $held records: $(diff \
        "$TMP/oracle-held.csv" "$TMP/restored-bare.csv" | head -n 6 | tr '\n' '|')"
fi

# The restored hub takes the original's place; the node sends it what the snapshot lacked.
run "$HUB" restore --dir "$H" --from "$TMP/hub.xsbak"
check_rc "restore over a hub that is serving" 1
check "refused: the store is in use" has "$ERR" "正在使用"
bg_kill "$HUB_PID" TERM
hub_start "$TMP/hub2" "$HUB_ENDPOINT" "$TMP/hub2.log" || die "the restored hub did not start: $(
    cat "$TMP/hub2.log")"
H=$TMP/hub2
sync n1
check_rc "n1 syncs with the restored hub" 0
check "the restored hub catches up to $TOTAL" test "$(have_through "$H" n1)" = "$TOTAL"
report_of "$H" "$TMP/report-caught-up.csv"
check "after one sync the restored hub's report = the original's final report" \
    cmp -s "$TMP/report-final.csv" "$TMP/report-caught-up.csv"
echo "# (a) took $(($(now_ms) - t0)) ms"

# ---- (d) a node restored from an old backup continues without a fork ------------------------

t0=$(now_ms)
EXAM2=2025学年二中考试 # a sitting of S2 alone: its ranking is S2's own
node_init n2 S2 "$HUB_ENDPOINT" "$HUB_KEY"
enroll n2 S2
mixed_sheet S2 300 12 "$EXAM2" >"$TMP/S2.csv"
run "$NODE" import --dir "$TMP/n2" "$TMP/S2.csv"
check_rc "n2 imports 300 rows" 0
sync n2
check_rc "n2's first sync" 0
run "$NODE" backup --dir "$TMP/n2" --out "$TMP/n2.xsbak"
check_rc "xueshi-node backup" 0
ok=1
for d in 01 02 03 04 05; do
    record_also "$TMP/n2" "$TMP/S2.csv" teacher_id=S2-T0001 date=2026-05-$d category=lecture \
        minutes=6$d || ok=0
done
check "n2 records 5 more" test "$ok" = 1
sync n2
check_rc "n2 syncs them" 0
check "the hub holds 305 of n2" test "$(have_through "$H" n2)" = 305

run "$NODE" restore --dir "$TMP/n2" --from "$TMP/n2.xsbak"
check_rc "xueshi-node restore over the node" 0
check "the node's directory before is kept aside" has "$OUT" "n2.before-restore-"
check "restore says to sync next" has "$OUT" "xueshi-node sync --dir"
ok=1
for d in 11 12 13; do
    record_also "$TMP/n2" "$TMP/S2.csv" teacher_id=S2-T0002 date=2026-05-$d category=open_class ||
        ok=0
done
check "the restored node records 3 new activities" test "$ok" = 1
run "$NODE" export --dir "$TMP/n2" --out "$TMP/n2-usb.bundle"
check "a restored node seals nothing before a sync (exit $RC)" test "$RC" -ne 0
check "the refusal names sync and recover" \
    eval 'has "$ERR" "xueshi-node sync --dir" && has "$ERR" "xueshi-node recover --dir"'
sync n2
check_rc "the restored node syncs" 0
check "it took up the hub's chain first" has "$OUT" "已采用县级中心的记录链"
check "the hub holds 308 of n2" test "$(have_through "$H" n2)" = 308
"$HUB" nodes --dir "$H" >"$TMP/nodes.txt" || die "nodes"
line=$(node_line "$H" n2)
check "the hub reports no fork of n2: $line" \
    eval '[ "$(awk "{ print \$NF }" <<<"$line")" = 0 ] && ! grep -aq "分叉 (fork)\|分叉已解决" "$TMP/nodes.txt"'
"$XS" certify --policy "$POLICY" --records "$TMP/S2.csv" >"$TMP/oracle-S2.csv" || die "certify S2"
report_of "$H" "$TMP/report.csv"
school_report "$TMP/report.csv" S2 >"$TMP/report-S2.csv"
check "the hub's S2 rows = xueshi certify over every record of n2, each once" \
    cmp -s "$TMP/oracle-S2.csv" "$TMP/report-S2.csv"
sync n2
check_rc "a second sync of the restored node" 0
check "it sends nothing" has "$OUT" "发送 0 批 0 条"
run "$NODE" export --dir "$TMP/n2" --out "$TMP/n2-usb.bundle"
check_rc "after a sync the node exports again" 0
echo "# (d) took $(($(now_ms) - t0)) ms"

# ---- daily backups into a directory, the newest kept ----------------------------------------

mkdir -p "$TMP/daily"
touch "$TMP/daily/notes.txt" "$TMP/daily/node-20250101-000000.xsbak" # not the hub's: kept
for i in 1 2 3 4; do
    run "$HUB" backup --dir "$H" --out "$TMP/daily" --keep 3
    check_rc "backup $i into a directory" 0
done
check "each is named hub-TIME.xsbak inside it: $(head -n 1 <<<"$OUT")" \
    eval 'has "$OUT" "$TMP/daily/hub-" && has "$OUT" ".xsbak"'
check_eq "--keep 3 leaves the 3 newest of the hub's 4" 3 "$(ls "$TMP/daily"/hub-*.xsbak | wc -l)"
check "the oldest was the one removed, and said: $OUT" has "$OUT" "older backup removed"
check "files that are not the hub's backups are left alone" \
    eval 'test -f "$TMP/daily/notes.txt" && test -f "$TMP/daily/node-20250101-000000.xsbak"'
run "$HUB" restore --dir "$TMP/from-daily" --from "$(ls -t "$TMP/daily"/hub-*.xsbak | head -n 1)"
check_rc "the newest daily backup restores" 0
run "$HUB" backup --dir "$H" --out "$TMP/daily" --keep 0
check_rc "--keep 0 is refused" 2

# ---- (b) a store of a future format is refused -------------------------------------------------

bg_kill "$HUB_PID" TERM
"$HUB" backup --dir "$H" --out "$TMP/hub-final.xsbak" >/dev/null || die "backup of the hub"
"$HUB" restore --dir "$TMP/future" --from "$TMP/hub-final.xsbak" >/dev/null || die "restore"
patch_format "$TMP/future" 2 7
cp "$TMP/future/store/data.mdb" "$TMP/future-data.mdb"
for cmd in report nodes; do
    run "$HUB" "$cmd" --dir "$TMP/future"
    check "hub $cmd refuses a store of format 7 (exit $RC)" test "$RC" -ne 0
    check "hub $cmd names both formats and a newer xueshi" \
        eval 'has "$ERR" "格式为 7" && has "$ERR" "this program'"'"'s 2" && has "$ERR" "install a newer xueshi"'
done
run "$HUB" run --dir "$TMP/future" --listen tcp://127.0.0.1:1
check "hub run refuses a store of format 7 (exit $RC)" \
    eval '[ "$RC" -ne 0 ] && has "$ERR" "install a newer xueshi"'
run "$HUB" migrate --dir "$TMP/future"
check_rc "migrate refuses a newer format" 2
check "the refused store is left as it was" cmp -s "$TMP/future-data.mdb" \
    "$TMP/future/store/data.mdb"
"$HUB" backup --dir "$TMP/future" --out "$TMP/future.xsbak" >/dev/null || die "backup of format 7"
run "$HUB" restore --dir "$TMP/future2" --from "$TMP/future.xsbak"
check "restore refuses a backup of a newer format (exit $RC)" \
    eval '[ "$RC" = 2 ] && has "$ERR" "install a newer xueshi" && [ ! -e "$TMP/future2" ]'

"$NODE" backup --dir "$TMP/n2" --out "$TMP/n2-final.xsbak" >/dev/null || die "node backup"
"$NODE" restore --dir "$TMP/n2-future" --from "$TMP/n2-final.xsbak" >/dev/null || die "restore"
patch_format "$TMP/n2-future" 1 9
for cmd in list totals sync; do
    run "$NODE" "$cmd" --dir "$TMP/n2-future"
    check "node $cmd refuses a store of format 9 (exit $RC)" \
        eval '[ "$RC" -ne 0 ] && has "$ERR" "格式为 9" && has "$ERR" "install a newer xueshi"'
done
run "$NODE" migrate --dir "$TMP/n2"
check_rc "node migrate of a current store" 0
check "it says the store is current" has "$OUT" "无需升级"

# ---- damaged and mistaken backups ------------------------------------------------------------

size=$(stat -c %s "$TMP/n2-final.xsbak")
head -c $((size - 100)) "$TMP/n2-final.xsbak" >"$TMP/cut.xsbak"
run "$NODE" restore --dir "$TMP/n2" --from "$TMP/cut.xsbak"
check "a truncated backup is refused (exit $RC)" \
    eval '[ "$RC" = 2 ] && has "$ERR" "checksum does not match"'
check "and the node is left as it was" test ! -e "$TMP/n2.restoring-$$"
run "$NODE" restore --dir "$TMP/n2" --from "$TMP/hub-final.xsbak"
check "a hub's backup given to a node is refused (exit $RC)" \
    eval '[ "$RC" = 2 ] && has "$ERR" "not a node'"'"'s"'

# ---- (c) a format-1 hub: refused until migrated, which backs up first --------------------------

"$HUB" init --dir "$TMP/old" --policy "$POLICY" >/dev/null || die "init old"
patch_format "$TMP/old" 2 1
run "$HUB" run --dir "$TMP/old" --listen tcp://127.0.0.1:1
check "run refuses a format-1 hub (exit $RC)" \
    eval '[ "$RC" -ne 0 ] && has "$ERR" "xueshi-hub migrate --dir $TMP/old"'
run "$HUB" migrate --dir "$TMP/old"
check_rc "migrate a format-1 hub" 0
check "migrate says 1 → 2" has "$OUT" "1 → 2"
bak=$(ls "$TMP"/old-format-1-*.xsbak 2>/dev/null | head -n 1)
check "migrate backed up first, beside the directory: ${bak##*/}" test -n "$bak"
run "$HUB" restore --dir "$TMP/old-back" --from "$bak"
check "that backup restores a format-1 store" \
    eval '[ "$RC" = 0 ] && has "$OUT" "数据库格式 (store format) 1" && has "$OUT" "xueshi-hub migrate"'
run "$HUB" migrate --dir "$TMP/old"
check "a second migrate finds the store current" has "$OUT" "无需升级"
hub_start_free "$TMP/old" "$TMP/old.log" || die "the migrated hub does not start: $(
    cat "$TMP/old.log")"
check "run serves the migrated hub without building the state itself" \
    eval '! grep -aq "认定状态已建立" "$TMP/old.log"'
bg_kill "$HUB_PID" TERM

# The 50,000-record hub, as format 1: migrate keeps every record and the report.
"$HUB" restore --dir "$TMP/big-old" --from "$TMP/hub-final.xsbak" >/dev/null || die "restore"
patch_format "$TMP/big-old" 2 1
run "$HUB" report --dir "$TMP/big-old"
check "report refuses the format-1 hub" eval '[ "$RC" -ne 0 ] && has "$ERR" "migrate"'
run "$HUB" migrate --dir "$TMP/big-old" --backup "$TMP/big-old-before.xsbak"
check_rc "migrate with --backup FILE" 0
check "the backup is where asked" test -s "$TMP/big-old-before.xsbak"
report_of "$TMP/big-old" "$TMP/report-migrated.csv"
report_of "$H" "$TMP/report-now.csv"
check "the migrated hub's report is the hub's" cmp -s "$TMP/report-now.csv" \
    "$TMP/report-migrated.csv"

finish
