#!/usr/bin/env bash
# test_policy_update: a county's own category end to end, and a new policy version at the hub.
# A node without a policy knows only the built-in categories and says where the county's come
# from; after a sync it records 案例分析 by its Chinese label (and by name, and in an imported
# sheet); the hub certifies it over ZeroMQ and its report counts it. A record of a category the
# hub's policy does not define (研修日志, from a draft policy set at the node) is stored and
# rejected (unknown_category), never dropped. `xueshi-hub policy` with version 2 (案例分析 worth
# more, 研修日志 defined) is refused for another id or a version not higher, then re-certifies
# everyone while the hub runs; the running hub follows it, the node's next sync brings the new
# policy and receipts, and `totals` shows them.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
H=$TMP/hub
SYNC_TIMEOUT=20

# policy FILE VERSION CASE_HOURS [EXTRA...]: a county policy `itc`: one bucket of every category
# (20 h a year), 案例分析 (case_study, code 11) at CASE_HOURS per record, and EXTRA lines.
policy() {
    local file=$1 version=$2 hours=$3
    shift 3
    printf '%s\n' '[policy]' 'id = itc' "version = $version" 'name = 测试县学时认定' \
        '[bucket.total]' 'label = 合计' 'categories = all' \
        '[require.year]' 'total = 20' \
        '[category.case_study]' 'code = 11' 'label = 案例分析' 'rule = fixed' "hours = $hours" \
        "$@" >"$file"
}
STUDY_LOG=('[category.study_log]' 'code = 12' 'label = 研修日志' 'rule = fixed' 'hours = 1')
policy "$TMP/v1.ini" 1 2
policy "$TMP/draft.ini" 1 2 "${STUDY_LOG[@]}"
policy "$TMP/v2.ini" 2 3 "${STUDY_LOG[@]}"
sed 's/^id = itc$/id = other/; s/^version = 2$/version = 3/' "$TMP/v2.ini" >"$TMP/other.ini"

"$HUB" init --dir "$H" --policy "$TMP/v1.ini" >"$TMP/hub-init.out" 2>&1 ||
    die "hub init: $(cat "$TMP/hub-init.out")"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
# init on an initialised hub changes nothing: a new version goes through `xueshi-hub policy`.
run "$HUB" init --dir "$H" --policy "$TMP/v2.ini"
check_rc "init again is refused" 2
check "and names xueshi-hub policy: $ERR" has "$ERR" "xueshi-hub policy --dir $H"
check_eq "the key is the same" "$HUB_KEY" "$(tail -n 1 "$TMP/hub-init.out")"
run "$HUB" policy --dir "$H"
check "and the policy in force is still v1: $OUT" has "$OUT" "itc 第 1 版"
hub_start_free "$H" "$TMP/hub.log" || die "hub did not start: $(cat "$TMP/hub.log")"
node_init n1 S1 "$HUB_ENDPOINT" "$HUB_KEY"
enroll n1 S1
N=$TMP/n1

# ---- a node without a policy ----------------------------------------------------------------

run "$NODE" record --dir "$N" --teacher T1 --date 2025-10-10 --category 案例分析
check_rc "before its first sync, the node refuses 案例分析" 2
check "and says the county's categories arrive with its policy: $ERR" \
    eval 'has "$ERR" "unknown_category" && has "$ERR" "arrive with its policy"'

# ---- the county's category, by label, by name, in a sheet ----------------------------------

sync n1
check_rc "first sync brings the policy" 0
run "$NODE" record --dir "$N" --teacher T1 --date 2025-10-10 --category 案例分析 --work 课例一
check_rc "record --category 案例分析 (the Chinese label)" 0
run "$NODE" record --dir "$N" --teacher T1 --date 2025-10-11 --category Case_Study --work 课例二
check_rc "record --category Case_Study (the name, any case)" 0
run "$NODE" record --dir "$N" --teacher T1 --date 2025-10-12 --category 研修日志
check_rc "a category the policy does not define is refused" 2
check "the refusal lists the county's own categories: $ERR" has "$ERR" "案例分析/case_study"
{
    printf '\xEF\xBB\xBF'
    printf '%s\r\n' '工号,日期,类别,分钟,题目' 'T2,2025-10-13,案例分析,,课例三' 'T2,2025-10-14,专题讲座,90,'
} >"$TMP/sheet.csv"
run "$NODE" import --dir "$N" "$TMP/sheet.csv"
check_rc "import a sheet whose category cell is 案例分析" 0
run "$NODE" list --dir "$N" --teacher T1
check "list shows the category's Chinese label: $OUT" has "$OUT" "案例分析"
run "$NODE" list --dir "$N" --format csv --teacher T1
check "list --format csv names the category case_study" has "$OUT" ",case_study,"

# A draft policy set at the node defines 研修日志, which the hub's policy does not.
"$NODE" policy --dir "$N" "$TMP/draft.ini" >/dev/null || die "node policy draft"
run "$NODE" record --dir "$N" --teacher T1 --date 2025-10-12 --category 研修日志
check_rc "under the draft, 研修日志 is recorded" 0

sync n1
check_rc "second sync sends the records" 0
run "$HUB" report --dir "$H"
check_rc "hub report" 0
check_eq "hub report: T1 has 2 × 2.00 h of 案例分析; 研修日志 counts nothing" \
    "S1,T1,,year,2025-2026,total,4.00,20.00,no,yes,hours_short 还差16.00学时" \
    "$(tr -d '\r' <<<"$OUT" | grep '^S1,T1,,year')"
check_eq "hub report: T2 has 2.00 h of 案例分析 + 1.50 h of lecture" "3.50" \
    "$(tr -d '\r' <<<"$OUT" | grep '^S1,T2,,year' | cut -d, -f7)"
run "$NODE" totals --dir "$N" --teacher T1
check "totals shows the hub's confirmed 4.00 h: $OUT" has "$OUT" "4.00"
check "totals says why the year is not met: $OUT" has "$OUT" "hours_short"

# The hub stored the 研修日志 record and certified it rejected: the whole set, as the hub holds
# it, certified offline under v1 says unknown_category.
run "$NODE" list --dir "$N" --format csv
tr -d '\r' <<<"$OUT" | sed '1s/^\xEF\xBB\xBF//' | cut -d, -f2-20 >"$TMP/all.csv"
run "$XS" certify --policy "$TMP/v1.ini" --records "$TMP/all.csv" --detail
check "certify --detail under v1: 研修日志 is rejected unknown_category: $OUT" \
    has "$OUT" "rejected,unknown_category"

# ---- the hub's detail: one row per record it holds -----------------------------------------

# The node's own list, one line per record it synced: what the hub holds.
HELD=$(tr -d '\r' <"$TMP/all.csv" | sed 1d | grep -c .)
"$HUB" report --dir "$H" --detail >"$TMP/detail.csv" 2>"$TMP/detail.err"
check_eq "hub report --detail: exit 0, nothing on stderr" "0 " "$? $(cat "$TMP/detail.err")"
check_eq "hub report --detail: BOM, then certify's detail columns with school_id first" \
    "$(printf '\xEF\xBB\xBFschool_id,line,teacher_id,academic_year,category,credited_hours,status,reason\r')" \
    "$(head -n 1 "$TMP/detail.csv")"
check_eq "hub report --detail: every line ends in CRLF" "$(wc -l <"$TMP/detail.csv")" \
    "$(grep -c $'\r$' "$TMP/detail.csv")"
DETAIL=$(csv_select "$TMP/detail.csv" 1 2 3 4 5 6 7 8 | sed 1d)
check_eq "hub report --detail: one row per record the hub holds ($HELD)" "$HELD" \
    "$(grep -c . <<<"$DETAIL")"
check_eq "hub report --detail: 案例分析 by name and label, 2.00 h credited, twice for T1" 2 \
    "$(grep -c '^S1,[0-9a-f]*:[0-9]*,T1,2025-2026,case_study 案例分析,2.00,credited,$' <<<"$DETAIL")"
check "hub report --detail: T2's imported 案例分析 and its lecture: $DETAIL" eval \
    'grep -q "^S1,[^,]*,T2,2025-2026,case_study 案例分析,2.00,credited,\$" <<<"$DETAIL" &&
     grep -q "^S1,[^,]*,T2,2025-2026,lecture 专题讲座,1.50,credited,\$" <<<"$DETAIL"'
check_eq "hub report --detail: 研修日志 (code 12, not in v1) by its number, rejected" \
    "S1,T1,2025-2026,12,0.00,rejected,unknown_category 未知的活动类别" \
    "$(grep ',12,' <<<"$DETAIL" | cut -d, -f1,3-)"
NODE_KEY=$(cut -d, -f2 <<<"$DETAIL" | cut -d: -f1 | sort -u)
run "$HUB" nodes --dir "$H"
check "hub report --detail: line is the node's key as \`nodes\` shows it, and its record number" \
    eval '[ "$(grep -c . <<<"$NODE_KEY")" = 1 ] && has "$OUT" " $NODE_KEY S1 " &&
          [ "$(cut -d, -f2 <<<"$DETAIL" | cut -d: -f2 | sort -n | tr "\n" " ")" = "1 2 3 4 5 " ]'
SUMMED=$(awk -F, '$7 == "credited" { s += $6 * 100 } END { printf "%.2f", s / 100 }' <<<"$DETAIL")
run "$HUB" report --dir "$H"
check_eq "hub report --detail: credited hours sum to the summary's year totals" \
    "$(tr -d '\r' <<<"$OUT" | awk -F, '$4 == "year" { s += $7 * 100 } END { printf "%.2f", s / 100 }')" \
    "$SUMMED"
run "$HUB" report --dir "$H" --detail --school S2
check_eq "hub report --detail --school S2: the header only" 1 "$(grep -c . <<<"$OUT")"
run "$HUB" report --dir "$H" --detail --year 2024-2025
check_eq "hub report --detail --year 2024-2025: the header only" 1 "$(grep -c . <<<"$OUT")"
run "$HUB" report --dir "$H" --detail --year 2025-2026 --school S1
check_eq "hub report --detail --year 2025-2026 --school S1: every row" "$HELD" \
    "$(($(grep -c . <<<"$OUT") - 1))"

# ---- a new policy version at the hub --------------------------------------------------------

run "$HUB" policy --dir "$H" --policy "$TMP/other.ini"
check_rc "hub policy: another policy id is refused" 2
check "the refusal says which policy the hub certifies under: $ERR" \
    eval 'has "$ERR" "itc" && has "$ERR" "another policy"'
run "$HUB" policy --dir "$H" --policy "$TMP/v1.ini"
check_rc "hub policy: the same version is refused" 2
check "the refusal asks for a higher version: $ERR" has "$ERR" "must be higher"
run "$HUB" policy --dir "$H" "$TMP/v2.ini"
check_rc "hub policy v2 while the hub runs" 0
check "it shows the old and the new id and version: $OUT" has "$OUT" "itc 第 1 版 → itc 第 2 版"
check "it says how many teachers were re-certified and receipts issued: $OUT" \
    eval 'has "$OUT" "re-certified 2 teachers" && has "$OUT" "receipt generation"'
run "$HUB" report --dir "$H"
check_eq "after v2: T1 has 2 × 3.00 h of 案例分析 + 1.00 h of 研修日志" "7.00" \
    "$(tr -d '\r' <<<"$OUT" | grep '^S1,T1,,year' | cut -d, -f7)"

run "$HUB" report --dir "$H" --detail
check "after v2, --detail credits 研修日志 by name and label: $OUT" \
    has "$OUT" ",T1,2025-2026,study_log 研修日志,1.00,credited,"

sync n1
check_rc "sync after the new version" 0
check "the running hub follows the new policy" wait_for_text "$TMP/hub.log" "policy reloaded" 5
run "$NODE" totals --dir "$N" --teacher T1
check "the node computes under v2 now: $OUT" eval 'has "$OUT" "itc" && has "$OUT" "v2"'
check_eq "totals: provisional and confirmed 7.00 h for T1's year" "7.00 7.00" \
    "$(grep '^T1 ' <<<"$OUT" | grep 学年 | awk '{ print $5, $8 }')"
"$NODE" receipt --dir "$N" --teacher T1 --out "$TMP/t1.receipt" >/dev/null || die "receipt"
run "$XS" verify "$TMP/t1.receipt" --hub-key "$HUB_KEY" --policy "$TMP/v2.ini"
check_rc "verify the new receipt against v2" 0
check "verify shows binding and the reason: $OUT" \
    has "$OUT" "year,2025,0,total,7.00,20.00,no,yes,hours_short 还差13.00学时"

bg_kill "$HUB_PID" TERM
check_eq "the hub stops on SIGTERM" 0 "$BG_RC"

finish
