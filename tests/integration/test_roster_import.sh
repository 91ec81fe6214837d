#!/usr/bin/env bash
# test_roster_import: the county imports its teacher roster at the hub (schema/roster.md): a
# first version, a changed one whose changes are listed line by line, an unchanged one that
# stores nothing; refused files (a repeated teacher_id, an unknown school, a GBK file) name
# every bad line and leave the roster as it was; show and history read the versions back.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
command -v iconv >/dev/null || die "no iconv"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
H=$TMP/hub

# sheet FILE LINE...: writes a CSV file the way Excel's "CSV UTF-8" does: BOM, CRLF.
sheet() {
    local file=$1
    shift
    printf '\xEF\xBB\xBF' >"$file"
    printf '%s\r\n' "$@" >>"$file"
}

# plain FILE: the file without its UTF-8 BOM and without CRs.
plain() {
    sed '1s/^\xEF\xBB\xBF//' "$1" | tr -d '\r'
}

# lines LINE...: the lines joined with LF, as $(...) gives them back.
lines() {
    printf '%s\n' "$@"
}

# show [OPTION...]: `roster show` into $TMP/show.csv; sets RC, ERR and OUT (plain text).
show() {
    "$HUB" roster --dir "$H" show "$@" >"$TMP/show.csv" 2>"$TMP/.err"
    RC=$?
    ERR=$(cat "$TMP/.err")
    OUT=$(plain "$TMP/show.csv")
}

HEADER="teacher_id,name,school_id,roles,hired,status,status_from,status_to"

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
node_init n1 S1 tcp://127.0.0.1:1 "$HUB_KEY"
node_init n2 S2 tcp://127.0.0.1:1 "$HUB_KEY"
node_init n3 S3 tcp://127.0.0.1:1 "$HUB_KEY"
enroll n1 S1 --proxy-for 村小甲
enroll n2 S2
enroll n3 S3
"$HUB" revoke --dir "$H" --node "${KEY[n3]}" >/dev/null || die "revoke n3"

# ---- no roster yet ----------------------------------------------------------------------------

show
check_rc "show before any import" 1
check "show says no roster was imported: $ERR" has "$ERR" "尚未导入花名册"
run "$HUB" roster --dir "$H" history
check_rc "history before any import" 0
check "history says none: $OUT" has "$OUT" "尚未导入花名册"

# ---- version 1: Chinese headers, roles, both date forms ------------------------------------

sheet "$TMP/v1.csv" '工号,姓名,学校编号,职务,入职日期,状态,起始日期,截止日期,联系电话' \
    'T001,张伟,S1,班主任；骨干教师,2015-09-01,,,,13800000001' \
    'T002,李娜,S1,,2020/9/1,,,,' \
    'T003,王芳,S2,校长,2008-09-01,,,,' \
    'T004,赵敏,村小甲,新任教师,2025-08-25,,,,' \
    'T005,刘洋,S3,,,,,,'
run "$HUB" roster --dir "$H" import "$TMP/v1.csv"
check_rc "import version 1" 0
check "version 1 summary: $(tail -n 1 <<<"$OUT")" has "$OUT" "花名册第1版: 共5人, 新增5, 调校0, 移出0, 变更0"
check "a revoked node's school (S3) is still known: $(grep -a T005 <<<"$OUT")" \
    has "$OUT" "新增 (added) T005 刘洋 S3"
show
check_rc "show version 1" 0
check_eq "show version 1" "$(lines "$HEADER" \
    'T001,张伟,S1,班主任；骨干教师,2015-09-01,在职,,' \
    'T002,李娜,S1,,2020-09-01,在职,,' \
    'T003,王芳,S2,校长,2008-09-01,在职,,' \
    'T004,赵敏,村小甲,新任教师,2025-08-25,在职,,' \
    'T005,刘洋,S3,,,在职,,')" "$OUT"
check_eq "show starts with a UTF-8 BOM" "efbbbf" "$(head -c 3 "$TMP/show.csv" | od -An -tx1 | tr -d ' ')"
cp "$TMP/show.csv" "$TMP/v1-shown.csv"

# ---- version 2: one of each change -----------------------------------------------------------

sheet "$TMP/v2.csv" 'teacher_id,name,school_id,roles,hired,status,status_from,status_to' \
    'T001,张伟,S1,班主任；骨干教师,2015-09-01,,,' \
    'T002,李娜,S2,,2020-09-01,,,' \
    'T003,王芳,S2,校长,2008-09-01,离岗,2026-03-01,2026-06-30' \
    'T004,赵敏,村小甲,新任教师,2025-08-25,,,' \
    'T006,陈静,S2,,2026-02-20,,,'
run "$HUB" roster --dir "$H" import "$TMP/v2.csv"
check_rc "import version 2" 0
check "调校 line: $(grep -a T002 <<<"$OUT")" has "$OUT" "调校 (moved) T002 李娜 S1 → S2"
check "信息变更 line: $(grep -a T003 <<<"$OUT")" has "$OUT" "信息变更 (changed) T003 王芳 S2  状态 (status) 在职 → 离岗 2026-03-01~2026-06-30"
check "移出 line: $(grep -a T005 <<<"$OUT")" has "$OUT" "移出 (removed) T005 刘洋 S3"
check "新增 line: $(grep -a T006 <<<"$OUT")" has "$OUT" "新增 (added) T006 陈静 S2"
check "unchanged teachers are not listed" test "$(grep -ac 'T001\|T004' <<<"$OUT")" -eq 0
check "version 2 summary: $(tail -n 1 <<<"$OUT")" has "$OUT" "花名册第2版: 共5人, 新增1, 调校1, 移出1, 变更1"

# The same file again stores nothing.
run "$HUB" roster --dir "$H" import "$TMP/v2.csv"
check_rc "import the same roster again" 0
check "an unchanged roster is not a new version: $OUT" has "$OUT" "花名册没有变化，仍为第2版"

show
V2_SHOWN=$OUT
check_eq "show version 2, one school" "$(lines "$HEADER" \
    'T002,李娜,S2,,2020-09-01,在职,,' \
    'T003,王芳,S2,校长,2008-09-01,离岗,2026-03-01,2026-06-30' \
    'T006,陈静,S2,,2026-02-20,在职,,')" "$(show --school S2 && echo "$OUT")"
show --version 1
check_eq "show --version 1 gives version 1 back" "$(plain "$TMP/v1-shown.csv")" "$OUT"
show --version 3
check_rc "show a version that does not exist" 1
check "it says so: $ERR" has "$ERR" "没有第 3 版花名册"

# What show writes imports again, unchanged.
show
run "$HUB" roster --dir "$H" import "$TMP/show.csv"
check "show's output imports again as the same roster: $OUT" has "$OUT" "花名册没有变化，仍为第2版"

# ---- refusals: every bad line named, nothing stored ---------------------------------------

sheet "$TMP/dup.csv" "$HEADER" \
    'T001,张伟,S1,,,,,' \
    'T007,孙丽,S1,,,,,' \
    'T001,张伟,S2,,,,,'
run "$HUB" roster --dir "$H" import "$TMP/dup.csv"
check_rc "a repeated teacher_id is refused" 1
check "the repeat names both lines: $ERR" has "$ERR" "第 4 行 (line 4): 教师编号“T001”重复，与第 2 行相同"
check "and says nothing was imported" has "$ERR" "花名册未导入：1 行有误"

sheet "$TMP/unknown.csv" "$HEADER" \
    'T001,张伟,S1,,,,,' \
    'T008,周强,S9,,,,,' \
    'T009,吴刚,S1,,2026-13-01,,,' \
    'T010,郑洁,S8,,,,,'
run "$HUB" roster --dir "$H" import "$TMP/unknown.csv"
check_rc "an unknown school is refused" 1
check "line 3 names the unknown school: $ERR" has "$ERR" "第 3 行 (line 3): 未知学校“S9”"
check "line 4 names the bad date" has "$ERR" "第 4 行 (line 4): 入职日期“2026-13-01”不是日期"
check "line 5 names the other unknown school" has "$ERR" "第 5 行 (line 5): 未知学校“S8”"
check "three bad lines" has "$ERR" "花名册未导入：3 行有误"

iconv -f UTF-8 -t GBK <<<'工号,姓名,学校编号
T001,张伟,S1
T011,AB,S2
T012,冯雪,S2' >"$TMP/gbk.csv" || die "iconv"
run "$HUB" roster --dir "$H" import "$TMP/gbk.csv"
check_rc "a GBK file is refused" 1
check "the GBK header line says to save as UTF-8: $(head -n 1 <<<"$ERR")" has "$ERR" "第 1 行 (line 1): 表头不是 UTF-8 文本（可能是 GBK 编码），请另存为 UTF-8 编码"
check "line 2 is named" has "$ERR" "第 2 行 (line 2): 不是 UTF-8 文本"
check "line 4 is named" has "$ERR" "第 4 行 (line 4): 不是 UTF-8 文本"
check "line 3 (ASCII only) is not" test "$(grep -ac '第 3 行' <<<"$ERR")" -eq 0

show
check_eq "after the refusals the roster is still version 2, whole" "$V2_SHOWN" "$OUT"
run "$HUB" roster --dir "$H" history
check_rc "history" 0
check "history lists version 1: $(grep -a '^1 ' <<<"$OUT")" \
    test "$(awk '$1 == 1 {print $4, $5, $6, $7, $8}' <<<"$OUT")" == "5 5 0 0 0"
check "history lists version 2: $(grep -a '^2 ' <<<"$OUT")" \
    test "$(awk '$1 == 2 {print $4, $5, $6, $7, $8}' <<<"$OUT")" == "5 1 1 1 1"
check "history has no third version" test "$(awk '$1 == 3' <<<"$OUT" | wc -l)" -eq 0

# ---- usage -------------------------------------------------------------------------------------

run "$HUB" roster --dir "$H" import
check_rc "import without a file" 2
run "$HUB" roster --dir "$H" history --school S1
check_rc "--school belongs to show" 2
run "$HUB" roster --dir "$H" import "$TMP/missing.csv"
check_rc "a missing file" 1

finish
