#!/usr/bin/env bash
# test_import_formats: `xueshi-node import` of a register as Excel or WPS saves it: an XLSX
# workbook read directly (real dates, text dates, number teacher ids, a refused row named by
# its worksheet row), and a GBK or UTF-16 text file refused, saying how to save it as CSV UTF-8.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PY=/usr/bin/python3 # Debian's, with python3-openpyxl (tools/setup installs it)
$PY -c 'import openpyxl' 2>/dev/null || die "no python3-openpyxl (tools/setup installs it)"

A=$TMP/node-a
run "$NODE" init --dir "$A" --school S01
check_rc "init" 0

# Columns COLS (1-based) of every data row of `list --format csv`, sorted.
list_columns() {
    "$NODE" list --dir "$A" --format csv >"$TMP/.list.csv" || return 1
    csv_select "$TMP/.list.csv" "$1" | tail -n +2 | LC_ALL=C sort
}

# ---- XLSX -----------------------------------------------------------------------------------

# The register: Chinese headers, a teacher id typed as a number, dates as real Excel dates
# (one with a time) and as text "2025/10/5", row 4 left empty, row 5 bad (minutes "九十").
$PY - "$TMP/register.xlsx" <<'PYEOF'
import datetime, sys
import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
ws.title = "学时登记"
ws.append(["教师编号", "日期", "类别", "分钟", "姓名"])
ws.append([20230001, datetime.date(2025, 10, 5), "专题讲座", 90, "张三"])
ws.append(["T0002", "2025/10/5", "lecture", 45, "李四"])
ws.append([])
ws.append([20230003, datetime.date(2025, 10, 6), "lecture", "九十", "王五"])
ws.append([20230004, datetime.datetime(2025, 3, 1, 14, 30), "lecture", 60, "赵六"])
ws["B2"].number_format = "yyyy/m/d"
wb.save(sys.argv[1])
PYEOF
check "openpyxl wrote the register" test -s "$TMP/register.xlsx"

run "$NODE" import --dir "$A" "$TMP/register.xlsx"
check_rc "import of an XLSX register with one bad row" 1
check "the XLSX is not read as CSV text (no unknown column \"PK...\"): $ERR" \
    eval '! has "$ERR" "未知的列"'
check "the bad row is named by its worksheet row (5) and field: $ERR" \
    eval 'has "$ERR" "第 5 行 (line 5)" && has "$ERR" "minutes"'
check "import says what it recorded: $OUT" has "$OUT" "新登记 3 条"
check_eq "the good rows are recorded: number ids whole, dates canonical" \
    "$(printf '%s\n' 20230001,2025-10-05,lecture,90 20230004,2025-03-01,lecture,60 \
        T0002,2025-10-05,lecture,45)" \
    "$(list_columns "3 5 6 8")"

run "$NODE" import --dir "$A" "$TMP/register.xlsx"
check_rc "importing the XLSX again (the bad row is still bad)" 1
check "again: all already recorded: $OUT" has "$OUT" "新登记 0 条"

# A broken workbook: the file cut in half (a copy that did not finish).
head -c "$(($(stat -c %s "$TMP/register.xlsx") / 2))" "$TMP/register.xlsx" >"$TMP/cut.xlsx"
run "$NODE" import --dir "$A" "$TMP/cut.xlsx"
check_rc "import of a truncated XLSX" 2
check "a truncated XLSX is named as not a valid workbook: $ERR" has "$ERR" "不是有效的 XLSX 工作簿"

# ---- text in another encoding ---------------------------------------------------------------

$PY - "$TMP" <<'PYEOF'
import sys
rows = "教师编号,日期,类别,分钟\r\nT0009,2025-10-5,专题讲座,90\r\n"
open(sys.argv[1] + "/gbk.csv", "wb").write(rows.encode("gbk"))
open(sys.argv[1] + "/utf16.txt", "wb").write(rows.replace(",", "\t").encode("utf-16"))
PYEOF

run "$NODE" import --dir "$A" "$TMP/gbk.csv"
check_rc "import of a GBK CSV" 2
check "a GBK CSV is named, with how to save it as CSV UTF-8: $ERR" \
    eval 'has "$ERR" "GBK" && has "$ERR" "CSV UTF-8"'
check "the GBK refusal is one line" test "$(printf '%s\n' "$ERR" | wc -l)" -eq 1

run "$NODE" import --dir "$A" "$TMP/utf16.txt"
check_rc "import of a UTF-16 text file" 2
check "a UTF-16 file is named, with how to save it as CSV UTF-8: $ERR" \
    eval 'has "$ERR" "UTF-16" && has "$ERR" "CSV UTF-8"'

check_eq "the refused files recorded nothing" 3 "$(list_columns 3 | wc -l)"

finish
