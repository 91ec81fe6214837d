#!/usr/bin/env bash
# test_rotate: the county rotates its hub's signing key between two syncs (protocol.md §11).
# A node that syncs follows the rotation, a teaching point follows it from its receipts bundle;
# receipts the old key signed still verify, as historical, and new ones verify only under the
# new key. A rotation cut short between its statement and its key file is finished by the next
# command; a key file that was rotated out is refused.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
EXAM=2025学年县级教师专业知识考试
H=$TMP/hub
SYNC_TIMEOUT=20

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
OLD_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
HUB_PORT=${HUB_ENDPOINT##*:}
DEAD=tcp://127.0.0.1:$((HUB_PORT < 65000 ? HUB_PORT + 7 : HUB_PORT - 7)) # nobody listens

# A school that syncs, and a teaching point that only ever hands in USB sticks.
node_init n1 S1 "$HUB_ENDPOINT" "$OLD_KEY"
enroll n1 S1
mixed_sheet S1 120 6 "$EXAM" >"$TMP/S1.csv"
"$NODE" import --dir "$TMP/n1" "$TMP/S1.csv" >/dev/null || die "import S1"
sync n1
check_rc "the school's first sync" 0
# A central school that relays for a satellite school.
node_init zx ZX1 "$HUB_ENDPOINT" "$OLD_KEY"
enroll zx ZX1 --proxy-for JX1
node_init j1 JX1 "$DEAD" "${KEY[zx]}" "$OLD_KEY"
enroll j1 JX1
started=0
for try in 1 2 3 4 5 6 7 8; do
    RELAY_ENDPOINT=tcp://127.0.0.1:$((20000 + ($$ + 1009 + try * 3779) % 20000))
    node_init j1 JX1 "$RELAY_ENDPOINT" "${KEY[zx]}" "$OLD_KEY"
    bg_start "$TMP/relay.log" "$NODE" run --dir "$TMP/zx" --relay-listen "$RELAY_ENDPOINT"
    RELAY_PID=$BG_PID
    if wait_for_text "$TMP/relay.log" "中转运行中" 10 "$RELAY_PID"; then
        started=1
        break
    fi
    bg_kill "$RELAY_PID"
done
[ "$started" = 1 ] || die "the relay did not start: $(cat "$TMP/relay.log")"
mixed_sheet JX1 30 3 "$EXAM" >"$TMP/JX1.csv"
"$NODE" import --dir "$TMP/j1" "$TMP/JX1.csv" >/dev/null || die "import JX1"
sync j1
check_rc "the satellite's first sync, through the relay" 0
node_init tp TP1 "$DEAD" "$OLD_KEY"
enroll tp TP1
mixed_sheet TP1 40 3 "$EXAM" >"$TMP/TP1.csv"
"$NODE" import --dir "$TMP/tp" "$TMP/TP1.csv" >/dev/null || die "import TP1"
"$NODE" export --dir "$TMP/tp" --out "$TMP/tp.xsb" >/dev/null || die "export tp"
"$HUB" import --dir "$H" "$TMP/tp.xsb" >/dev/null || die "hub import tp"
"$HUB" export-receipts --dir "$H" --node "${KEY[tp]}" --out "$TMP/tp-1.xsb" >/dev/null ||
    die "export-receipts tp"
"$NODE" import-receipts --dir "$TMP/tp" "$TMP/tp-1.xsb" >/dev/null || die "import-receipts tp"
"$NODE" receipt --dir "$TMP/n1" --teacher S1-T0001 --out "$TMP/old.receipt" >/dev/null ||
    die "receipt before the rotation"

# ---- the rotation, beside the running hub ----------------------------------------------------

cp "$H/hub.secret" "$TMP/old-hub.secret"
run "$HUB" rotate-keys --dir "$H"
check_rc "rotate-keys" 0
NEW_KEY=$(sed -n 's/^新公钥 (in force): //p' <<<"$OUT")
check "it shows the retired and the new key: $OUT" \
    eval 'has "$OUT" "原公钥 (retired): $OLD_KEY" && [ -n "$NEW_KEY" ] && [ "$NEW_KEY" != "$OLD_KEY" ]'
check_eq "hub.pub holds the new key" "$NEW_KEY" "$(cat "$H/hub.pub")"
check_eq "the transport half is unchanged" "${OLD_KEY#*.}" "${NEW_KEY#*.}"
check "no successor file is left" test ! -e "$H/hub-next.secret"

# New records, so that the hub signs new receipts for S1-T0001.
"$NODE" record --dir "$TMP/n1" --teacher S1-T0001 --date 2025-11-03 --category lecture \
    --minutes 90 >/dev/null || die "record after the rotation"
sync n1
check_rc "the sync after the rotation" 0
check "the node says it followed the rotation: $OUT" has "$OUT" "followed"
check "the running hub signs with the new key: $(tail -n 3 "$TMP/hub.log")" \
    wait_for_text "$TMP/hub.log" "signing with the new key" 5
"$NODE" receipt --dir "$TMP/n1" --teacher S1-T0001 --out "$TMP/new.receipt" >/dev/null ||
    die "receipt after the rotation"
run "$XS" verify "$TMP/new.receipt" --hub-key "$NEW_KEY"
check_rc "the new receipt verifies under the new key" 0
run "$XS" verify "$TMP/new.receipt" --hub-key "$OLD_KEY"
check "and not under the retired key (exit $RC)" eval '[ "$RC" -ne 0 ]'
run "$XS" verify "$TMP/old.receipt" --hub-key "$OLD_KEY"
check_rc "the old receipt still verifies under the key that signed it" 0

# Teachers whose receipts the old key signed are still confirmed at the node.
run "$NODE" totals --dir "$TMP/n1"
check "totals: no receipt fails its check after the rotation: $ERR" \
    eval '[ "$RC" -eq 0 ] && ! has "$ERR" "回执无效"'
check "totals still shows S1-T0006's confirmed hours (its receipt is the old key's)" \
    eval 'grep "^S1-T0006 " <<<"$OUT" | grep -q 学年'
run "$NODE" check --dir "$TMP/n1"
check_rc "the node's store checks clean after following" 0

# A second rotation: the node follows two statements at once at its next sync.
run "$HUB" rotate-keys --dir "$H"
check_rc "a second rotation" 0
THIRD_KEY=$(sed -n 's/^新公钥 (in force): //p' <<<"$OUT")
"$NODE" record --dir "$TMP/n1" --teacher S1-T0001 --date 2025-11-04 --category lecture \
    --minutes 60 >/dev/null || die "record after the second rotation"
sync n1
check_rc "the sync after the second rotation" 0
"$NODE" receipt --dir "$TMP/n1" --teacher S1-T0001 --out "$TMP/third.receipt" >/dev/null ||
    die "receipt after the second rotation"
run "$XS" verify "$TMP/third.receipt" --hub-key "$THIRD_KEY"
check_rc "the newest receipt verifies under the third key" 0

# ---- the satellite follows through its central school ---------------------------------------

# The relay follows at its next uplink (soon after a satellite's new batch); the satellite at
# its next session with the relay after that.
"$NODE" record --dir "$TMP/j1" --teacher JX1-T0001 --date 2025-11-05 --category lecture \
    --minutes 45 >/dev/null || die "record at the satellite"
followed=0
for try in $(seq 1 30); do
    sync j1
    if has "$OUT" "followed"; then
        followed=1
        break
    fi
    sleep 1
done
check "the relay followed the rotations: $(grep -a followed "$TMP/relay.log" | head -n 1)" \
    has "$(cat "$TMP/relay.log")" "followed"
check "the satellite followed them through the relay (after $try sessions)" test "$followed" = 1
got=0
for try in $(seq 1 30); do
    sync j1
    if "$NODE" receipt --dir "$TMP/j1" --teacher JX1-T0001 --out "$TMP/j1.receipt" >/dev/null 2>&1 &&
        "$XS" verify "$TMP/j1.receipt" --hub-key "$THIRD_KEY" >/dev/null 2>&1; then
        got=1
        break
    fi
    sleep 1
done
check "the satellite holds a receipt the third key signed, relayed (after $try sessions)" \
    test "$got" = 1
run "$NODE" check --dir "$TMP/j1"
check_rc "the satellite's store checks clean" 0
bg_kill "$RELAY_PID"

# ---- the teaching point follows from its receipts bundle -------------------------------------

"$HUB" export-receipts --dir "$H" --node "${KEY[tp]}" --out "$TMP/tp-2.xsb" >/dev/null ||
    die "export-receipts tp after the rotations"
run "$NODE" import-receipts --dir "$TMP/tp" "$TMP/tp-2.xsb"
check_rc "the teaching point imports receipts signed by the new key" 0
check "it says it followed the rotation: $OUT" has "$OUT" "followed"
check "nothing in the bundle was refused: $OUT" eval '! has "$OUT" "invalid ones dropped"'
run "$NODE" totals --dir "$TMP/tp"
check "the teaching point's totals show no failed receipt: $ERR" \
    eval '[ "$RC" -eq 0 ] && ! has "$ERR" "回执无效"'

# ---- a rotation cut short, a rotated-out key file --------------------------------------------

bg_kill "$HUB_PID"
# As if the power went off after the statement was committed but before the file was renamed.
mv "$H/hub.secret" "$H/hub-next.secret"
mv "$H/hub.pub" "$H/hub-next.pub"
cp "$TMP/old-hub.secret" "$H/hub.secret"
run "$HUB" export-receipts --dir "$H" --node "${KEY[tp]}" --out "$TMP/tp-3.xsb"
check_rc "the next command with the keys runs" 0
check "and says it finished the rotation: $ERR" has "$ERR" "finished a key rotation"
check_eq "the key in force is in place again" "$THIRD_KEY" "$(cat "$H/hub.pub")"
cp "$H/hub.secret" "$TMP/third-hub.secret"
cp "$TMP/old-hub.secret" "$H/hub.secret"
run "$HUB" export-receipts --dir "$H" --node "${KEY[tp]}" --out "$TMP/tp-4.xsb"
check "a key file that was rotated out is refused (exit $RC): $ERR" \
    eval '[ "$RC" -ne 0 ] && has "$ERR" "rotated out"'
cp "$TMP/third-hub.secret" "$H/hub.secret"
hub_start_free "$H" "$TMP/hub2.log" || die "the hub did not restart: $(cat "$TMP/hub2.log")"
node_init n1 S1 "$HUB_ENDPOINT" "$OLD_KEY" 2>/dev/null || true
sync n1
check_rc "a sync with the restarted hub" 0

finish
