#!/usr/bin/env bash
# test_corrupt: a store with flipped bytes never crashes list or check; check finds the damage.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

A=$TMP/node-a # the intact node every corrupted copy starts from
C=$TMP/node-c # the corrupted copy under test

# A node with a hub configured (another node's keys stand in: export only encrypts to them)
# and a policy, one import and one export. The import writes every record page once and the export seals
# every record into one batch, so each copy of a record's bytes in data.mdb is live, not a
# page LMDB has freed and would never read again.
STAND_IN=$("$NODE" init --dir "$TMP/stand-in" --school S99 | tail -n 1)
"$NODE" init --dir "$A" --school S01 --hub tcp://127.0.0.1:9 --hub-key "$STAND_IN" >/dev/null ||
    die "init $A"
"$NODE" policy --dir "$A" "$XS_SOURCE_DIR/schema/policies/baiwanzi.ini" >/dev/null ||
    die "policy $A"
run "$NODE" import --dir "$A" "$XS_SOURCE_DIR/docs/examples/term-2025-autumn.csv"
check_rc "import the example sheet" 0
run "$NODE" export --dir "$A" --out "$TMP/a.bundle"
check_rc "export seals the records into one batch" 0

run "$NODE" check --dir "$A"
check_rc "check on the intact store" 0
check "check on the intact store says it is sound: $OUT" has "$OUT" "存储完好 (store is sound)"
run "$NODE" list --dir "$A"
check_rc "list on the intact store" 0
RECORDS=$(sed -n 's/.*(\([0-9]*\) records, [0-9]* voided)$/\1/p' <<<"$OUT")
check "the intact store holds a few hundred records ($RECORDS)" test "${RECORDS:-0}" -ge 200

DATA=$A/store/data.mdb
SIZE=$(stat -c %s "$DATA")
# LMDB's page size, as the store records it: md_pad of the free table in meta page 0.
PAGE=$(od -An -tu4 -j 40 -N4 "$DATA" | tr -d ' ')

# page_flags PAGE: the flags of page PAGE of the intact store (1 branch, 2 leaf, 4 overflow).
page_flags() {
    od -An -tu1 -j $(($1 * PAGE + 10)) -N1 "$DATA" | tr -d ' '
}

# first_in TEXT FLAGS: the offset of the first copy of TEXT in a page with those flags.
first_in() {
    local off
    for off in $(grep -obUaF -- "$1" "$DATA" | cut -d: -f1); do
        if [ "$(page_flags $((off / PAGE)))" = "$2" ]; then
            echo "$off"
            return 0
        fi
    done
    return 1
}

# first_page FLAGS: the first page with those flags.
first_page() {
    local page
    for ((page = 2; page < SIZE / PAGE; page++)); do
        if [ "$(page_flags "$page")" = "$1" ]; then
            echo "$page"
            return 0
        fi
    done
    return 1
}

# corrupt OFFSET BYTE...: makes C a copy of A with the bytes (two hex digits each) written at
# OFFSET.
corrupt() {
    local off=$1 byte
    shift
    rm -rf "$C"
    cp -r "$A" "$C"
    for byte in "$@"; do
        printf "\\x$byte" | dd of="$C/store/data.mdb" bs=1 seek="$off" conv=notrunc 2>/dev/null
        off=$((off + 1))
    done
}

# flipped OFFSET: the intact byte at OFFSET with every other bit flipped, as two hex digits.
flipped() {
    printf '%02x' $(($(od -An -tu1 -j "$1" -N1 "$DATA") ^ 0x5a))
}

# damaged WHAT FIXED: list and check of C end without a signal, and check exits 6, names a
# problem and, when FIXED is not empty, says FIXED. Sets LIST_RC and LIST_ERR.
damaged() {
    run "$NODE" list --dir "$C"
    LIST_RC=$RC LIST_ERR=$ERR
    check "$1: list ends without a signal (exit $RC)" test "$RC" -lt 128
    run "$NODE" check --dir "$C"
    check_rc "$1: check" 6
    check "$1: check names a problem" \
        eval 'has "$OUT" "问题 (problems):" && has "$OUT" "处损坏 ("'
    [ -z "$2" ] || check "$1: check says \"$2\": $OUT" has "$OUT" "$2"
}

# ---- a record's value ------------------------------------------------------------------------

# A teacher id one digit off: the record still decodes and is valid, so list shows it; only its
# signed copy in the batch and the dedupe index tell.
OFF=$(first_in T2025004 2) || die "no record of T2025004 in a leaf page"
corrupt $((OFF + 7)) 35
damaged "teacher id changed in a record value" "differs from its signed copy"
check_eq "list of a record that is still valid exits 0" 0 "$LIST_RC"
check "check names the dedupe index too" has "$OUT" "dedupe: "

# A Chinese event name whose first byte is no longer UTF-8: the record does not decode.
OFF=$(first_in 双减作业设计 2) || die "no record with 双减作业设计 in a leaf page"
corrupt "$OFF" ff
damaged "invalid UTF-8 in a record value" "cannot be decoded"
check_eq "list of an undecodable record exits 6" 6 "$LIST_RC"
check "list says which record is corrupted: $LIST_ERR" \
    grep -Eq '^xueshi-node: 记录 [0-9]+ 数据已损坏 \(record [0-9]+ is corrupted\)' <<<"$LIST_ERR"
check "list says to run check" has "$LIST_ERR" "xueshi-node check --dir $C"
SEQ=$(sed -n 's/^xueshi-node: 记录 \([0-9]*\) 数据已损坏.*/\1/p' <<<"$LIST_ERR" | head -n 1)
run "$NODE" totals --dir "$C"
check_rc "totals with an undecodable record" 6
check "totals leaves the record out and says so: $ERR" has "$ERR" "记录 $SEQ 数据已损坏，未计入"
run "$NODE" void --dir "$C" "$SEQ" --reason 测试
check_rc "void of an undecodable record" 6
check "void says the store is corrupted: $ERR" has "$ERR" "数据已损坏 (the store is corrupted)"

# ---- B-tree page headers ---------------------------------------------------------------------

LEAF=$((OFF / PAGE))
corrupt $((LEAF * PAGE + 10)) ff
damaged "flags of a records leaf page" ""
check_eq "list of a store with a damaged leaf page exits 6" 6 "$LIST_RC"
corrupt $((LEAF * PAGE + 12)) ff
damaged "lower bound (entry count) of a records leaf page" ""

BRANCH=$(first_page 1) || die "no branch page"
corrupt $((BRANCH * PAGE + 12)) ff
damaged "lower bound (entry count) of a branch page" ""
corrupt $((BRANCH * PAGE + 10)) ff
damaged "flags of a branch page" ""

# ---- the sealed batch ------------------------------------------------------------------------

OVERFLOW=$(first_page 4) || die "no overflow page (the batch)"
OFF=$((OVERFLOW * PAGE + PAGE / 2))
corrupt "$OFF" "$(flipped "$OFF")"
damaged "a byte inside the sealed batch" "does not open"

# ---- a truncated store: LMDB reads past the end of the file ----------------------------------

rm -rf "$C"
cp -r "$A" "$C"
truncate -s $((SIZE / PAGE / 2 * PAGE)) "$C/store/data.mdb"
damaged "a store truncated to half its pages" ""
check_eq "list of a truncated store exits 6" 6 "$LIST_RC"
check "list of a truncated store says the store is corrupted: $LIST_ERR" \
    has "$LIST_ERR" "数据已损坏 (the store is corrupted): 请运行 xueshi-node check --dir $C"

# ---- every 509th byte ------------------------------------------------------------------------

# Most of a fresh store is free space LMDB never reads, so a flip there changes nothing: only
# that neither command dies by a signal, and check says sound (0) or damaged (6), is checked.
SIGNALLED=0 ODD=0 FOUND=0
for ((OFF = 0; OFF < SIZE; OFF += 509)); do
    corrupt "$OFF" "$(flipped "$OFF")"
    "$NODE" list --dir "$C" >/dev/null 2>&1
    L=$?
    "$NODE" check --dir "$C" >"$TMP/sweep.out" 2>&1
    K=$?
    if [ "$L" -ge 128 ] || [ "$K" -ge 128 ]; then
        SIGNALLED=$((SIGNALLED + 1))
        echo "# offset $OFF: list exit $L, check exit $K"
    fi
    if [ "$K" -ne 0 ] && [ "$K" -ne 6 ]; then
        ODD=$((ODD + 1))
        echo "# offset $OFF: check exit $K: $(tail -n 3 "$TMP/sweep.out")"
    fi
    [ "$K" -eq 6 ] && FOUND=$((FOUND + 1))
done
check_eq "single-byte flips every 509 bytes: no command died by a signal" 0 "$SIGNALLED"
check_eq "single-byte flips every 509 bytes: check exits 0 or 6" 0 "$ODD"
check "single-byte flips every 509 bytes: check found damage in some ($FOUND)" test "$FOUND" -gt 0

finish
