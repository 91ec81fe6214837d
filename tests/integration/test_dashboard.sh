#!/usr/bin/env bash
# test_dashboard: `xueshi-hub web`, the county dashboard, beside a running hub. A central school
# (ZX01, proxying JXD01 and CX02) imports its autumn register under the county's roster and syncs; the
# dashboard on loopback serves the county, the school and a teacher to headless Chromium
# (--dump-dom, and screenshots kept as test artefacts); the school page's hours are those of
# `xueshi-hub report`; a note holding markup stays text; the workbook downloads. The hub keeps
# merging while the dashboard reads. Garbage and huge requests get 4xx and the dashboard goes on.
# Off loopback it refuses to start without TLS and a password; with them, a wrong password is
# 401 (after about a second) and the right one 200.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
CHROMIUM=$(command -v chromium || command -v chromium-browser) || die "no chromium (tools/setup)"
command -v openssl >/dev/null || die "no openssl (tools/setup)"
command -v python3 >/dev/null || die "no python3 (tools/setup)"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
ROSTER=$XS_SOURCE_DIR/docs/examples/roster-2025.csv
SHEET=$XS_SOURCE_DIR/docs/examples/term-2025-autumn.csv
ARTEFACTS=${XS_ARTEFACTS:-$XS_BIN/../test-artefacts}
H=$TMP/hub
SYNC_TIMEOUT=20
YEAR=2025-2026
mkdir -p "$ARTEFACTS" || die "artefacts directory $ARTEFACTS"

# web_start LOG ARGS...: `xueshi-hub web --dir $H` with ARGS (a PORT word is replaced) on a
# free port, waiting for its serving line; sets WEB_PID and WEB_PORT.
web_start() {
    local log=$1 try
    shift
    for try in 0 1 2 3 4 5 6 7; do
        WEB_PORT=$((20000 + ($$ + 7919 + try * 3371) % 20000))
        bg_start "$log" "$HUB" web --dir "$H" "${@//PORT/$WEB_PORT}"
        WEB_PID=$BG_PID
        wait_for_text "$log" "县级看板运行中" 10 "$WEB_PID" && return 0
        bg_kill "$WEB_PID"
    done
    return 1
}

# dom PATH NAME: Chromium's DOM of the dashboard's PATH into $TMP/NAME.html. A browser that
# starts too slowly on a loaded machine, and dumps nothing, gets two more tries.
dom() {
    local try
    for try in 1 2 3; do
        timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --dump-dom \
            "http://127.0.0.1:$WEB_PORT$1" >"$TMP/$2.html" 2>"$TMP/$2.chromium.err"
        grep -q '</html>' "$TMP/$2.html" && return 0
        echo "chromium dumped no page for $1 (try $try): $(tail -n 2 "$TMP/$2.chromium.err")" >&2
    done
    return 1
}

# shot PATH FILE: a screenshot of PATH kept as a test artefact.
shot() {
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --window-size=1280,900 --screenshot="$ARTEFACTS/$2" "http://127.0.0.1:$WEB_PORT$1" \
        >/dev/null 2>&1
}

# fetch URL OUT [USER PASSWORD]: GET (HTTPS without checking the certificate, the test's own
# self-signed one) with Basic credentials when given; prints the status and the seconds taken.
cat >"$TMP/fetch.py" <<'EOF'
import base64, http.client, ssl, sys, time, urllib.parse
url, out = sys.argv[1], sys.argv[2]
u = urllib.parse.urlsplit(url)
if u.scheme == "https":
    c = http.client.HTTPSConnection(u.hostname, u.port, timeout=30,
                                    context=ssl._create_unverified_context())
else:
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
headers = {}
if len(sys.argv) > 4:
    cred = (sys.argv[3] + ":" + sys.argv[4]).encode()
    headers["Authorization"] = "Basic " + base64.b64encode(cred).decode()
start = time.time()
c.request("GET", u.path + ("?" + u.query if u.query else ""), headers=headers)
r = c.getresponse()
body = r.read()
open(out, "wb").write(body)
print(r.status, "%.2f" % (time.time() - start), r.getheader("Content-Disposition") or "-")
EOF
fetch() {
    python3 "$TMP/fetch.py" "$@" 2>"$TMP/fetch.err" || echo "000 0 -"
}

# raw BYTES: sends BYTES (printf format) on a plain connection to the dashboard; prints the
# reply's status line.
raw() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$WEB_PORT" || exit 1
        printf "$1" >&3
        timeout 10 head -n 1 <&3 | tr -d '\r'
    ) 2>/dev/null
}

# ---- a county: the hub running, ZX01 proxying two schools, the roster, an autumn term ---------------

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init zx ZX01 "$HUB_ENDPOINT" "$HUB_KEY"
enroll zx ZX01 --proxy-for JXD01,CX02
run "$HUB" roster --dir "$H" import "$ROSTER"
[ "$RC" = 0 ] || die "roster import: $ERR"
"$NODE" import --dir "$TMP/zx" --operator 教务处 "$SHEET" >/dev/null 2>&1 || die "import the sheet"
"$NODE" record --dir "$TMP/zx" --teacher T2025001 --date 2025-12-20 --category lecture \
    --minutes 60 --event '<b>期末</b>讲座' --note '=HYPERLINK("http://x","点我")' >/dev/null ||
    die "record"
sync zx
[ "$RC" = 0 ] || die "sync: $ERR"

# ---- the dashboard on loopback ---------------------------------------------------------------

web_start "$TMP/web.log" --listen 127.0.0.1:PORT || die "the dashboard did not start: $(cat "$TMP/web.log")"
check "it says where it serves: $(head -n 1 "$TMP/web.log")" \
    grep -q "http://127.0.0.1:$WEB_PORT/" "$TMP/web.log"

dom "/?year=$YEAR" county
check "Chromium loads the county: its heading, the chart, the schools and nodes" \
    eval 'grep -q "全县学时认定概况 2025-2026 学年" "$TMP/county.html" &&
          grep -q "<svg" "$TMP/county.html" && grep -q "各校达标率" "$TMP/county.html" &&
          grep -q "各节点同步情况" "$TMP/county.html" && grep -q "代管" "$TMP/county.html"'
dom "/school/ZX01?year=$YEAR" school
check "Chromium loads the school ZX01 with its teachers" \
    eval 'grep -q "学校 ZX01 · 2025-2026 学年" "$TMP/school.html" && grep -q "张秀兰" "$TMP/school.html"'
dom "/teacher/T2025001?year=$YEAR" teacher
check "Chromium loads the teacher T2025001: conclusion, records, receipt" \
    eval 'grep -q "教师 张秀兰（T2025001）" "$TMP/teacher.html" && grep -q "认定结论" "$TMP/teacher.html" &&
          grep -q "县级中心收到的记录" "$TMP/teacher.html" && grep -q "认定回执" "$TMP/teacher.html"'
check "a note with markup and a formula is shown as text, not markup" \
    eval 'grep -qF "&lt;b&gt;期末&lt;/b&gt;讲座" "$TMP/teacher.html" &&
          grep -qF "=HYPERLINK(\"http://x\",\"点我\")" "$TMP/teacher.html" &&
          ! grep -q "<b>期末" "$TMP/teacher.html"'
dom "/school/NOPE?year=$YEAR" nope
check "an unknown school is a page saying so" grep -q "没有这所学校" "$TMP/nope.html"

# The school page's hours are the report's, teacher by teacher and bucket by bucket.
"$HUB" report --dir "$H" --year "$YEAR" --school ZX01 >"$TMP/report.csv" 2>"$TMP/report.err" ||
    die "report: $(cat "$TMP/report.err")"
cat >"$TMP/compare.py" <<'EOF'
import csv, html.parser, sys
class Cells(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.teacher, self.bucket, self.text = {}, None, None, ""
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-teacher" in a:
            self.teacher = a["data-teacher"]
            self.rows[self.teacher] = {}
        if tag == "td" and "data-bucket" in a and self.teacher:
            self.bucket, self.text = a["data-bucket"], ""
    def handle_endtag(self, tag):
        if tag == "td" and self.bucket:
            self.rows[self.teacher][self.bucket] = self.text.split("/")[0].strip()
            self.bucket = None
        if tag == "tr":
            self.teacher = None
    def handle_data(self, data):
        if self.bucket:
            self.text += data
page = Cells()
page.feed(open(sys.argv[1], encoding="utf-8").read())
report = {}
for row in csv.DictReader(open(sys.argv[2], encoding="utf-8-sig")):
    if row["scope"] == "year" and row["period"] == sys.argv[3]:
        report.setdefault(row["teacher_id"], {})[row["bucket"]] = row["credited_hours"]
cells = sum(len(v) for v in report.values())
if page.rows != report:
    for t in sorted(set(page.rows) | set(report)):
        if page.rows.get(t) != report.get(t):
            print("differ", t, page.rows.get(t), report.get(t))
            break
    sys.exit(1)
print(len(report), "teachers,", cells, "cells")
EOF
if out=$(python3 "$TMP/compare.py" "$TMP/school.html" "$TMP/report.csv" "$YEAR"); then
    pass "the school page's year hours are the report's ($out)"
else
    fail "the school page's hours differ from the report: $out"
fi

shot "/?year=$YEAR" dashboard-county.png
shot "/school/ZX01?year=$YEAR" dashboard-school.png
check "screenshots kept as test artefacts in $ARTEFACTS" \
    eval '[ -s "$ARTEFACTS/dashboard-county.png" ] && [ -s "$ARTEFACTS/dashboard-school.png" ]'

read -r status _ disposition < <(fetch \
    "http://127.0.0.1:$WEB_PORT/download/$YEAR/%E6%B1%87%E6%80%BB%E8%A1%A8.xlsx?school=ZX01" \
    "$TMP/zx.xlsx")
check_eq "the school's workbook downloads" 200 "$status"
check "as an XLSX file (PK) named 汇总表-2025-2026-ZX01.xlsx: $disposition" \
    eval '[ "$(head -c 2 "$TMP/zx.xlsx")" = PK ] &&
          has "$disposition" "filename*=UTF-8'"''"'%E6%B1%87%E6%80%BB%E8%A1%A8-2025-2026-ZX01.xlsx"'
check "the teacher's page links their 学时证明" \
    grep -qF "/download/$YEAR/certificates/T2025001.pdf" "$TMP/teacher.html"
read -r status _ disposition < <(fetch \
    "http://127.0.0.1:$WEB_PORT/download/$YEAR/certificates/T2025001.pdf" "$TMP/t1.pdf")
check_eq "the teacher's certificate downloads" 200 "$status"
check "as a one-page PDF: $disposition" \
    eval '[ "$(head -c 4 "$TMP/t1.pdf")" = %PDF ] && pdfinfo "$TMP/t1.pdf" | grep -q "^Pages: *1$"'
read -r status _ < <(fetch \
    "http://127.0.0.1:$WEB_PORT/download/$YEAR/certificates/school/ZX01.pdf" "$TMP/zx.pdf")
check "the school's certificates download, a page per teacher" \
    eval '[ "$status" = 200 ] && [ "$(pdfinfo "$TMP/zx.pdf" | sed -n "s/^Pages: *//p")" -ge 2 ]'
read -r status _ < <(fetch "http://127.0.0.1:$WEB_PORT/download/$YEAR/certificates/NOBODY.pdf" \
    "$TMP/none.pdf")
check_eq "an unknown teacher's certificate is 404" 404 "$status"
read -r status _ < <(fetch "http://127.0.0.1:$WEB_PORT/?year=2025" "$TMP/bad.html")
check_eq "a bad year is 400" 400 "$status"

# The hub merges while the dashboard reads: a new record syncs, and the next page shows it.
"$NODE" record --dir "$TMP/zx" --teacher T2025002 --date 2025-12-21 --category lecture \
    --minutes 45 --event "寒假前讲座" >/dev/null || die "record"
sync zx
check_rc "a sync while the dashboard serves" 0
read -r status _ < <(fetch "http://127.0.0.1:$WEB_PORT/teacher/T2025002?year=$YEAR" "$TMP/t2.html")
check "the teacher page shows the record just synced" \
    eval '[ "$status" = 200 ] && grep -q "寒假前讲座" "$TMP/t2.html"'

# Bad and huge requests: 4xx, logged, and the dashboard goes on.
check_eq "a request line that does not parse is 400" "HTTP/1.1 400 Bad Request" "$(raw 'XYZ /\r\n\r\n')"
check_eq "a method other than GET is 405" "HTTP/1.1 405 Method Not Allowed" \
    "$(raw 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\n\r\nabc')"
big=$(head -c 100000 /dev/zero | tr '\0' a)
# raw_refused REQUEST: the status line of the answer to an oversize REQUEST. The server answers
# and closes while the rest is still coming; on a loaded machine the close can reach the client
# as a reset before it has read the answer, which it then loses: up to three tries.
raw_refused() {
    local try status
    for try in 1 2 3; do
        status=$(raw "$1")
        [ -n "$status" ] && break
    done
    printf '%s' "$status"
}
status=$(raw_refused "GET /$big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
check "a 100 KB URL is refused: $status" has "$status" "HTTP/1.1 414"
status=$(raw_refused "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: $big\r\n\r\n")
check "a 100 KB header is refused: $status" has "$status" "HTTP/1.1 431"
raw 'XYZ\r\n\r\n' >/dev/null
status=$(raw "GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n")
check "a page asked for under another host name (DNS rebinding) is refused: $status" \
    has "$status" "HTTP/1.1 421"
read -r status _ < <(fetch "http://127.0.0.1:$WEB_PORT/?year=$YEAR" "$TMP/after.html")
check "the dashboard still serves the county" \
    eval '[ "$status" = 200 ] && grep -q "全县学时认定概况" "$TMP/after.html"'
check "each refusal is logged with the client and status" \
    eval 'grep -q "web: 127.0.0.1 请求无法解析.* → 400" "$TMP/web.log" &&
          grep -q "web: 127.0.0.1 POST / → 405" "$TMP/web.log" &&
          grep -q "web: 127.0.0.1 .* → 414" "$TMP/web.log" &&
          grep -q "web: 127.0.0.1 .* → 431" "$TMP/web.log" &&
          grep -q "web: 127.0.0.1 GET / → 421" "$TMP/web.log" &&
          grep -q "web: 127.0.0.1 GET /?year=2025 → 400" "$TMP/web.log"'
# A flood of one refusal writes a few lines, not one each: the log cannot fill the disk.
for i in $(seq 1 12); do
    raw "DELETE /flood$i HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" >/dev/null
done
check "12 refused DELETEs are logged at most 5 times a minute: $(grep -c "DELETE /flood" "$TMP/web.log")" \
    eval '[ "$(grep -c "DELETE /flood" "$TMP/web.log")" -ge 1 ] &&
          [ "$(grep -c "DELETE /flood" "$TMP/web.log")" -le 5 ]'
kill -TERM "$WEB_PID"
bg_wait "$WEB_PID" 10 || fail "the dashboard did not stop on SIGTERM"
check_eq "SIGTERM stops it cleanly" 0 "${BG_RC:-}"

# ---- off loopback: HTTPS and a password, or nothing ------------------------------------------

run "$HUB" web --dir "$H" --listen 0.0.0.0:1
check_rc "a non-loopback listen without TLS or a password is refused" 2
check "with a message saying why: $ERR" has "$ERR" "须使用 HTTPS"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1 ||
    die "openssl: a test certificate"
run "$HUB" web --dir "$H" --listen 0.0.0.0:1 --tls-cert "$TMP/cert.pem" --tls-key "$TMP/key.pem"
check_rc "with TLS but no password set: refused" 2
check "saying no password is set: $ERR" has "$ERR" "尚未设置密码"
run bash -c "printf 'short\n' | '$HUB' web-passwd --dir '$H'"
check_rc "web-passwd refuses a password under 8 characters" 2
PASSWORD='县里的 admin 密码 2025'
run bash -c "printf '%s\n' '$PASSWORD' | '$HUB' web-passwd --dir '$H'"
check_rc "web-passwd sets the password from stdin" 0
check "DIR/web.passwd holds an Argon2id hash, mode 0600" \
    eval '[ "$(stat -c %a "$H/web.passwd")" = 600 ] && grep -q "^[$]argon2id[$]" "$H/web.passwd" &&
          ! grep -qF "$PASSWORD" "$H/web.passwd"'
web_start "$TMP/web-tls.log" --listen 0.0.0.0:PORT --tls-cert "$TMP/cert.pem" \
    --tls-key "$TMP/key.pem" || die "the TLS dashboard did not start: $(cat "$TMP/web-tls.log")"
URL=https://127.0.0.1:$WEB_PORT/?year=$YEAR
read -r status _ < <(fetch "$URL" "$TMP/tls.html")
check_eq "no credentials: 401" 401 "$status"
read -r status took _ < <(fetch "$URL" "$TMP/tls.html" admin wrong-password)
check_eq "a wrong password: 401" 401 "$status"
check "and slowed down (${took} s)" awk -v t="$took" 'BEGIN { exit !(t >= 0.9) }'
read -r status _ < <(fetch "$URL" "$TMP/tls.html" admin "$PASSWORD")
check "the right password over HTTPS: 200 and the county" \
    eval '[ "$status" = 200 ] && grep -q "全县学时认定概况" "$TMP/tls.html"'
read -r status _ < <(fetch "http://127.0.0.1:$WEB_PORT/" "$TMP/plain.html")
check "plain HTTP to the HTTPS port gets no page ($status)" [ "$status" != 200 ]
check "the login and the failed one are logged with the client" \
    eval 'grep -q "web: 127.0.0.1 登录 (login) admin" "$TMP/web-tls.log" &&
          grep -q "web: 127.0.0.1 登录失败" "$TMP/web-tls.log"'
bg_kill "$WEB_PID" TERM
check_eq "it stops on SIGTERM" 0 "${BG_RC:-}"

finish
