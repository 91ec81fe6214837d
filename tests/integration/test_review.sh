#!/usr/bin/env bash
# test_review: a satellite school (JXD01) reviews its records (学校审核, records.md §3.1) and
# syncs them through its central school's relay (ZX01, protocol.md §8) to the hub: approved
# records are credited, a returned one is rejected with the school's reason in
# `xueshi-hub report --detail`; approving it later credits it. The node refuses to review a
# correction, a review, a voided or an unknown record, and writes nothing then.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/baiwanzi.ini
H=$TMP/hub
SYNC_TIMEOUT=20
WAIT_S=30
REASON="证书学时与登记不符，请核对后重新登记"

# relay_start: the central school's node relaying at RELAY_ENDPOINT, output to relay.log.
relay_start() {
    bg_start "$TMP/relay.log" "$NODE" run --dir "$TMP/zx" --relay-listen "$RELAY_ENDPOINT"
    RELAY_PID=$BG_PID
    wait_for_text "$TMP/relay.log" "中转运行中" 10 "$RELAY_PID" && return 0
    bg_kill "$RELAY_PID"
    return 1
}

# detail: the hub's detail report into $TMP/detail.csv.
detail() {
    "$HUB" report --dir "$H" --detail >"$TMP/detail.csv" 2>"$TMP/detail.err" ||
        die "report --detail: $(cat "$TMP/detail.err")"
}

# detail_row SEQ: the hub's detail row of JXD01's record SEQ (line "<node key>:<seq>").
detail_row() {
    grep -a ",${KEY[j1]:4:16}:$1," "$TMP/detail.csv"
}

# wait_detail SEQ FIXED: polls the hub's detail report until record SEQ's row holds FIXED.
wait_detail() {
    local deadline=$(($(now_ms) + WAIT_S * 1000))
    until detail && detail_row "$1" | grep -aqF -- "$2"; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# ---- a hub, a central school relaying for JXD01 ----------------------------------------------

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init zx ZX01 "$HUB_ENDPOINT" "$HUB_KEY"
enroll zx ZX01 --proxy-for JXD01
node_init j1 JXD01 tcp://127.0.0.1:1 "${KEY[zx]}" "$HUB_KEY"
enroll j1 JXD01
started=0
for try in 1 2 3 4 5 6 7 8; do
    RELAY_ENDPOINT=tcp://127.0.0.1:$((20000 + ($$ + 1301 + try * 3779) % 20000))
    node_init j1 JXD01 "$RELAY_ENDPOINT" "${KEY[zx]}" "$HUB_KEY"
    if relay_start; then
        started=1
        break
    fi
done
[ "$started" = 1 ] || die "the relay did not start: $(cat "$TMP/relay.log")"
"$NODE" policy --dir "$TMP/j1" "$POLICY" >/dev/null || die "policy at j1"

# ---- the satellite's records and its review --------------------------------------------------

rec() {
    "$NODE" record --dir "$TMP/j1" --operator A01 "$@" >/dev/null || die "record $*"
}
rec --teacher JXD01-T1 --date 2025-03-11 --category lecture --minutes 90          # 1
rec --teacher JXD01-T1 --date 2025-03-12 --category online_training --hours 12    # 2
rec --teacher JXD01-T1 --date 2025-03-13 --category external_training --hours 24  # 3
rec --teacher JXD01-T2 --date 2025-03-14 --category lecture --minutes 60          # 4
rec --teacher JXD01-T2 --date 2025-03-15 --category lecture --minutes 45          # 5
"$NODE" void --dir "$TMP/j1" 5 --reason 重复登记 >/dev/null || die "void 5"       # 6

run "$NODE" review --dir "$TMP/j1" --format csv
check_rc "review lists the records not yet reviewed" 0
check "as CSV with Chinese headings: 4 records, not the voided one nor the correction" \
    eval '[ "$(csv_select "$TMP/.out" 1 2 3 4 5 6 | head -n 1)" = "编号,教师,日期,类别,学时,内容" ] &&
          [ "$(csv_select "$TMP/.out" 1 | tail -n +2 | tr "\n" " ")" = "1 2 3 4 " ]'
check "with the credit each would get: the 24 h training $(grep -a '^3,' "$TMP/.out")" \
    eval 'csv_select "$TMP/.out" 1 2 3 4 5 | grep -aqx "3,JXD01-T1,2025-03-13,集中培训,24.00"'

for bad in 5 6 99; do
    run "$NODE" review --dir "$TMP/j1" --approve "1,$bad"
    check_rc "approving 1,$bad is refused" 2
done
check "the refusals say why: voided, a correction, no such record" \
    eval 'has "$ERR" "记录 99：不存在"'
run "$NODE" review --dir "$TMP/j1" --approve 6
check "a correction cannot be reviewed: $ERR" eval 'has "$ERR" "是更正记录"'
run "$NODE" list --dir "$TMP/j1" --format csv
check "nothing was written by a refused review: 6 records, all 未审核 but the correction" \
    eval '[ "$(csv_select "$TMP/.out" 1 | tail -n +2 | wc -l)" -eq 5 ] &&
          [ "$(csv_select "$TMP/.out" 23 | grep -c 未审核)" -eq 5 ]'

run "$NODE" review --dir "$TMP/j1" --approve 1-2 --operator A02
check_rc "approve 1-2" 0
check "one review each: $(head -n 1 <<<"$OUT")" eval 'has "$OUT" "记录 (record) 1 → 审核记录 (review) 7" && has "$OUT" "记录 (record) 2 → 审核记录 (review) 8"'
run "$NODE" review --dir "$TMP/j1" --return 3 --reason "$REASON" --operator A02
check_rc "return 3 with the reason" 0
run "$NODE" review --dir "$TMP/j1" --approve 9
check_rc "a review cannot be reviewed" 2
run "$NODE" list --dir "$TMP/j1"
check "list shows each record's review: 已通过, 已退回 with the reason, 未审核" \
    eval 'grep -a "^1 " "$TMP/.out" | grep -q 已通过 && grep -a "^3 " "$TMP/.out" | grep -q "已退回" &&
          grep -a "^3 " "$TMP/.out" | grep -qF "退回原因：$REASON" &&
          grep -a "^4 " "$TMP/.out" | grep -q 未审核'
run "$NODE" review --dir "$TMP/j1"
check "review now lists only record 4" \
    eval 'has "$OUT" "共 1 条未审核" && grep -aq "^4 " "$TMP/.out"'
run "$NODE" totals --dir "$TMP/j1" --teacher JXD01-T1
check "provisional totals leave out the returned 24 h: 1.50 + 12.00 = 13.50" \
    eval 'grep -a "学年" "$TMP/.out" | grep -q " 13.50 "'

# ---- through the relay to the hub ------------------------------------------------------------

sync j1
check_rc "JXD01 syncs its records and reviews to the relay" 0
if wait_detail 3 "returned"; then
    pass "the relay forwarded them and the hub certified"
else
    fail "the hub did not certify JXD01's records within $WAIT_S s: $(tail -n 3 "$TMP/relay.log" |
        tr '\n' '|')"
fi
check "the hub's detail: the returned record is rejected with the school's reason: $(detail_row 3)" \
    eval 'detail_row 3 | grep -aqF ",0.00,rejected,returned 学校审核退回：$REASON"'
check "approved records are credited: $(detail_row 2)" \
    eval 'detail_row 1 | grep -aq ",1.50,credited," && detail_row 2 | grep -aq ",12.00,credited,"'
check "the reviews themselves show as reviews: $(detail_row 9)" \
    eval 'detail_row 7 | grep -aq ",review," && detail_row 9 | grep -aq ",review,"'
check "the voided record stays voided: $(detail_row 5)" eval 'detail_row 5 | grep -aq ",voided,"'
check "the unreviewed record counts too (the policy does not require review): $(detail_row 4)" \
    eval 'detail_row 4 | grep -aq ",1.00,credited,"'

# ---- the teacher fixes it with the office; the school approves after all ----------------------

run "$NODE" review --dir "$TMP/j1" --approve 3
check_rc "approving the returned record again: the later review wins" 0
sync j1
check_rc "and syncing it" 0
if wait_detail 3 "credited"; then
    pass "the hub credits record 3 after the later approval: $(detail_row 3)"
else
    fail "record 3 is not credited at the hub: $(detail_row 3)"
fi
check "its 24 h count: $(detail_row 3)" eval 'detail_row 3 | grep -aq ",24.00,credited,"'

# ---- a returned exam re-ranks its sitting for every teacher who sat it -------------------------

EXAM=2025学年县级教师专业知识考试
rec --teacher JXD01-T1 --date 2025-06-20 --category exam --event "$EXAM" --score 90 # 11
rec --teacher JXD01-T2 --date 2025-06-20 --category exam --event "$EXAM" --score 80 # 12
rec --teacher JXD01-T3 --date 2025-06-20 --category exam --event "$EXAM" --score 70 # 13
sync j1
check_rc "three teachers' exam results synced" 0
if wait_detail 13 "credited"; then
    pass "ranked among 3: top 3 h, middle 2 h, bottom 1 h: $(detail_row 13)"
else
    fail "the exam results did not reach the hub: $(detail_row 13)"
fi
check "the tiers: $(detail_row 11 | cut -d, -f6) $(detail_row 12 | cut -d, -f6) $(detail_row 13 | cut -d, -f6)" \
    eval 'detail_row 11 | grep -aq ",3.00,credited," && detail_row 12 | grep -aq ",2.00,credited," &&
          detail_row 13 | grep -aq ",1.00,credited,"'
run "$NODE" review --dir "$TMP/j1" --return 11 --reason "成绩登记有误"
check_rc "the school returns T1's result" 0
sync j1
check_rc "and syncs it" 0
if wait_detail 13 ",2.00,credited,"; then
    pass "the hub re-ranked the sitting without T1: T3 is now in the middle, $(detail_row 13)"
else
    fail "T3 was not re-ranked after T1's result was returned: $(detail_row 13)"
fi
check "T1's result is rejected with the school's reason, T2 stays in the middle" \
    eval 'detail_row 11 | grep -aqF ",0.00,rejected,returned 学校审核退回：成绩登记有误" &&
          detail_row 12 | grep -aq ",2.00,credited,"'

# The hub's merge re-certified T3 too (not only the report): T3's receipt, fetched through the
# relay, confirms the 2 h.
deadline=$(($(now_ms) + WAIT_S * 1000))
until sync j1 && "$NODE" totals --dir "$TMP/j1" --confirmed --format csv --teacher JXD01-T3 \
    >"$TMP/t3.csv" 2>/dev/null && csv_select "$TMP/t3.csv" 1 3 4 6 | grep -aqx "JXD01-T3,year,2024-2025,2.00"; do
    [ "$(now_ms)" -lt "$deadline" ] || break
    sleep 0.5
done
check "T3's receipt confirms the re-ranked 2 h: $(csv_select "$TMP/t3.csv" 1 3 4 6 | grep -a year)" \
    eval 'csv_select "$TMP/t3.csv" 1 3 4 6 | grep -aqx "JXD01-T3,year,2024-2025,2.00"'

kill -TERM "$RELAY_PID"
bg_wait "$RELAY_PID" 10 || fail "the relay did not stop on SIGTERM"
finish
