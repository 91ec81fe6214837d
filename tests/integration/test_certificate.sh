#!/usr/bin/env bash
# test_certificate: the printed 学时证明 as an auditor checks it. A school's node prints a
# teacher's certificate for a year: before the hub's receipt comes back it is provisional (暂定
# across the page, no QR code); after a sync the page carries the receipt's QR code. Rendered
# to PNG (poppler-utils) and read with zbarimg, the code's text passes `xueshi verify --scan`
# against the county's key, and so does the picture itself with --image; the text with one
# character changed is refused. The hub prints one page per teacher of a school. A standalone
# receipt (a leaf under a signed Merkle root), as a file and as text, verifies and says what
# was checked; changed, it is refused.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
TOOL=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
[ -x "$TOOL" ] || die "no xueshi in $XS_BIN"
for tool in pdftoppm pdftotext pdfinfo zbarimg; do
    command -v "$tool" >/dev/null || die "$tool is missing (poppler-utils, zbar-tools: tools/setup)"
done
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
H=$TMP/hub
SYNC_TIMEOUT=20
YEAR=2025-2026

# render PDF NAME: the first page of PDF at 200 dpi as $TMP/NAME.png.
render() {
    pdftoppm -r 200 -png -f 1 -l 1 -singlefile "$1" "$TMP/$2" || die "pdftoppm $1"
}

# scan PNG: the QR code's text zbarimg reads off PNG into CODE; RC its exit code (4: none).
scan() {
    CODE=$(zbarimg --raw -q "$1" 2>"$TMP/zbarimg.err")
    RC=$?
}

# certificate TEACHER OUT [YEAR]: the node's certificate of TEACHER; sets RC, OUT, ERR.
certificate() {
    run "$NODE" certificate --dir "$TMP/a" --teacher "$1" --year "${3:-$YEAR}" --out "$2"
}

# ---- a county: the hub (dali policy, a roster), one school -----------------------------------

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init a S001 "$HUB_ENDPOINT" "$HUB_KEY"
enroll a S001
printf '%s\n' "教师编号,姓名,学校" "T0001,张三,S001" "T0002,李四,S001" "T0003,王五,S001" \
    >"$TMP/roster.csv"
"$HUB" roster --dir "$H" import "$TMP/roster.csv" >/dev/null || die "roster import"
"$NODE" policy --dir "$TMP/a" "$POLICY" >/dev/null || die "policy at a"

rec() {
    "$NODE" record --dir "$TMP/a" "$@" >/dev/null || die "record $*"
}
rec --teacher T0001 --date 2025-09-15 --category online_training --hours 20 --event 国培计划网络研修
rec --teacher T0001 --date 2025-10-20 --category online_training --hours 12
rec --teacher T0001 --date 2025-11-05 --category research_session --event 语文组集体备课
rec --teacher T0001 --date 2026-03-10 --category lecture --minutes 120 --event 乡村课堂提问设计讲座
rec --teacher T0001 --date 2026-04-16 --category open_class
rec --teacher T0002 --date 2025-12-01 --category lecture --minutes 90

# ---- before the receipt: provisional ------------------------------------------------------------

certificate T0001 "$TMP/provisional.pdf"
check_rc "a certificate from the node's records alone" 0
check "it says it is provisional and why: $OUT" \
    eval 'has "$OUT" "暂定 (provisional)" && has "$OUT" "请先同步"'
run pdftotext "$TMP/provisional.pdf" -
check "the provisional page shows 暂定 and the teacher" \
    eval 'has "$OUT" "暂定" && has "$OUT" "T0001"'
render "$TMP/provisional.pdf" provisional
scan "$TMP/provisional.png"
check_eq "the provisional page has no QR code (zbarimg finds none)" 4 "$RC"
run pdfinfo "$TMP/provisional.pdf"
check "one A4 page: $OUT" eval 'has "$OUT" "Pages:           1" && has "$OUT" "(A4)"'

certificate NOBODY "$TMP/nobody.pdf"
check "a teacher the node does not know is refused, nothing written: $ERR" \
    eval '[ "$RC" -eq 1 ] && has "$ERR" "没有教师 NOBODY" && [ ! -e "$TMP/nobody.pdf" ]'

# ---- the receipt comes back ------------------------------------------------------------------

sync a
check_rc "the school syncs: records up, receipts back" 0
certificate T0001 "$TMP/t1.pdf"
check_rc "the certificate after the sync" 0
check "it carries the receipt's QR code: $OUT" has "$OUT" "附认定回执二维码"
run pdftotext "$TMP/t1.pdf" -
check "the page names the teacher from the roster and the conclusion" \
    eval 'has "$OUT" "张三" && { has "$OUT" "达标" || has "$OUT" "未达标"; }'
check "the page lists the activities and the year" \
    eval 'has "$OUT" "国培计划网络研修" && has "$OUT" "2025-2026" && has "$OUT" "乡村课堂提问设计讲座"'
check "a confirmed page is not provisional" eval '! has "$OUT" "暂定"'

render "$TMP/t1.pdf" t1
scan "$TMP/t1.png"
check_rc "zbarimg reads the QR code off the rendered page" 0
check "the code holds a receipt as text: ${CODE:0:40}…" eval '[[ "$CODE" == XS1:* ]]'
run "$TOOL" verify --scan "$CODE" --hub-key "$HUB_KEY"
check_rc "xueshi verify --scan accepts it against the county's key" 0
check "verify prints the receipt: the teacher, the signature: $OUT" \
    eval 'has "$OUT" "签名有效" && has "$OUT" "教师 (teacher): T0001" && has "$OUT" "year,2025"'
run "$TOOL" verify --scan "$CODE"
check "without the county's key it is valid but says to check the key" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "请核对是否为本县中心的公钥"'

# One character changed, in the body and near the end (the signature): refused either way.
for at in 60 $((${#CODE} - 5)); do
    was=${CODE:$at:1}
    now=A
    [ "$was" = A ] && now=B
    altered=${CODE:0:$at}$now${CODE:$((at + 1))}
    run "$TOOL" verify --scan "$altered" --hub-key "$HUB_KEY"
    check "character $at changed: refused: $OUT" eval '[ "$RC" -eq 1 ] && has "$OUT" "无效 (INVALID)"'
done
run "$TOOL" verify --scan "${CODE,,}" --hub-key "$HUB_KEY"
check "lower case is not a receipt's text: $OUT" eval '[ "$RC" -eq 1 ] && has "$OUT" "无效"'
other_key="xs1:$(printf '%064d' 0).$(printf '%064d' 0)"
run "$TOOL" verify --scan "$CODE" --hub-key "$other_key"
check "another county's key refuses it" eval '[ "$RC" -eq 1 ] && has "$OUT" "不是该县级中心签发的"'

run "$TOOL" verify --image "$TMP/t1.png" --hub-key "$HUB_KEY"
check_rc "xueshi verify --image reads the picture itself" 0
check "and prints the same receipt" has "$OUT" "教师 (teacher): T0001"
run "$TOOL" verify --image "$TMP/provisional.png" --hub-key "$HUB_KEY"
check "a picture without a code: $ERR" eval '[ "$RC" -eq 2 ] && has "$ERR" "没有找到二维码"'
run "$TOOL" verify --image "$TMP/roster.csv"
check "a file that is not a PNG: $ERR" eval '[ "$RC" -eq 2 ] && has "$ERR" "无法读取图片"'

# The node's receipt covers 2025-2026 only: another year is provisional.
certificate T0001 "$TMP/older.pdf" 2024-2025
check "a year the receipt does not cover is provisional: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "暂定" && has "$OUT" "不含该学年"'
# A rostered teacher without records here: zero hours, not met, still one page.
certificate T0003 "$TMP/t3.pdf"
run pdftotext "$TMP/t3.pdf" -
check "a rostered teacher without records gets a page: 王五, 未达标" \
    eval 'has "$OUT" "王五" && has "$OUT" "未达标"'

# ---- the hub: one page per teacher of a school ----------------------------------------------------

run "$HUB" certificate --dir "$H" --year "$YEAR" --school S001 --out "$TMP/school.pdf"
check_rc "the hub prints the school's certificates" 0
check "three pages, one provisional (王五 has no records, hence no receipt): $OUT" \
    eval 'has "$OUT" "3 页 (pages)" && has "$OUT" "其中 1 页暂定"'
run pdfinfo "$TMP/school.pdf"
check "pdfinfo counts a page per rostered teacher: $OUT" has "$OUT" "Pages:           3"
for page in 1 2 3; do
    pdftoppm -r 200 -png -f $page -l $page -singlefile "$TMP/school.pdf" "$TMP/school-$page" ||
        die "pdftoppm school page $page"
done
NODE_TOTALS=$("$TOOL" verify --scan "$CODE" --hub-key "$HUB_KEY" 2>/dev/null | grep '^year,\|^cycle,')
scan "$TMP/school-1.png"
run "$TOOL" verify --scan "$CODE" --hub-key "$HUB_KEY"
check "page 1's code verifies as T0001's receipt: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "教师 (teacher): T0001"'
check_eq "page 1's code states the totals the node's receipt states" "$NODE_TOTALS" \
    "$(printf '%s\n' "$OUT" | grep '^year,\|^cycle,')"
scan "$TMP/school-2.png"
run "$TOOL" verify --scan "$CODE" --hub-key "$HUB_KEY"
check "page 2's code verifies as T0002's receipt: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "教师 (teacher): T0002"'
scan "$TMP/school-3.png"
check_eq "page 3 (no receipt) has no code" 4 "$RC"
run pdftotext -f 3 -l 3 "$TMP/school.pdf" -
check "page 3 is 王五's, provisional" eval 'has "$OUT" "王五" && has "$OUT" "暂定"'
run pdftotext -f 1 -l 2 "$TMP/school.pdf" -
check "pages 1 and 2 name 张三 and 李四, not provisional" \
    eval 'has "$OUT" "张三" && has "$OUT" "李四" && ! has "$OUT" "暂定"'

run "$HUB" certificate --dir "$H" --year "$YEAR" --teacher T0002 --out "$TMP/t2.pdf"
check "one teacher's certificate at the hub: $OUT" eval '[ "$RC" -eq 0 ] && has "$OUT" "1 页"'
run "$HUB" certificate --dir "$H" --year "$YEAR" --teacher NOBODY --out "$TMP/none.pdf"
check "an unknown teacher: refused, nothing written: $ERR" \
    eval '[ "$RC" -eq 1 ] && has "$ERR" "没有编号为 NOBODY" && [ ! -e "$TMP/none.pdf" ]'
run "$HUB" certificate --dir "$H" --year "$YEAR" --out "$TMP/none.pdf"
check_rc "--teacher or --school is required" 2

# ---- a closed year: as it was closed, the receipts saying so ----------------------------------

run "$HUB" close --dir "$H" --year "$YEAR" --notice-days 0
check_rc "the county closes the year" 0
sync a
check_rc "the school fetches the receipts issued at the close" 0
run "$HUB" certificate --dir "$H" --year "$YEAR" --school S001 --out "$TMP/closed.pdf"
check "the closed year's pages: three, the same one provisional: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "3 页 (pages)" && has "$OUT" "其中 1 页暂定"'
run pdftotext -f 1 -l 1 "$TMP/closed.pdf" -
check "page 1 says the year is closed and lists what the close froze" \
    eval 'has "$OUT" "已结账定案" && has "$OUT" "国培计划网络研修" && has "$OUT" "共 5 项"'
pdftoppm -r 200 -png -f 1 -l 1 -singlefile "$TMP/closed.pdf" "$TMP/closed-1" || die "pdftoppm"
scan "$TMP/closed-1.png"
run "$TOOL" verify --scan "$CODE" --hub-key "$HUB_KEY"
check "its code is the closed receipt: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "已结账定案 (closed, final)"'
certificate T0001 "$TMP/t1-closed.pdf"
run pdftotext "$TMP/t1-closed.pdf" -
check "the node prints the closed receipt too" \
    eval 'has "$OUT" "已结账定案" && ! has "$OUT" "暂定"'

# ---- a standalone receipt: a leaf under a signed Merkle root (protocol.md §4.2) ----------------

# The receipts of schema/vectors/receipt-root.txt, signed by that file's hub key (seed 20..3f).
VECTORS=$XS_SOURCE_DIR/schema/vectors/receipt-root.txt
VECTOR_KEY="xs1:29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7.$(printf '%064d' 0)"
# vector NAME FIELD: the vector NAME's FIELD (hex, or a FIELD= line) from the vectors file.
vector() {
    awk -v name="$1" -v field="$2" '
        $0 == "name: " name { found = 1; next }
        found && $0 == "" { exit }
        found && index($0, field ": ") == 1 { print substr($0, length(field) + 3); exit }
        found && index($0, field "=") == 1 { print substr($0, length(field) + 2); exit }' "$VECTORS"
}
# vector_file NAME FILE: the vector NAME's bytes into FILE.
vector_file() {
    local hex
    hex=$(vector "$1" hex)
    [ -n "$hex" ] || die "no vector $1 in $VECTORS"
    printf '%b' "$(printf '%s' "$hex" | sed 's/../\\x&/g')" >"$2"
}

vector_file receipt_t0002 "$TMP/standalone.xsr"
run "$TOOL" verify "$TMP/standalone.xsr" --hub-key "$VECTOR_KEY"
check_rc "a standalone receipt verifies against its hub's key" 0
check "verify says what it checked, the root's signature and the leaf's path: $OUT" \
    eval 'has "$OUT" "Merkle 根由县级中心签署 (a Merkle root signed by the hub)" &&
        has "$OUT" "the path of index 1 of 3 leaves, 2 hashes, leads to the signed root" &&
        has "$OUT" "Merkle 根 (root): 490d4ab27a199e432799b0894254a8d5f598366b3ac55e082a08c949c539be6d"'
check "and the receipt the leaf holds: $OUT" \
    eval 'has "$OUT" "教师 (teacher): T0002" && has "$OUT" "回执代次 (generation) 10" &&
        has "$OUT" "cycle,2021,0,#0,1.50,360.00,no,yes"'
run "$TOOL" verify "$TMP/standalone.xsr"
check "without the county's key it is valid but says to check the key" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "请核对是否为本县中心的公钥"'
run "$TOOL" verify "$TMP/standalone.xsr" --hub-key "$HUB_KEY"
check "another county's key refuses it: $OUT" \
    eval '[ "$RC" -eq 1 ] && has "$OUT" "不是该县级中心签发的"'

# Its QR code's text: the standalone receipt verbatim (§4.1); a closed year, the last leaf.
TEXT=$(vector receipt_t0003 text)
check "the text form of a standalone receipt: ${TEXT:0:20}…" eval '[[ "$TEXT" == XS1:* ]]'
run "$TOOL" verify --scan "$TEXT" --hub-key "$VECTOR_KEY"
check "--scan verifies it: leaf 2 of 3, one hash, the year closed: $OUT" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "the path of index 2 of 3 leaves, 1 hash, leads" &&
        has "$OUT" "教师 (teacher): T0003" && has "$OUT" "已结账定案 (closed, final)"'
altered=${TEXT:0:300}A${TEXT:301}
[ "${TEXT:300:1}" = A ] && altered=${TEXT:0:300}B${TEXT:301}
run "$TOOL" verify --scan "$altered" --hub-key "$VECTOR_KEY"
check "a character of its leaf changed: refused: $OUT" \
    eval '[ "$RC" -eq 1 ] && has "$OUT" "无效 (INVALID)"'

# Changed ones (the vectors' refusals): a path hash, the leaf, the index, a path a hash short.
for name in receipt_path_flipped receipt_leaf_other receipt_index_swapped receipt_path_short; do
    vector_file "$name" "$TMP/$name.xsr"
    run "$TOOL" verify "$TMP/$name.xsr" --hub-key "$VECTOR_KEY"
    check "$name: refused: $OUT" \
        eval '[ "$RC" -eq 1 ] && has "$OUT" "无效 (INVALID)" && ! has "$OUT" "教师 (teacher)"'
done

finish
