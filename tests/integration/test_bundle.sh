#!/usr/bin/env bash
# test_bundle: USB bundles (protocol.md §7) where there is no link at all. A teaching point
# that never reaches the hub exports its batches, the hub imports them and exports receipts
# (and its policy) back: the node's confirmed totals are its rows of the hub's report, which is
# `xueshi certify` over the sheets. A truncated, tampered, trailing or misdirected bundle is
# refused whole with exit 2, an unenrolled node's batches are refused (exit 1): nothing merged.
# Importing twice, or records that came by relay and by bundle, count once. A central school
# exports its satellites' held batches and brings their receipts back for them.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
[ -x "$XS" ] || die "no xueshi in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
EXAM=2025学年县级教师专业知识考试 # one sitting across the county: results re-rank schools
H=$TMP/hub                         # the county hub
H2=$TMP/hub2                       # another county's hub
SYNC_TIMEOUT=20
WAIT_S=25 # longest wait for the relay to notice the hub (its retry runs every 2 s at first)

SHEETS=() # the schools' sheets (oracle copies of what their nodes hold)

# ---- helpers --------------------------------------------------------------------------------

# import_sheet NAME FILE: imports FILE into node NAME, every row new.
import_sheet() {
    local rows=$(($(wc -l <"$2") - 1))
    "$NODE" import --dir "$TMP/$1" "$2" >"$TMP/import.out" 2>&1 || die "import into $1"
    grep -q "新登记 $rows 条" "$TMP/import.out" ||
        die "import into $1: not all new: $(tail -n 1 "$TMP/import.out")"
}

# report FILE [HUB_DIR]: the hub's report into FILE.
report() {
    "$HUB" report --dir "${2:-$H}" >"$1" 2>"$TMP/report.err" ||
        die "report: $(cat "$TMP/report.err")"
}

# check_oracle WHAT: the hub's report without school_id is, byte for byte, `xueshi certify`
# over the union of SHEETS; leaves the report in $TMP/report.csv.
check_oracle() {
    local s
    {
        cat "${SHEETS[0]}"
        for s in "${SHEETS[@]:1}"; do
            tail -n +2 "$s"
        done
    } >"$TMP/union.csv"
    "$XS" certify --policy "$POLICY" --records "$TMP/union.csv" >"$TMP/oracle.csv" ||
        die "certify of the union"
    report "$TMP/report.csv"
    hub_report_bare "$TMP/report.csv" >"$TMP/report-bare.csv"
    if cmp -s "$TMP/oracle.csv" "$TMP/report-bare.csv"; then
        pass "$1: hub report = xueshi certify over the union ($(($(wc -l <"$TMP/union.csv") - 1)) records, $(($(wc -l <"$TMP/oracle.csv") - 1)) rows)"
    else
        fail "$1: hub report differs from xueshi certify over the union: $(diff "$TMP/oracle.csv" \
            "$TMP/report-bare.csv" | head -n 6 | tr '\n' '|')"
    fi
}

# check_totals NAME SCHOOL: node NAME's confirmed totals equal SCHOOL's rows of the report
# $TMP/report.csv (without school_id).
check_totals() {
    local name=$1 school=$2 rows
    "$NODE" totals --dir "$TMP/$name" --confirmed --format csv >"$TMP/$name-named.csv" \
        2>"$TMP/.err" || fail "$name: totals --confirmed exit $?: $(cat "$TMP/.err")"
    drop_name_column "$TMP/$name-named.csv" >"$TMP/$name-totals.csv"
    {
        head -n 1 "$TMP/report.csv"
        grep -a "^$school," "$TMP/report.csv"
    } >"$TMP/$name-expected-wide.csv"
    hub_report_bare "$TMP/$name-expected-wide.csv" >"$TMP/$name-expected.csv"
    rows=$(($(wc -l <"$TMP/$name-expected.csv") - 1))
    if [ "$rows" -gt 0 ] && cmp -s "$TMP/$name-expected.csv" "$TMP/$name-totals.csv"; then
        pass "$name: confirmed totals = the hub report's $rows rows of $school"
    else
        fail "$name: confirmed totals differ from the hub report's $rows rows of $school: $(diff \
            "$TMP/$name-expected.csv" "$TMP/$name-totals.csv" | head -n 6 | tr '\n' '|')"
    fi
}

# nodes FILE [ANY_TIME]: `xueshi-hub nodes` into FILE; with ANY_TIME, without the last-sync
# column (a sync that brings nothing new still counts as contact).
nodes() {
    "$HUB" nodes --dir "$H" >"$1" 2>&1 || die "nodes: $(cat "$1")"
    if [ -n "${2:-}" ]; then
        sed -E -i 's/ (-|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}) +/ /' "$1"
    fi
}

# snapshot [ANY_TIME]: the hub's report and node list as they are now, for unchanged.
snapshot() {
    report "$TMP/snap-report.csv"
    nodes "$TMP/snap-nodes.txt" "${1:-}"
}

# unchanged WHAT [ANY_TIME]: the report and the node list are as at the last snapshot.
unchanged() {
    report "$TMP/now-report.csv"
    nodes "$TMP/now-nodes.txt" "${2:-}"
    if cmp -s "$TMP/snap-report.csv" "$TMP/now-report.csv" &&
        cmp -s "$TMP/snap-nodes.txt" "$TMP/now-nodes.txt"; then
        pass "$1: report and nodes unchanged"
    else
        fail "$1: something was merged: $(diff "$TMP/snap-nodes.txt" "$TMP/now-nodes.txt" |
            head -n 4 | tr '\n' '|') $(diff "$TMP/snap-report.csv" "$TMP/now-report.csv" |
            head -n 4 | tr '\n' '|')"
    fi
}

# refused WHAT FILE REASON: `xueshi-hub import` of FILE is refused whole: exit 2, and a
# message naming the file, that nothing was merged, and REASON.
refused() {
    local reason=$3
    run "$HUB" import --dir "$H" "$2"
    check_rc "$1" 2
    check "$1: says refused, nothing merged, $reason" \
        eval 'has "$ERR" "被拒绝，未合并任何内容 (refused, nothing merged)" && has "$ERR" "$reason" &&
              [ -z "$OUT" ]'
}

# flip FILE OFFSET OUT: FILE with the byte at OFFSET inverted, into OUT.
flip() {
    local byte
    cp "$1" "$3"
    byte=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ 0xff)))" |
        dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}

# count FILE FIXED: lines of FILE holding FIXED.
count() {
    grep -caF -- "$2" "$1" 2>/dev/null || true
}

# wait_for_count FILE FIXED N SECONDS: polls until FILE has N lines holding FIXED.
wait_for_count() {
    local deadline=$(($(now_ms) + $4 * 1000))
    until [ "$(count "$1" "$2")" -ge "$3" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

hub_stop() {
    kill -TERM "$HUB_PID" 2>/dev/null
    bg_wait "$HUB_PID" 10 || die "the hub did not stop on SIGTERM"
    cat "$TMP/hub.log" >>"$TMP/hub-all.log"
}

# relay_start DIR ENDPOINT LOG: `xueshi-node run --relay-listen` in the background; waits until
# it serves; sets RELAY_PID. Returns 1, reaped, when it exited first (address in use…).
relay_start() {
    bg_start "$3" "$NODE" run --dir "$1" --relay-listen "$2"
    RELAY_PID=$BG_PID
    wait_for_text "$3" "中转运行中" 10 "$RELAY_PID" && return 0
    bg_kill "$RELAY_PID"
    return 1
}

# ---- two hubs -------------------------------------------------------------------------------

t_start=$(now_ms)
"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
"$HUB" init --dir "$H2" --policy "$POLICY" >"$TMP/hub2-init.out" || die "hub2 init"
HUB2_KEY=$(tail -n 1 "$TMP/hub2-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
: >"$TMP/hub-all.log"
HUB_PORT=${HUB_ENDPOINT##*:}
DEAD=tcp://127.0.0.1:$((HUB_PORT < 65000 ? HUB_PORT + 7 : HUB_PORT - 7)) # nobody listens

# ---- a teaching point with no link at all --------------------------------------------------

node_init tp TP01 "$DEAD" "$HUB_KEY"
enroll tp TP01
mixed_sheet TP01 800 20 "$EXAM" >"$TMP/TP01.csv"
SHEETS+=("$TMP/TP01.csv")
import_sheet tp "$TMP/TP01.csv"
run "$NODE" sync --dir "$TMP/tp" --timeout 1
check_rc "the teaching point has no link: its sync" 3
run "$NODE" totals --dir "$TMP/tp"
check "no policy yet at the teaching point (init without --policy): totals exit $RC" \
    eval '[ "$RC" -ne 0 ] && has "$ERR" "尚未设置认定规则"'
run "$NODE" export --dir "$TMP/tp" --out "$TMP/tp.xsb"
check_rc "export a bundle" 0
check "export says 1 batch: $OUT" has "$OUT" "已导出 1 批"
check "no .part left beside the bundle" test ! -e "$TMP/tp.xsb.part"
run "$HUB" import --dir "$H" "$TMP/tp.xsb"
check_rc "the hub imports it" 0
check "the import prints the batch as new: $(head -n 1 <<<"$OUT")" \
    eval 'has "$OUT" "序号 1-800: 新 (new)" && has "$OUT" "新 1 批 800 条"'
check_oracle "after the bundle"
run "$HUB" export-receipts --dir "$H" --node "${KEY[tp]}" --out "$TMP/tp-receipts.xsb"
check_rc "export-receipts for the teaching point" 0
check "export-receipts counts its 20 teachers: $OUT" has "$OUT" "已导出 20 份认定回执"
run "$NODE" import-receipts --dir "$TMP/tp" "$TMP/tp-receipts.xsb"
check_rc "import-receipts" 0
check "import-receipts: 20 of its own, the county's policy, and the hub's confirmation: $OUT" \
    eval 'has "$OUT" "本校 20 份" && has "$OUT" "认定规则已更新 (policy updated)" &&
          has "$OUT" "不再导出"'
check_totals tp TP01
run "$NODE" totals --dir "$TMP/tp"
check "provisional totals now work with the county's policy from the bundle (exit $RC)" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "dali"'
run "$NODE" export --dir "$TMP/tp" --out "$TMP/tp-again.xsb"
check "the next bundle carries nothing the hub confirmed: $OUT" has "$OUT" "已导出 0 批"
record_also "$TMP/tp" "$TMP/TP01.csv" teacher_id=TP01-T0001 date=2026-03-03 category=lecture \
    minutes=60 || die "record on tp"
run "$NODE" export --dir "$TMP/tp" --out "$TMP/tp-new.xsb"
check "a later bundle carries only the new record: $OUT" has "$OUT" "已导出 1 批"
run "$HUB" import --dir "$H" "$TMP/tp-new.xsb"
check "the hub merges it as new: $(tail -n 1 <<<"$OUT")" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "序号 801-801: 新 (new)"'

# ---- two more sources of bundles ------------------------------------------------------------

# OT01's node belongs to hub2; OT01 is enrolled at both hubs, so only the recipient can refuse
# its bundle here.
node_init ot OT01 "$DEAD" "$HUB2_KEY"
enroll ot OT01
"$HUB" enroll --dir "$H2" --node "${KEY[ot]}" --school OT01 >/dev/null || die "enroll ot at hub2"
"$NODE" record --dir "$TMP/ot" --teacher OT01-T0001 --date 2026-03-02 --category lecture \
    --minutes 90 >/dev/null || die "record on ot"
run "$NODE" export --dir "$TMP/ot" --out "$TMP/ot.xsb"
check_rc "a node of hub2 exports" 0
# UN01's node was never enrolled anywhere.
node_init un UN01 "$DEAD" "$HUB_KEY"
mixed_sheet UN01 1200 10 "$EXAM" >"$TMP/UN01.csv"
import_sheet un "$TMP/UN01.csv"
run "$NODE" export --dir "$TMP/un" --out "$TMP/un.xsb"
check_rc "an unenrolled node exports" 0

# ---- the same bundle again: nothing new ------------------------------------------------------

snapshot
run "$HUB" import --dir "$H" "$TMP/tp.xsb"
check_rc "the same bundle imported twice" 0
check "the second import prints 已有 (already known), nothing new: $(tail -n 1 <<<"$OUT")" \
    eval 'has "$OUT" "序号 1-800: 已有 (already known)" && has "$OUT" "新 0 批 0 条" &&
          ! has "$OUT" "新 (new)"'
unchanged "the second import"

# ---- refused whole ---------------------------------------------------------------------------

SIZE=$(stat -c %s "$TMP/tp.xsb")
# 0: empty; 7: inside the magic; 60: inside the sealed key; 145: the prefix, no chunk; 150:
# inside the first chunk's length + ciphertext; the middle; SIZE-24: exactly at the end marker's
# chunk (every item whole, the marker missing); SIZE-1: the marker cut by a byte.
for cut in 0 7 60 145 150 $((SIZE / 2)) $((SIZE - 24)) $((SIZE - 1)); do
    head -c "$cut" "$TMP/tp.xsb" >"$TMP/cut.xsb"
    refused "a bundle cut at $cut of $SIZE bytes" "$TMP/cut.xsb" "(truncated)"
done
{
    cat "$TMP/tp.xsb"
    printf 'x'
} >"$TMP/trailing.xsb"
refused "a bundle with a byte after its end" "$TMP/trailing.xsb" "(bytes after the end marker)"
flip "$TMP/tp.xsb" $((SIZE / 2)) "$TMP/flip.xsb"
refused "a bundle with a byte flipped in the middle" "$TMP/flip.xsb" "(tampered)"
flip "$TMP/tp.xsb" $((SIZE - 1)) "$TMP/flip.xsb"
refused "a bundle with its last byte flipped" "$TMP/flip.xsb" "(tampered)"
flip "$TMP/tp.xsb" 130 "$TMP/flip.xsb"
refused "a bundle with a byte of its stream header flipped" "$TMP/flip.xsb" "(tampered)"
flip "$TMP/tp.xsb" 20 "$TMP/flip.xsb"
refused "a bundle with a byte of its recipient flipped" "$TMP/flip.xsb" "(bundle for another hub)"
cp "$TMP/tp-receipts.xsb" "$TMP/wrong-kind.xsb"
run "$HUB" import --dir "$H" "$TMP/wrong-kind.xsb"
check_rc "a receipts bundle given to the hub's import" 2

# A bundle for another county's hub: OT01's node belongs to hub2.
refused "hub2's bundle given to this hub" "$TMP/ot.xsb" "(bundle for another hub)"
report "$TMP/hub2-before.csv" "$H2"
run "$HUB" import --dir "$H2" "$TMP/tp.xsb"
check_rc "this hub's bundle given to hub2" 2
check "hub2 says it is not for it: $ERR" has "$ERR" "(bundle for another hub)"
report "$TMP/hub2-after.csv" "$H2"
check "hub2 merged nothing of it" eval 'cmp -s "$TMP/hub2-before.csv" "$TMP/hub2-after.csv" &&
    ! grep -aq "^TP01," "$TMP/hub2-after.csv"'
run "$HUB" import --dir "$H2" "$TMP/ot.xsb"
check_rc "hub2 imports its own node's bundle" 0

# A node the hub never enrolled: a good bundle, every batch refused.
run "$HUB" import --dir "$H" "$TMP/un.xsb"
check_rc "its bundle: every batch refused" 1
check "each batch is reported 拒绝 (rejected), not enrolled: $(head -n 1 <<<"$OUT")" \
    eval '[ "$(grep -c "拒绝 (rejected)" <<<"$OUT")" -eq 2 ] && has "$OUT" "新 0 批 0 条" &&
          has "$OUT" "拒绝 2，"'
unchanged "after every refusal"
check "the unenrolled school is in no report" eval '! grep -aq "^UN01," "$TMP/now-report.csv"'

# ---- relay and bundle: the same records count once ------------------------------------------

# ZX01 relays for JXD02. The relay's port is picked among free ones; JXD02 points at it.
node_init zx ZX01 "$HUB_ENDPOINT" "$HUB_KEY"
enroll zx ZX01 --proxy-for JXD02
mixed_sheet ZX01 300 10 "$EXAM" >"$TMP/ZX01.csv"
SHEETS+=("$TMP/ZX01.csv")
import_sheet zx "$TMP/ZX01.csv"
node_init j2 JXD02 "$DEAD" "${KEY[zx]}" "$HUB_KEY"
enroll j2 JXD02
started=0
for try in 1 2 3 4 5 6 7 8; do
    RELAY_ENDPOINT=tcp://127.0.0.1:$((20000 + ($$ + 1009 + try * 3779) % 20000))
    node_init j2 JXD02 "$RELAY_ENDPOINT" "${KEY[zx]}" "$HUB_KEY"
    if relay_start "$TMP/zx" "$RELAY_ENDPOINT" "$TMP/relay.log"; then
        started=1
        break
    fi
done
[ "$started" = 1 ] || die "the relay did not start: $(cat "$TMP/relay.log")"
wait_for_text "$TMP/relay.log" "代管 1 所卫星校" 15 "$RELAY_PID" ||
    die "the relay's first uplink: $(cat "$TMP/relay.log")"
pass "relay serving at $RELAY_ENDPOINT, roster fetched from the hub"

mixed_sheet JXD02 1800 30 "$EXAM" >"$TMP/JXD02-all.csv"
head -n 1201 "$TMP/JXD02-all.csv" >"$TMP/JXD02.csv"
SHEETS+=("$TMP/JXD02.csv")
hub_stop
import_sheet j2 "$TMP/JXD02.csv"
sync j2
check_rc "JXD02 syncs 1,200 records to the relay, the hub down" 0
check "held by the relay: $(sed -n 2p <<<"$OUT")" has "$OUT" "2 批由中心校暂存"
# Exported while the relay still holds them, not confirmed by the hub: the satellite's own
# bundle has both batches (protocol.md §7: what the hub has not confirmed), and so has the
# relay's.
run "$NODE" export --dir "$TMP/j2" --out "$TMP/j2.xsb"
check_rc "JXD02 exports the same batches to a bundle" 0
check "JXD02's bundle has its 2 batches, held by the relay but unconfirmed: $OUT" \
    has "$OUT" "已导出 2 批"
j2_export=$OUT
run "$NODE" export --dir "$TMP/zx" --out "$TMP/zx-held.xsb"
check_rc "the relay exports the batches it holds to a bundle" 0
check "the relay's bundle has JXD02's 2 batches: $OUT" has "$OUT" "已导出 2 批"
hub_start "$H" "$HUB_ENDPOINT" "$TMP/hub.log" || die "the hub did not restart"
t0=$(now_ms)
if wait_for_text "$TMP/relay.log" "转交 2 批 1200 条" "$WAIT_S" "$RELAY_PID"; then
    pass "the relay forwarded JXD02's 2 batches $(($(now_ms) - t0)) ms after the hub came back"
else
    fail "the relay did not forward within $WAIT_S s: $(tail -n 3 "$TMP/relay.log" | tr '\n' '|')"
fi
check_oracle "after the relay forwarded"
snapshot
for bundle in j2 zx-held; do
    if [ "$bundle" = j2 ] && ! has "$j2_export" "已导出 2 批"; then
        echo "skip - j2.xsb does not hold JXD02's batches (the failure above)"
        continue
    fi
    run "$HUB" import --dir "$H" "$TMP/$bundle.xsb"
    check_rc "$bundle.xsb, of the batches the relay forwarded" 0
    check "$bundle.xsb: both batches 已有 (already known): $(tail -n 1 <<<"$OUT")" \
        eval '[ "$(grep -c "已有 (already known)" <<<"$OUT")" -eq 2 ] && has "$OUT" "新 0 批 0 条"'
done
unchanged "relay, then bundle"
check_oracle "relay, then bundle"

# ---- a relay exports its satellites' held batches --------------------------------------------

hub_stop
tail -n +1202 "$TMP/JXD02-all.csv" >>"$TMP/JXD02.csv" # rows 1201..1800
{
    head -n 1 "$TMP/JXD02-all.csv"
    tail -n +1202 "$TMP/JXD02-all.csv"
} >"$TMP/JXD02-more.csv"
import_sheet j2 "$TMP/JXD02-more.csv"
failed_before=$(count "$TMP/relay.log" "同步未完成")
sync j2
check_rc "JXD02 syncs 600 more records to the relay, the hub down" 0
check "held by the relay: $(sed -n 2p <<<"$OUT")" has "$OUT" "1 批由中心校暂存"
run "$NODE" export --dir "$TMP/zx" --out "$TMP/zx.xsb"
check_rc "the relay exports a bundle" 0
check "the relay's bundle holds the satellite's held batch (its own are confirmed): $OUT" \
    has "$OUT" "已导出 1 批"
run "$HUB" import --dir "$H" "$TMP/zx.xsb"
check_rc "the hub (not running) imports the relay's bundle" 0
check "it merges the satellite's 600 records: $(tail -n 1 <<<"$OUT")" \
    has "$OUT" "序号 1201-1800: 新 (new)"
check_oracle "after the relay's bundle"
check "the report shows the records under the satellite's school" \
    eval '[ "$(awk -F, '\''$2 ~ /^JXD02-/ && $1 != "JXD02"'\'' "$TMP/report.csv" | wc -l)" -eq 0 ] &&
          [ "$(grep -ac "^JXD02,JXD02-" "$TMP/report.csv")" -gt 0 ]'
check "nodes: JXD02 contiguous through 1800, no gap, no fork" \
    eval '"$HUB" nodes --dir "$H" | grep -Eq " JXD02 .* 1800 +1800 +0 +0$"'
run "$HUB" export-receipts --dir "$H" --node "${KEY[zx]}" --out "$TMP/zx-receipts.xsb"
check_rc "export-receipts for the relay" 0
zx_teachers=$(cut -d, -f1 "$TMP/ZX01.csv" | tail -n +2 | sort -u | wc -l)
check "it carries the relay's $zx_teachers and the satellite's 30 teachers: $OUT" \
    has "$OUT" "已导出 $((zx_teachers + 30)) 份认定回执"
run "$NODE" import-receipts --dir "$TMP/zx" "$TMP/zx-receipts.xsb"
check_rc "the relay imports the receipts" 0
check "the relay keeps the satellite's: $OUT" \
    eval 'has "$OUT" "本校 $zx_teachers 份" && has "$OUT" "卫星校 30 份"'
# While the hub is away the relay tries it every few seconds and serves nobody meanwhile: sync
# the satellite right after a failed try.
if wait_for_count "$TMP/relay.log" "同步未完成" $((failed_before + 1)) "$WAIT_S"; then
    t0=$(now_ms)
    sync j2
    check_rc "JXD02 syncs with the hub down" 0
    check "JXD02 gets its 30 receipts from the relay ($(($(now_ms) - t0)) ms): $(head -n 1 <<<"$OUT")" \
        has "$OUT" "回执 30 份"
    check_totals j2 JXD02
else
    fail "the relay never tried the hub within $WAIT_S s"
fi

# The hub back: the receipts bundle confirmed the satellite's batch, so the relay does not send
# it again.
snapshot any-time
hub_start "$H" "$HUB_ENDPOINT" "$TMP/hub.log" || die "the hub did not restart"
kill -TERM "$RELAY_PID"
bg_wait "$RELAY_PID" 10 || die "the relay did not stop on SIGTERM"
check_eq "the relay stops on SIGTERM" 0 "$BG_RC"
cat "$TMP/relay.log" >>"$TMP/relay-all.log"
relay_start "$TMP/zx" "$RELAY_ENDPOINT" "$TMP/relay.log" || die "the relay did not restart"
if wait_for_text "$TMP/relay.log" "代管 1 所卫星校" 15 "$RELAY_PID"; then
    check "the relay does not forward the batch the bundle confirmed: $(grep -a 代管 \
        "$TMP/relay.log")" has "$(cat "$TMP/relay.log")" "转交 0 批 0 条"
else
    fail "the relay's uplink after its restart: $(tail -n 3 "$TMP/relay.log" | tr '\n' '|')"
fi
check "the hub merged nothing again" eval '! grep -aq "合并 (merge)" "$TMP/hub.log"'
unchanged "bundle, then relay" any-time
sync j2
check_rc "JXD02's sync after that" 0
check "JXD02 is now confirmed through 1800 by the relay: $(head -n 1 <<<"$OUT")" \
    has "$OUT" "县里已确认至序号 1800 (hub confirmed)"

kill -TERM "$RELAY_PID"
bg_wait "$RELAY_PID" 10 && check_eq "the relay stops on SIGTERM" 0 "$BG_RC"
kill -TERM "$HUB_PID"
bg_wait "$HUB_PID" 10 && check_eq "the hub stops on SIGTERM" 0 "$BG_RC"
echo "test_bundle: $(($(now_ms) - t_start)) ms"

finish
