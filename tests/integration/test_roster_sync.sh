#!/usr/bin/env bash
# test_roster_sync: the county's teacher roster reaches every node as its own part
# (protocol.md §10): a directly connected school by sync, satellites through their central
# school's relay (which keeps its satellites' teachers only), a school without a link in its
# receipts bundle. With a part held, record and import refuse a teacher the roster does not
# have, naming the nearest, or one of another school; list and totals show names; a new
# roster version reaches the node at its next sync. Without a part everything works as before.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
H=$TMP/hub
SYNC_TIMEOUT=20
WAIT_S=25 # longest wait for one of the relay's uplink sessions

# sheet FILE LINE...: writes a CSV file the way Excel's "CSV UTF-8" does: BOM, CRLF.
sheet() {
    local file=$1
    shift
    printf '\xEF\xBB\xBF' >"$file"
    printf '%s\r\n' "$@" >>"$file"
}

# staff NAME: `xueshi-node staff` of node NAME; sets RC, OUT, ERR.
staff() {
    run "$NODE" staff --dir "$TMP/$1"
}

# ids: the teacher_ids of the CSV in $OUT (after the summary lines), sorted, on one line.
ids() {
    sed -n '/^teacher_id,/,$p' <<<"$OUT" | tail -n +2 | cut -d, -f1 | sort | tr '\n' ' ' |
        sed 's/ $//'
}

# relay_start: the central school's `run` relaying at $RELAY_ENDPOINT (tried on a few ports);
# sets RELAY_PID.
relay_start() {
    local try
    for try in 1 2 3 4 5 6 7 8; do
        RELAY_ENDPOINT=tcp://127.0.0.1:$((20000 + ($$ + 1009 + try * 3779) % 20000))
        bg_start "$TMP/relay.log" "$NODE" run --dir "$TMP/zx" --relay-listen "$RELAY_ENDPOINT"
        RELAY_PID=$BG_PID
        wait_for_text "$TMP/relay.log" "中转运行中" 10 "$RELAY_PID" && return 0
        bg_kill "$RELAY_PID"
    done
    return 1
}

# ---- a county: a hub, a direct school, a central school with two satellites, a USB school -----

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init cz CZ01 "$HUB_ENDPOINT" "$HUB_KEY"
node_init zx ZX01 "$HUB_ENDPOINT" "$HUB_KEY"
node_init usb USB01 tcp://127.0.0.1:1 "$HUB_KEY" # no link: bundles only
enroll cz CZ01
enroll zx ZX01 --proxy-for JXD01,JXD02
enroll usb USB01

# ---- no roster: everything as before ------------------------------------------------------------

run "$NODE" record --dir "$TMP/cz" --teacher ANYONE --date 2025-03-01 --category lecture --minutes 60
check_rc "without a roster any teacher is recorded" 0
sync cz
check_rc "a sync with no roster at the hub" 0
check "it brings no roster: $OUT" eval '! has "$OUT" "花名册"'
staff cz
check "staff says the node holds no roster yet: $OUT" eval '[ "$RC" -eq 0 ] && has "$OUT" "还没有教师花名册"'

# ---- the roster --------------------------------------------------------------------------------

sheet "$TMP/roster.csv" "教师编号,姓名,学校,角色,入职日期,状态" \
    "T0012,张三,CZ01,骨干教师,2010-09-01,在职" \
    "T0021,李四,CZ01,班主任,2015-09-01," \
    "T0100,王五,CZ01,,," \
    "Z0001,周一,ZX01,校长,," \
    "Z0002,周二,ZX01,,," \
    "J1001,吴一,JXD01,,," \
    "J1002,吴二,JXD01,,," \
    "J2001,郑一,JXD02,,," \
    "U0001,冯一,USB01,,," \
    "U0002,冯二,USB01,,,"
run "$HUB" roster --dir "$H" import "$TMP/roster.csv"
check_rc "the county imports its roster (version 1)" 0

# ---- a direct school: by sync ---------------------------------------------------------------------

sync cz
check_rc "sync after the import" 0
check "the sync brings the roster, version 1, 3 teachers: $OUT" \
    has "$OUT" "教师花名册已更新 (teacher roster updated): 第 1 版，本节点 3 名教师"
staff cz
check_eq "CZ01 holds its own teachers only" "T0012 T0021 T0100" "$(ids)"
check "staff shows version and names: $OUT" \
    eval 'has "$OUT" "第 1 版 (version 1)" && has "$OUT" "T0012,张三,CZ01,骨干教师,2010-09-01,在职"'
sync cz
check "the next sync has nothing new to bring: $OUT" \
    eval '[ "$RC" -eq 0 ] && ! has "$OUT" "教师花名册已更新"'

# ---- the roster at work -------------------------------------------------------------------------

run "$NODE" record --dir "$TMP/cz" --teacher T0O12 --date 2025-03-02 --category lecture --minutes 60
check_rc "record of a teacher not in the roster is refused" 2
check "the refusal names the nearest teachers: $ERR" \
    has "$ERR" "教师 T0O12 不在花名册中; 是否是: T0012 张三"
run "$NODE" record --dir "$TMP/cz" --teacher ANYONE --date 2025-03-03 --category lecture --minutes 60
check "a teacher nothing like the roster's is refused too: $ERR" \
    eval '[ "$RC" -eq 2 ] && has "$ERR" "教师 ANYONE 不在花名册中"'
run "$NODE" record --dir "$TMP/cz" --teacher T0012 --date 2025-03-02 --category lecture --minutes 60
check_rc "record of a roster teacher" 0

sheet "$TMP/rows.csv" "teacher_id,date,category,minutes" \
    "T0021,2025-03-04,lecture,45" \
    "T0210,2025-03-05,lecture,45" \
    "T0100,2025-03-06,lecture,30"
run "$NODE" import --dir "$TMP/cz" "$TMP/rows.csv"
check_rc "import with a row of an unknown teacher" 1
check "import refuses that row by its line, naming the nearest: $ERR" \
    eval 'has "$ERR" "第 3 行 (line 3): 拒绝登记 (refused): 教师 T0210 不在花名册中; 是否是: " &&
          grep -aq "是否是: .*T0021 李四.*?" <<<"$ERR"'
check "import records the other rows and counts the refusal: $OUT" \
    has "$OUT" "新登记 2 条 (recorded)，已登记跳过 0 条 (already recorded)，拒绝 1 条 (refused)"

"$NODE" list --dir "$TMP/cz" --format csv >"$TMP/cz-list.csv" || die "list csv"
check_eq "list --format csv has name after teacher_id" "teacher_id name" \
    "$(csv_select "$TMP/cz-list.csv" 3 4 | head -n 1 | tr -d '\r' | tr ',' ' ')"
check_eq "list --format csv names each teacher (ANYONE, from before the roster, has none)" \
    "ANYONE, T0012,张三 T0021,李四 T0100,王五" \
    "$(csv_select "$TMP/cz-list.csv" 3 4 | tail -n +2 | tr -d '\r' | tr '\n' ' ' | sed 's/ $//')"
run "$NODE" list --dir "$TMP/cz"
check "list's table shows names: $OUT" eval 'has "$OUT" "张三" && has "$OUT" "李四"'
run "$NODE" totals --dir "$TMP/cz" --format csv --teacher T0012
check "totals --format csv: name after teacher_id" \
    eval 'has "$OUT" "teacher_id,name,scope" && has "$OUT" "T0012,张三,year,"'

# ---- a central school and its satellites: through the relay -----------------------------------------

# The satellites point at the relay, with the county's key for what the hub signs.
node_init j1 JXD01 tcp://127.0.0.1:1 "${KEY[zx]}" "$HUB_KEY"
node_init j2 JXD02 tcp://127.0.0.1:1 "${KEY[zx]}" "$HUB_KEY"
enroll j1 JXD01
enroll j2 JXD02
relay_start || die "the relay did not start: $(cat "$TMP/relay.log")"
node_init j1 JXD01 "$RELAY_ENDPOINT" "${KEY[zx]}" "$HUB_KEY"
node_init j2 JXD02 "$RELAY_ENDPOINT" "${KEY[zx]}" "$HUB_KEY"
if wait_for_text "$TMP/relay.log" "本节点 5 名教师" "$WAIT_S" "$RELAY_PID"; then
    pass "the relay's uplink brought its own part: version 1, 5 teachers"
else
    fail "the relay did not get its part: $(tail -n 5 "$TMP/relay.log" | tr '\n' '|')"
fi
if wait_for_text "$TMP/relay.log" "为 2 所卫星校取得新的教师花名册" "$WAIT_S" "$RELAY_PID"; then
    pass "the relay fetched both satellites' parts from the hub"
else
    fail "the relay did not fetch its satellites' parts: $(tail -n 5 "$TMP/relay.log" | tr '\n' '|')"
fi
staff zx
check_eq "the relay's own part: its school and the schools it proxies for" \
    "J1001 J1002 J2001 Z0001 Z0002" "$(ids)"
check "the relay keeps 2 satellites' parts to hand on: $OUT" \
    has "$OUT" "另为卫星校保存花名册 2 份"
check "the relay holds no other school's teachers" \
    eval '! grep -aqE "张三|冯一|CZ01|USB01" <<<"$OUT"'

sync j1
check_rc "JXD01 syncs through the relay" 0
check "JXD01 gets its part through the relay: $OUT" \
    has "$OUT" "教师花名册已更新 (teacher roster updated): 第 1 版，本节点 2 名教师"
staff j1
check_eq "JXD01 sees its own teachers only, not JXD02's nor the central school's" \
    "J1001 J1002" "$(ids)"
sync j2
staff j2
check_eq "JXD02 sees its own teacher only" "J2001" "$(ids)"
sync j1
check "a satellite's next sync gets nil from the relay: nothing new" \
    eval '[ "$RC" -eq 0 ] && ! has "$OUT" "教师花名册已更新"'

run "$NODE" record --dir "$TMP/j1" --teacher J2001 --date 2025-03-02 --category lecture --minutes 60
check "a satellite refuses another satellite's teacher: $ERR" \
    eval '[ "$RC" -eq 2 ] && has "$ERR" "教师 J2001 不在花名册中"'
run "$NODE" record --dir "$TMP/j1" --teacher J1001 --date 2025-03-02 --category lecture --minutes 60
check_rc "a satellite records its own teacher" 0
run "$NODE" record --dir "$TMP/zx" --teacher J1001 --date 2025-03-02 --category lecture --minutes 60
check "the central school refuses a satellite's teacher for its own school: $ERR" \
    eval '[ "$RC" -eq 2 ] && has "$ERR" "教师 J1001 吴一 在花名册中属于学校 JXD01，不是 ZX01"'

# ---- a school without a link: in its receipts bundle ---------------------------------------------

run "$HUB" export-receipts --dir "$H" --node "${KEY[usb]}" --out "$TMP/usb-receipts.xsb"
check "export-receipts adds the school's part: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "另附教师花名册 1 份"'
run "$NODE" import-receipts --dir "$TMP/usb" "$TMP/usb-receipts.xsb"
check "import-receipts takes it: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "教师花名册已更新 (teacher roster updated)"'
staff usb
check_eq "the USB school holds its own teachers" "U0001 U0002" "$(ids)"
run "$NODE" import-receipts --dir "$TMP/usb" "$TMP/usb-receipts.xsb"
check "the same bundle again changes nothing: $OUT" \
    eval '[ "$RC" -eq 0 ] && ! has "$OUT" "教师花名册已更新"'
run "$HUB" export-receipts --dir "$H" --node "${KEY[cz]}" --out "$TMP/cz-receipts.xsb"
run "$NODE" import-receipts --dir "$TMP/usb" "$TMP/cz-receipts.xsb"
check "a bundle for another school is refused whole: $ERR" eval '[ "$RC" -eq 2 ]'
run "$HUB" export-receipts --dir "$H" --node "${KEY[zx]}" --out "$TMP/zx-receipts.xsb"
check "the relay's bundle carries its own and its satellites' parts: $OUT" \
    has "$OUT" "另附教师花名册 3 份"

# ---- a new version: the next sync brings it --------------------------------------------------------

{
    printf '\xEF\xBB\xBF'
    sed '1s/^\xEF\xBB\xBF//' "$TMP/roster.csv"
    printf 'T0300,陈新,CZ01,,,\r\n'
} >"$TMP/roster2.csv"
run "$HUB" roster --dir "$H" import "$TMP/roster2.csv"
check_rc "the county imports version 2 (a new teacher at CZ01)" 0
run "$NODE" record --dir "$TMP/cz" --teacher T0300 --date 2025-03-07 --category lecture --minutes 60
check "before its next sync the node does not know the new teacher: $ERR" \
    eval '[ "$RC" -eq 2 ] && has "$ERR" "T0300"'
sync cz
check "the sync brings version 2: $OUT" \
    has "$OUT" "教师花名册已更新 (teacher roster updated): 第 2 版，本节点 4 名教师"
run "$NODE" record --dir "$TMP/cz" --teacher T0300 --date 2025-03-07 --category lecture --minutes 60
check_rc "then the new teacher is recorded" 0
# An older bundle (version 1) does not take the node back.
run "$NODE" import-receipts --dir "$TMP/cz" "$TMP/cz-receipts.xsb"
staff cz
check "an older part in a bundle leaves version 2 held: $OUT" has "$OUT" "第 2 版 (version 2)"

# ---- the stores are sound ------------------------------------------------------------------------

kill -TERM "$RELAY_PID"
bg_wait "$RELAY_PID" 10 || die "the relay did not stop"
for name in cz zx j1 usb; do
    run "$NODE" check --dir "$TMP/$name"
    check "check of $name: the roster table is sound: $(grep -a staff <<<"$OUT" | tr -s ' ')" \
        eval '[ "$RC" -eq 0 ] && grep -aqE "^ +staff +教师花名册 +[0-9]+ 条 \(entries\) +完好" <<<"$OUT"'
done

finish
