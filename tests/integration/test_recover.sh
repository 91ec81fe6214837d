#!/usr/bin/env bash
# test_recover: a school's history outlives its PC (protocol.md §9). A node restored from an
# old copy that recorded new activities adopts the hub's chain and re-seals its own records
# after it, whether the hub saw its stale batches (a fork, resolved) or not; the other copy
# then catches up; a lost store is rebuilt from the hub with `recover`, and a new PC with the
# backed-up key with `init --recover`. Every record is at the hub exactly once: the hub's
# report stays `xueshi certify` over the union of what was recorded.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
H=$TMP/hub
SYNC_TIMEOUT=20

# check_oracle WHAT: hub report without school_id = xueshi certify over $TMP/S1.csv.
check_oracle() {
    "$XS" certify --policy "$POLICY" --records "$TMP/S1.csv" >"$TMP/oracle.csv" || die "certify"
    "$HUB" report --dir "$H" >"$TMP/report.csv" 2>"$TMP/.err" || die "report: $(cat "$TMP/.err")"
    hub_report_bare "$TMP/report.csv" >"$TMP/report-bare.csv"
    if cmp -s "$TMP/oracle.csv" "$TMP/report-bare.csv"; then
        pass "$1: hub report = xueshi certify over every record ($(($(wc -l <"$TMP/oracle.csv") - 1)) rows)"
    else
        fail "$1: hub report differs: $(diff "$TMP/oracle.csv" "$TMP/report-bare.csv" |
            head -n 6 | tr '\n' '|')"
    fi
}

# listed NAME: node NAME's records as a sorted CSV without the id column (ids are renumbered).
listed() {
    "$NODE" list --dir "$TMP/$1" --format csv | tail -n +2 | cut -d, -f2- | sort
}

# on_node NAME N TEACHER DAY0: records N lectures on node NAME, also into the oracle's sheet.
on_node() {
    local i ok=1
    for ((i = 0; i < $2; i++)); do
        record_also "$TMP/$1" "$TMP/S1.csv" teacher_id=$3 date=2026-05-$(printf %02d $(($4 + i))) \
            category=lecture minutes=$((45 + i)) || ok=0
    done
    check "record $2 activities of $3 on $1" test "$ok" = 1
}

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init n1 S1 "$HUB_ENDPOINT" "$HUB_KEY"
enroll n1 S1
mixed_sheet S1 300 12 "2025学年考试" >"$TMP/S1.csv"
run "$NODE" import --dir "$TMP/n1" "$TMP/S1.csv"
check_rc "n1 imports 300 rows" 0
sync n1
check_rc "n1's first sync" 0

# ---- restored from an old copy, before the hub saw anything of the copy ------------------

cp -a "$TMP/n1" "$TMP/old"
on_node n1 3 S1-T0001 1
sync n1
check_rc "n1 syncs its 3 new records" 0
cp -a "$TMP/old" "$TMP/n1b" # the office restores last month's copy onto the PC
on_node n1b 4 S1-T0002 10
sync n1b
check_rc "the restored copy syncs" 0
check "it adopts the hub's chain and re-seals its 4 records after it: $(grep -a 已采用 <<<"$OUT")" \
    has "$OUT" "本机另有 4 条新记录排在其后"
check_oracle "after the restored copy's sync"
"$HUB" nodes --dir "$H" >"$TMP/nodes.txt"
check "the hub saw no fork" eval '! grep -aq "分叉 (fork)" "$TMP/nodes.txt"'

# ---- a copy that sealed its records before meeting the hub: a fork, resolved -------------

cp -a "$TMP/n1b" "$TMP/n1c"
on_node n1b 2 S1-T0003 20
sync n1b
check_rc "n1b syncs 2 more" 0
on_node n1c 5 S1-T0004 20
run "$NODE" export --dir "$TMP/n1c" --out "$TMP/n1c.bundle" # seals them, as a USB trip does
check_rc "the other copy seals its 5 records into a bundle" 0
sync n1c
check_rc "the other copy's sync resolves its fork" 0
check "it adopted the hub's chain: $(grep -a 已采用 <<<"$OUT")" has "$OUT" "本机另有 5 条新记录"
"$HUB" nodes --dir "$H" >"$TMP/nodes.txt"
check "the hub quarantined the stale batch and shows the fork resolved: $(grep -a 分叉 \
    "$TMP/nodes.txt" | head -n 1)" grep -aq "分叉已解决" "$TMP/nodes.txt"
run "$HUB" import --dir "$H" "$TMP/n1c.bundle"
check "the stale bundle arriving late changes nothing (exit $RC)" test "$RC" -le 1
check_oracle "after the fork is resolved and the stale bundle imported"

# The other copies catch up with what their twin recorded; a resolved fork is not news.
for n in n1b n1; do
    sync $n
    check_rc "$n syncs after its twin" 0
    check "$n is not told of the resolved fork" eval '! has "$ERR" "另一份不同的数据"'
done
check "all three copies now hold the same records" \
    eval '[ "$(listed n1)" = "$(listed n1b)" ] && [ "$(listed n1)" = "$(listed n1c)" ]'
check_eq "they hold every record of the sheet" "$(($(wc -l <"$TMP/S1.csv") - 1))" \
    "$(listed n1 | wc -l)"
check_oracle "after every copy caught up"

# ---- a damaged store, rebuilt from the hub ---------------------------------------------------

listed n1 >"$TMP/before.txt"
"$NODE" totals --dir "$TMP/n1" --confirmed --format csv >"$TMP/totals-before.csv"
run "$NODE" recover --dir "$TMP/n1"
check_rc "recover rebuilds a store it can still read the school and hub from" 0
check "the old store is kept aside" eval 'ls -d "$TMP"/n1/store.replaced-* >/dev/null'
check "the rebuilt node lists the same records" cmp -s "$TMP/before.txt" <(listed n1)
"$NODE" totals --dir "$TMP/n1" --confirmed --format csv >"$TMP/totals-after.csv"
check "and the same confirmed totals" cmp -s "$TMP/totals-before.csv" "$TMP/totals-after.csv"

printf 'garbage' >"$TMP/n1/store/data.mdb"
run "$NODE" recover --dir "$TMP/n1"
check "a store that cannot be read asks for the school and hub (exit $RC): $ERR" \
    eval '[ "$RC" -ne 0 ] && has "$ERR" "--school --hub --hub-key"'
run "$NODE" recover --dir "$TMP/n1" --school S1 --hub "$HUB_ENDPOINT" --hub-key "$HUB_KEY"
check_rc "with them, recover rebuilds a destroyed store" 0
check "the rebuilt node lists the same records again" cmp -s "$TMP/before.txt" <(listed n1)
on_node n1 2 S1-T0005 1
sync n1
check_rc "the rebuilt node records and syncs on" 0
check_oracle "after the rebuilt node's new records"

# ---- a new PC with the backed-up key ---------------------------------------------------------

mkdir -m 700 "$TMP/newpc"
cp "$TMP/n1/node.secret" "$TMP/newpc/"
run "$NODE" init --dir "$TMP/newpc" --school S1 --hub "$HUB_ENDPOINT" --hub-key "$HUB_KEY" \
    --recover
check_rc "init --recover on a new PC" 0
check "the new PC holds every record" cmp -s <(listed n1) <(listed newpc)
check_oracle "after the new PC's recovery"

finish
