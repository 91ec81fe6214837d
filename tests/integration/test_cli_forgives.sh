#!/usr/bin/env bash
# test_cli_forgives: the command line as a new user meets it: help and versions on stdout, only
# the documented exit codes, one Chinese-first line per error naming the program, Chinese words
# and Excel's date forms taken, list's CSV read back by import and certify, tables aligned by
# display width, and a wrong hub key said once with what to do.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
A=$TMP/node-a

# commands PROGRAM: the command names PROGRAM --help lists (two-space indent, then a name).
commands() {
    "$1" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'
}

# one_line WHAT PROGRAM: the last run wrote exactly one line to stderr, led by "PROGRAM: " and
# Chinese before any English.
one_line() {
    check_eq "$1: one line on stderr" 1 "$(printf '%s' "$ERR" | grep -c '')"
    check "$1: the line names $2: $ERR" has "$ERR" "$2: "
    check "$1: Chinese comes first: $ERR" python3 -c '
import sys
s = sys.argv[1].split(": ", 1)[1]
zh = next((i for i, c in enumerate(s) if "\u4e00" <= c <= "\u9fff"), None)
en = next((i for i, c in enumerate(s) if c.isascii() and c.isalpha()), len(s))
sys.exit(0 if zh is not None and zh < en else 1)' "$ERR"
}

# ---- help, versions, exit codes --------------------------------------------------------------

for p in xueshi-node xueshi-hub xueshi; do
    for h in -h --help help; do
        run "$XS_BIN/$p" "$h"
        check_rc "$p $h" 0
        check "$p $h: the commands on stdout" has "$OUT" "用法 (usage): $p COMMAND"
        check_eq "$p $h: nothing on stderr" "" "$ERR"
    done
    check "$p --help lists the exit codes 0-6" python3 -c '
import sys
t = sys.argv[1]
sys.exit(0 if all("\n  %d  " % c in t for c in range(7)) else 1)' "$("$XS_BIN/$p" --help)"
    for v in --version -V version; do
        run "$XS_BIN/$p" "$v"
        check_rc "$p $v" 0
        check "$p $v prints its name and version: $OUT" grep -Eq "^$p [0-9]+\.[0-9]+\.[0-9]+$" <<<"$OUT"
    done
    n=0
    for c in $(commands "$XS_BIN/$p"); do
        n=$((n + 1))
        for h in -h --help; do
            run "$XS_BIN/$p" "$c" "$h"
            check_rc "$p $c $h" 0
            check "$p $c $h: usage on stdout" has "$OUT" "用法 (usage): "
            check "$p $c $h: exit codes on stdout" has "$OUT" "6  数据已损坏"
            check_eq "$p $c $h: nothing on stderr" "" "$ERR"
        done
    done
    check "$p --help lists its commands ($n)" test "$n" -ge 2
    run "$XS_BIN/$p" no-such-command
    check_rc "$p no-such-command" 2
    one_line "$p no-such-command" "$p"
    check "$p no-such-command says where the commands are" has "$ERR" "$p --help"
done

run "$NODE" list --dir "$A" --no-such-option
check_rc "an unknown option" 2
one_line "an unknown option" xueshi-node
check "an unknown option is named with the usage" has "$ERR" '"--no-such-option"'
check "an unknown option: the usage on the same line" has "$ERR" "xueshi-node list --dir DIR"

run "$NODE" init --dir "$TMP/never" --school S01 --policy "$TMP/no-such.ini"
check_rc "init with a missing policy file" 2
one_line "a missing policy file" xueshi-node
check "a missing policy file is named as missing: $ERR" has "$ERR" "找不到认定规则文件"
check "init refused before it made anything" test ! -e "$TMP/never"
run "$XS" certify --policy "$TMP/no-such.ini" --records /dev/null
check_rc "certify with a missing policy file" 2
one_line "certify: a missing policy file" xueshi

# ---- what record and import take --------------------------------------------------------------

run "$NODE" init --dir "$A" --school S01 --policy "$POLICY"
check_rc "init" 0

# date_as TEXT STORED: a lecture recorded on TEXT is listed on STORED.
date_as() {
    run "$NODE" record --dir "$A" --teacher T0001 --date "$1" --category 专题讲座 --minutes 45 \
        --role 参与 --note "$1"
    check_rc "record dated $1" 0
    check_eq "$1 is stored as $2" "$2" "$("$NODE" list --dir "$A" --format csv | tail -n 1 |
        cut -d, -f5)"
}
date_as 2025/10/15 2025-10-15
date_as 2025-10-5 2025-10-05
date_as 2025.10.5 2025-10-05
run "$NODE" record --dir "$A" --teacher T0001 --date 2025/13/5 --category lecture --minutes 45
check_rc "2025/13/5 is refused" 2
one_line "a bad date" xueshi-node

run "$NODE" record --dir "$A" --teacher T0002 --date 2025-11-02 --category 专题讲座 \
    --role 主讲 --minutes 90
check_rc "record --category 专题讲座 --role 主讲" 0
run "$NODE" record --dir "$A" --teacher T0002 --date 2025-11-20 --category 论文 --chars 5000 \
    --work 农村小学识字教学 --level 县级 --grade 一等奖
check_rc "record a paper at 县级 with 一等奖" 0
check_eq "the Chinese words are stored as their codes" "lecture,speaker,,|paper,,county,1" \
    "$("$NODE" list --dir "$A" --format csv --teacher T0002 | tail -n +2 | cut -d, -f6,7,14,15 |
        paste -sd'|')"

run "$NODE" record --dir "$A" --teacher T0002 --date 2025-11-02 --category lecture --role 主讲者 \
    --minutes 90
check_rc "an unknown role" 2
one_line "an unknown role" xueshi-node
check "an unknown role is named in Chinese: $ERR" has "$ERR" "角色"
check "an unknown role lists the roles allowed: $ERR" has "$ERR" "主讲人/speaker"
run "$NODE" record --dir "$A" --teacher T0002 --date 2025-11-02 --category 讲座大会 --minutes 90
check_rc "an unknown category" 2
check "an unknown category lists the categories: $ERR" has "$ERR" "专题讲座"

# ---- list's CSV reads back -----------------------------------------------------------------

run "$NODE" void --dir "$A" 1 --reason 重复登记
check_rc "void record 1" 0
"$NODE" list --dir "$A" --format csv >"$TMP/list.csv"
B=$TMP/node-b
"$NODE" init --dir "$B" --school S01 --policy "$POLICY" >/dev/null || die "init B"
run "$NODE" import --dir "$B" "$TMP/list.csv"
check_rc "list's CSV imports (the voided row refused as voided)" 1
check "the voided row is refused as voided: $ERR" has "$ERR" "已被更正作废"
check_eq "the other rows are recorded" "4" "$("$NODE" list --dir "$B" --format csv | tail -n +2 | grep -c '')"
run "$XS" certify --policy "$POLICY" --records "$TMP/list.csv"
check_rc "xueshi certify reads list's CSV" 0
"$NODE" totals --dir "$A" --format csv >"$TMP/totals.csv" || die "totals"
check_eq "certify of list's CSV = the node's provisional totals" \
    "$(drop_name_column "$TMP/totals.csv")" "$OUT"

# ---- a table lines up by display width ----------------------------------------------------------

"$NODE" list --dir "$A" >"$TMP/table.txt"
check "list's columns start at the same display column on every line" python3 -c '
import sys, unicodedata
def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
               for c in s)
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines()[:-1]]
heads = ["日期", "教师", "姓名", "类别", "状态", "审核", "内容"]
cols = [width(lines[0][:lines[0].index(h)]) for h in heads]
for l in lines[1:]:
    # a field starts where a run of spaces ends, at or after each heading column
    for c in cols:
        chars, w = "", 0
        for ch in l:
            if w >= c: break
            chars += ch; w += width(ch)
        if w != c or not chars.endswith(" "):
            sys.exit("misaligned at column %d: %s" % (c, l))
' "$TMP/table.txt"

# ---- a wrong hub key --------------------------------------------------------------------------

H=$TMP/hub
"$HUB" init --dir "$H" --policy "$POLICY" >/dev/null || die "hub init"
hub_start_free "$H" "$TMP/hub.log" || die "no hub"
W=$TMP/node-w
WRONG=xs1:$(printf 'ab%.0s' {1..32}).$(printf 'cd%.0s' {1..32})
"$NODE" init --dir "$W" --school S01 --hub "$HUB_ENDPOINT" --hub-key "$WRONG" >/dev/null ||
    die "init W"
"$NODE" record --dir "$W" --teacher T0001 --date 2025-10-05 --category lecture --minutes 45 \
    >/dev/null || die "record W"
run "$NODE" sync --dir "$W" --timeout 4
check_rc "sync with a wrong hub key: refused (4)" 4
one_line "a wrong hub key" xueshi-node
check "a wrong hub key says what to do: $ERR" has "$ERR" "xueshi-node init --hub --hub-key"
bg_kill "$HUB_PID"

finish
