#!/usr/bin/env bash
# test_node_web: `xueshi-node web`, the operator's screen, in headless Chromium. An operator
# records a lecture through the 登记 form, sees it on /records and in the teacher's provisional
# total on /totals, voids it with a reason and sees the total go back, imports a sheet with a
# bad row and is shown the row's line and reason, and has a form missing a field refused,
# naming the field in Chinese (node_web_flow.py drives the browser over tests/tools/cdp.py).
# The store agrees with what the pages said. Outside the browser: a POST without the form's
# csrf token, or with one from an earlier process, is 403 and records nothing; off loopback
# without a password the server refuses to start. Screenshots go to the scratch directory and,
# when XS_SHOTS_DIR is set, there too (docs/node-record.png, node-import.png, node-totals.png).
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser) || die "no chromium (tools/setup)"
command -v python3 >/dev/null || die "no python3 (tools/setup)"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
A=$TMP/node
TEACHER=T0001
SHOTS=$TMP/shots
mkdir -p "$SHOTS" || die "mkdir $SHOTS"
if [ -n "${XS_SHOTS_DIR:-}" ]; then
    mkdir -p "$XS_SHOTS_DIR" || die "XS_SHOTS_DIR $XS_SHOTS_DIR"
fi

# The school year today is in (the policy's starts on 09-01) and a recent day of it.
read -r y m <<<"$(date '+%Y %-m')"
if [ "$m" -ge 9 ]; then
    YEAR=$y-$((y + 1)) START=$y-09-01
else
    YEAR=$((y - 1))-$y START=$((y - 1))-09-01
fi
DAY=$(date -d '-3 days' +%F)
[[ "$DAY" < "$START" ]] && DAY=$(date +%F)

# records: how many activity records `list` shows (voided ones included).
records() {
    "$NODE" list --dir "$A" | sed -n 's/.*(\([0-9]*\) records, [0-9]* voided)$/\1/p'
}

# listed TEACHER COLS: the given columns of `list --format csv` for TEACHER's records.
listed() {
    "$NODE" list --dir "$A" --format csv --teacher "$1" >"$TMP/.list.csv" || return 1
    csv_select "$TMP/.list.csv" "$2" | tail -n +2
}

# web_start LOG: `xueshi-node web` on a loopback port it picks; sets WEB_PID and URL.
web_start() {
    bg_start "$1" "$NODE" web --dir "$A" --listen 127.0.0.1:0
    WEB_PID=$BG_PID
    wait_for_text "$1" "界面地址 (UI at): http://127.0.0.1:" 20 "$WEB_PID" || return 1
    URL=$(sed -n 's|^界面地址 (UI at): \(http://127\.0\.0\.1:[0-9]*\)/$|\1|p' "$1" | head -n 1)
    [ -n "$URL" ]
}

# http METHOD URL OUT [NAME=VALUE...]: one request (a POST sends the pairs form-encoded),
# keeping cookies in $TMP/cookies; prints the status and the Location header ("-" when none).
cat >"$TMP/request.py" <<'EOF'
import http.client, os, sys, urllib.parse
method, url, out = sys.argv[1:4]
jar = os.path.join(os.path.dirname(out), "cookies")
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
headers = {}
if os.path.exists(jar):
    headers["Cookie"] = open(jar).read().strip()
body = None
if method == "POST":
    body = urllib.parse.urlencode([tuple(a.split("=", 1)) for a in sys.argv[4:]])
    headers["Content-Type"] = "application/x-www-form-urlencoded"
c.request(method, u.path + ("?" + u.query if u.query else ""), body=body, headers=headers)
r = c.getresponse()
open(out, "wb").write(r.read())
cookies = [h.split(";", 1)[0] for k, h in r.getheaders() if k.lower() == "set-cookie"]
if cookies:
    open(jar, "w").write("; ".join(cookies))
print(r.status, r.getheader("Location") or "-")
EOF
http() {
    python3 "$TMP/request.py" "$@" 2>"$TMP/http.err" || echo "000 -"
}

# csrf FILE: the csrf token of the first form in the page FILE.
csrf() {
    grep -o '<input[^>]*name="csrf"[^>]*>' "$1" | head -n 1 | sed -n 's/.*value="\([^"]*\)".*/\1/p'
}

# ---- a node with a policy and one record, its screen on loopback -------------------------------

"$NODE" init --dir "$A" --school S01 >"$TMP/init.out" 2>&1 || die "init: $(cat "$TMP/init.out")"
"$NODE" policy --dir "$A" "$POLICY" >/dev/null || die "policy"
"$NODE" record --dir "$A" --teacher "$TEACHER" --date "$DAY" --category lecture --minutes 60 \
    --role participant >/dev/null || die "record"
# A register sheet: two good rows and, on line 3, a month 13.
printf '%s\n' 'teacher_id,date,category,role,minutes' \
    "T0002,$DAY,lecture,participant,45" \
    "T0002,2025-13-40,lecture,participant,45" \
    "T0003,$DAY,专题讲座,参与者,120" >"$TMP/sheet.csv"

web_start "$TMP/web.log" || die "xueshi-node web did not start: $(cat "$TMP/web.log")"
pass "xueshi-node web says where it serves: $URL/"

# ---- the browser session -----------------------------------------------------------------------

flow_rc=0
# TMPDIR: Chromium's profile inside the scratch directory, whatever becomes of the browser.
TMPDIR=$TMP PYTHONDONTWRITEBYTECODE=1 timeout 120 python3 "$XS_LIB_DIR/node_web_flow.py" \
    "$CHROMIUM" "$URL" "$TEACHER" "$DAY" "$YEAR" "$TMP/sheet.csv" \
    "$SHOTS${XS_SHOTS_DIR:+:$XS_SHOTS_DIR}" >"$TMP/flow.out" 2>"$TMP/flow.err" || flow_rc=$?
while IFS= read -r line; do
    case $line in
    "ok   - "*) pass "${line#ok   - }" ;;
    "FAIL - "*) fail "${line#FAIL - }" ;;
    *) echo "$line" ;;
    esac
done <"$TMP/flow.out"
check_eq "the browser session ran to its end (stderr: $(tail -c 600 "$TMP/flow.err"))" 0 "$flow_rc"
check "screenshots in $SHOTS" \
    eval '[ -s "$SHOTS/node-record.png" ] && [ -s "$SHOTS/node-import.png" ] &&
          [ -s "$SHOTS/node-totals.png" ]'

# The store holds what the pages said.
check_eq "the store: the lecture recorded in the browser, voided" \
    "$DAY,lecture,participant,90,voided" "$(listed "$TEACHER" "5 6 7 8 22" |
        awk -F, '$4 == 90 { print $1 "," $2 "," $3 "," $4 "," ($5 != "" ? "voided" : "live") }')"
check_eq "the store: the sheet's good rows" "$(printf '%s\n' T0002,45 T0003,120)" \
    "$(listed T0002 "3 8"; listed T0003 "3 8")"
check_eq "the store: nothing from the refused form" "" "$(listed T0009 3)"

# ---- csrf: a POST must carry the token of a form this process served --------------------------

n=$(records)
FIELDS=(category=lecture teacher_id=T0007 "date=$DAY" minutes=50 role=participant)
read -r status _ < <(http GET "$URL/record?category=lecture" "$TMP/form1.html")
OLD_TOKEN=$(csrf "$TMP/form1.html")
check "the form carries a csrf token ($status)" [ -n "$OLD_TOKEN" ]
read -r status _ < <(http POST "$URL/record" "$TMP/nocsrf.html" "${FIELDS[@]}")
check_eq "a POST /record without csrf is 403" 403 "$status"
check "with a Chinese page saying to reload the form" grep -Eq "刷新|重新" "$TMP/nocsrf.html"
read -r status _ < <(http POST "$URL/record" "$TMP/badcsrf.html" "${FIELDS[@]}" csrf=0123abcd)
check_eq "a POST /record with a made-up csrf is 403" 403 "$status"
check_eq "and nothing is recorded" "$n" "$(records)"

kill -TERM "$WEB_PID"
bg_wait "$WEB_PID" 10 || fail "xueshi-node web did not stop on SIGTERM"
check_eq "SIGTERM stops it cleanly" 0 "${BG_RC:-}"
web_start "$TMP/web2.log" || die "xueshi-node web did not start again: $(cat "$TMP/web2.log")"
read -r status _ < <(http POST "$URL/record" "$TMP/oldcsrf.html" "${FIELDS[@]}" "csrf=$OLD_TOKEN")
check_eq "a POST with the csrf of the previous process start is 403" 403 "$status"
check_eq "and nothing is recorded" "$n" "$(records)"
http GET "$URL/record?category=lecture" "$TMP/form2.html" >/dev/null
read -r status location < <(http POST "$URL/record" "$TMP/ok.html" "${FIELDS[@]}" \
    "csrf=$(csrf "$TMP/form2.html")")
check "the same POST with this process's csrf records it: $status $location" \
    eval '[ "$status" = 303 ] && has "$location" "/records?added=" &&
          [ "$(listed T0007 "3 8")" = T0007,50 ]'
bg_kill "$WEB_PID" TERM
check_eq "it stops on SIGTERM" 0 "${BG_RC:-}"

# ---- off loopback without a password: refused --------------------------------------------------

run timeout 20 "$NODE" web --dir "$A" --listen 0.0.0.0:0
check_rc "a non-loopback listen without a password is refused" 2
check "with one line saying to set a password with web-passwd: $ERR" \
    eval 'has "$ERR" "xueshi-node" && has "$ERR" "web-passwd" && [ "$(wc -l <<<"$ERR")" -eq 1 ]'
check "and it never said it was serving" eval '! has "$OUT" "界面地址"'

finish
