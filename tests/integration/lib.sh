# lib.sh: what every integration test sources: a scratch directory, the programs, checks, summary.
#
# A test sources this file, calls the checks, and ends with `finish`, which prints
# "N passed, M failed" and exits non-zero when anything failed. Environment:
#   XS_BIN     directory holding xueshi-node and friends (ctest sets it); default build/bin
#   XS_KEEP=1  keep the scratch directory for a post-mortem instead of deleting it

set -u
set -o pipefail
export LC_ALL=C.UTF-8 # byte-stable sort and grep, whatever the caller's locale

XS_PASSED=0
XS_FAILED=0
XS_BG_PIDS=() # background processes a test started: killed by id on exit

XS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
XS_SOURCE_DIR=${XS_SOURCE_DIR:-$(cd "$XS_LIB_DIR/../.." && pwd)}
XS_BIN=${XS_BIN:-$XS_SOURCE_DIR/build/bin}

# Stops the test at once: for a broken setup, not for a failed expectation.
die() {
    echo "FATAL: $*" >&2
    exit 2
}

NODE=$XS_BIN/xueshi-node
[ -x "$NODE" ] || die "no xueshi-node in $XS_BIN (set XS_BIN or build into build/bin)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/xs-it.XXXXXX") || die "mktemp"

xs_cleanup() {
    local pid
    for pid in "${XS_BG_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ "${XS_KEEP:-0}" = 1 ]; then
        echo "kept scratch directory $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap xs_cleanup EXIT
trap 'exit 130' INT TERM

pass() {
    XS_PASSED=$((XS_PASSED + 1))
    echo "ok   - $*"
}

fail() {
    XS_FAILED=$((XS_FAILED + 1))
    echo "FAIL - $*"
}

# skip WHY: the test cannot run on this machine (a tool it needs is not installed): says why
# and exits 77, which ctest reports as skipped (SKIP_RETURN_CODE), never as passed.
skip() {
    echo "SKIP - $*"
    exit 77
}

# check_eq WHAT EXPECTED ACTUAL
check_eq() {
    if [ "$2" == "$3" ]; then
        pass "$1"
    else
        fail "$1: expected [$2], got [$3]"
    fi
}

# check WHAT COMMAND...: passes when the command succeeds.
check() {
    local what=$1
    shift
    if "$@"; then
        pass "$what"
    else
        fail "$what"
    fi
}

# run COMMAND...: runs it with stdout and stderr captured; sets RC, OUT and ERR.
run() {
    "$@" >"$TMP/.out" 2>"$TMP/.err"
    RC=$?
    OUT=$(cat "$TMP/.out")
    ERR=$(cat "$TMP/.err")
}

# check_rc WHAT EXPECTED: checks RC from the last run, showing stderr when it differs.
check_rc() {
    if [ "$RC" == "$2" ]; then
        pass "$1: exit $2"
    else
        fail "$1: exit $RC, expected $2; stderr: $ERR"
    fi
}

# has TEXT FIXED: whether FIXED occurs in TEXT (no regular expressions, no locale surprises).
has() {
    [[ "$1" == *"$2"* ]]
}

# csv_select FILE COL...: reads an RFC 4180 file (optional UTF-8 BOM, LF or CRLF, quoted cells
# across lines) and writes the given 1-based columns of every row as CSV with LF line ends,
# quoting a cell only when it must be quoted.
csv_select() {
    local file=$1
    shift
    sed '1s/^\xEF\xBB\xBF//' "$file" | awk -v cols="$*" '
        function emit_row(   i, c, s, out) {
            out = ""
            for (i = 1; i <= ncols; i++) {
                c = col[i]
                s = (c <= nf) ? cell[c] : ""
                if (s ~ /[",\r\n]/ || s ~ /^[ \t]/ || s ~ /[ \t]$/) {
                    gsub(/"/, "\"\"", s)
                    s = "\"" s "\""
                }
                out = out (i > 1 ? "," : "") s
            }
            print out
        }
        BEGIN { ncols = split(cols, col, " "); nf = 0; cur = ""; inq = 0 }
        {
            line = $0
            n = length(line)
            for (i = 1; i <= n; i++) {
                ch = substr(line, i, 1)
                if (inq) {
                    if (ch == "\"") {
                        if (substr(line, i + 1, 1) == "\"") { cur = cur "\""; i++ }
                        else inq = 0
                    } else cur = cur ch
                } else if (ch == "\"") inq = 1
                else if (ch == ",") { cell[++nf] = cur; cur = "" }
                else if (ch == "\r" && i == n) { } # CRLF line end; inside quotes, CR is data
                else cur = cur ch
            }
            if (inq) { cur = cur "\n"; next }
            cell[++nf] = cur; cur = ""
            if (!(nf == 1 && cell[1] == "")) emit_row()
            nf = 0
        }'
}

# finish: the summary line and the exit status.
finish() {
    echo "$XS_PASSED passed, $XS_FAILED failed"
    [ "$XS_FAILED" -eq 0 ]
    exit $?
}

# ---- background programs: start, wait for, stop ---------------------------------------------

# now_ms: milliseconds since the epoch, without a fork.
now_ms() {
    local us=${EPOCHREALTIME/./}
    echo $((us / 1000))
}

# sleep_ms MS: sleeps MS milliseconds.
sleep_ms() {
    sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"
}

# bg_start LOG COMMAND...: starts COMMAND in the background, stdout and stderr to LOG
# (truncated), registered so that the exit trap kills it; sets BG_PID.
bg_start() {
    local log=$1
    shift
    # Truncated here, not only by the child's redirection: the child may run after the caller
    # already looks in LOG for a line, and must not find the previous run's.
    : >"$log"
    "$@" >"$log" 2>&1 &
    BG_PID=$!
    XS_BG_PIDS+=("$BG_PID")
}

# bg_forget PID: unregisters PID once the test has reaped it.
bg_forget() {
    local pid kept=()
    for pid in "${XS_BG_PIDS[@]}"; do
        [ "$pid" = "$1" ] || kept+=("$pid")
    done
    XS_BG_PIDS=(${kept[@]+"${kept[@]}"})
}

# bg_wait PID SECONDS: waits up to SECONDS (may be fractional) for PID to exit, reaps and
# unregisters it and sets BG_RC to its exit status; returns 1, PID still running, on timeout.
bg_wait() {
    local pid=$1 deadline
    { # no "Killed" notice: the shell prints one when it reaps a killed job, at any command
        deadline=$(($(now_ms) + $(awk -v s="$2" 'BEGIN { printf "%d", s * 1000 }')))
        while kill -0 "$pid"; do
            [ "$(now_ms)" -lt "$deadline" ] || return 1
            sleep 0.02
        done
        wait "$pid"
        BG_RC=$?
    } 2>/dev/null
    bg_forget "$pid"
}

# bg_kill PID [SIGNAL]: sends SIGNAL (default KILL) and reaps PID (up to 10 s); sets BG_RC.
bg_kill() {
    { kill -"${2:-KILL}" "$1"; } 2>/dev/null
    bg_wait "$1" 10
}

# wait_for_text FILE FIXED SECONDS [PID]: polls until FILE contains the text FIXED; returns 1
# after SECONDS, or as soon as PID (when given) has exited without FILE holding it.
wait_for_text() {
    local file=$1 text=$2 pid=${4:-} deadline
    deadline=$(($(now_ms) + $3 * 1000))
    until grep -qF -- "$text" "$file" 2>/dev/null; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            grep -qF -- "$text" "$file" 2>/dev/null
            return
        fi
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

# hub_start DIR ENDPOINT LOG: runs `xueshi-hub run --dir DIR --listen ENDPOINT` in the
# background (output to LOG) and waits up to 10 s until it serves; sets HUB_PID. Returns 1,
# with the hub reaped, when it exited first (address in use…) or did not get ready in time.
hub_start() {
    bg_start "$3" "$XS_BIN/xueshi-hub" run --dir "$1" --listen "$2"
    HUB_PID=$BG_PID
    wait_for_text "$3" "县级中心运行中" 10 "$HUB_PID" && return 0
    bg_kill "$HUB_PID"
    return 1
}

# ---- nodes of a test county: the caller sets NODE, HUB, H (the hub's dir), TMP and
# SYNC_TIMEOUT ------------------------------------------------------------------------------

declare -A KEY # each node's public keys, by name

# node_init NAME SCHOOL ENDPOINT PEER_KEYS [COUNTY_KEYS]: initialises (or re-points) node NAME
# at $TMP/NAME; sets KEY[NAME] to its public keys.
node_init() {
    local extra=()
    [ -n "${5:-}" ] && extra=(--county-key "$5")
    "$NODE" init --dir "$TMP/$1" --school "$2" --hub "$3" --hub-key "$4" "${extra[@]}" \
        >"$TMP/$1-init.out" 2>&1 || die "init $1: $(cat "$TMP/$1-init.out")"
    KEY[$1]=$(tail -n 1 "$TMP/$1-init.out")
}

# enroll NAME SCHOOL [OPTION...]: enrolls node NAME at the hub in $H.
enroll() {
    local name=$1 school=$2
    shift 2
    "$HUB" enroll --dir "$H" --node "${KEY[$name]}" --school "$school" "$@" >/dev/null ||
        die "enroll $name"
}

# sync NAME: one `xueshi-node sync` of node NAME (its dir is $TMP/NAME); sets RC, OUT, ERR.
sync() {
    run "$NODE" sync --dir "$TMP/$1" --timeout "$SYNC_TIMEOUT"
}

# hub_start_free DIR LOG: hub_start on 127.0.0.1 at a port picked for this test run, trying
# others when it is taken; sets HUB_ENDPOINT and HUB_PID.
hub_start_free() {
    local try port
    for try in 0 1 2 3 4 5 6 7; do
        port=$((20000 + ($$ + try * 2711) % 20000))
        HUB_ENDPOINT=tcp://127.0.0.1:$port
        hub_start "$1" "$HUB_ENDPOINT" "$2" && return 0
    done
    return 1
}

# ---- generated register sheets ---------------------------------------------------------------

# The columns of a mixed sheet, which are also `xueshi-node record` options (teacher_id is
# --teacher).
MIXED_COLUMNS=(teacher_id date category role minutes hours days chars unit lessons level grade
    work event score ref)

# mixed_sheet SCHOOL ROWS TEACHERS EXAM: writes to stdout a register sheet (LF, no BOM) of ROWS
# valid activities of TEACHERS teachers SCHOOL-T0001.., every category in turn: lectures
# (participant, speaker), research sessions with repeated events, open classes, reflections
# (a third too short), online hours, external training (hours or days), papers (awards and
# publications, some too short, titles repeated), designs, projects, and exams, half of them
# in the sitting named EXAM (give every school the same one and the ranking crosses schools).
# Dates run 2024-09 .. 2026-06; row R (line R + 1) has ref SCHOOL-R<R>, so no two rows are one
# activity to the node's dedupe and `xueshi certify` over the same file sees the same rows.
mixed_sheet() {
    awk -v school="$1" -v rows="$2" -v teachers="$3" -v exam="$4" 'BEGIN {
    print "teacher_id,date,category,role,minutes,hours,days,chars,unit,lessons,level,grade,work,event,score,ref"
    split("county municipal provincial national", lv, " ")
    for (r = 1; r <= rows; r++) {
        t = r % teachers + 1
        j = int(r / teachers)
        tid = sprintf("%s-T%04d", school, t)
        m = (j * 7 + t * 3) % 22
        date = sprintf("%04d-%02d-%02d", 2024 + int((m + 8) / 12), (m + 8) % 12 + 1, (r * 13) % 28 + 1)
        role = minutes = hours = days = chars = unit = lessons = level = grade = work = event = score = ""
        k = (j + t) % 16
        if (k <= 2 || k == 14) {
            cat = "lecture"
            minutes = 30 + (r * 7) % 150
            role = r % 9 == 0 ? "speaker" : r % 3 ? "participant" : ""
        } else if (k <= 4) {
            cat = "research_session"
            event = sprintf("%s教研活动%02d", school, (r * 3) % 12)
            role = r % 4 == 0 ? "organizer" : r % 4 == 1 ? "" : "participant"
        } else if (k == 5) {
            cat = "open_class"
        } else if (k == 6) {
            cat = "reflection"
            chars = r % 3 == 0 ? 600 + r % 300 : 1000 + r % 2000
        } else if (k <= 8 || k == 15) {
            cat = "online_training"
            hours = sprintf("%d.%d", 1 + r % 12, (r % 2) * 5)
        } else if (k == 9) {
            cat = "exam"
            event = j % 2 == 0 ? exam : sprintf("%s校内考试%d", school, j % 3)
            score = sprintf("%d.%02d", (r * 37 + t * 11) % 100, (r * 7) % 100)
        } else if (k == 10) {
            cat = "paper"
            chars = r % 4 == 0 ? 1500 : 2000 + r % 3000
            work = sprintf("论文%s-%d", tid, j % 3)
            if (r % 5 == 0) { grade = "published"; level = "municipal" }
            else if (r % 5 == 1) { grade = "published"; level = "national" }
            else { grade = r % 3 + 1; level = lv[r % 4 + 1] }
        } else if (k == 11) {
            cat = "teaching_design"
            if (r % 4 == 0) { unit = 1; lessons = 2 + r % 6; work = sprintf("单元%s-%d", tid, j % 3) }
            else chars = 500 + r % 1000
        } else if (k == 12) {
            cat = "external_training"
            if (r % 3 == 0) hours = 24 + r % 80
            else days = sprintf("%d.%d", 1 + r % 3, (r % 2) * 5)
        } else {
            cat = "project"
            level = lv[r % 4 + 1]
            work = sprintf("课题%s-%d", tid, j % 3)
            role = r % 4 == 0 ? "host" : r % 4 == 1 ? "main_writer" : r % 4 == 2 ? "participant" : ""
        }
        printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s-R%d\n", tid, date, cat, role,
            minutes, hours, days, chars, unit, lessons, level, grade, work, event, score, school, r
    }
}'
}

# record_also DIR SHEET COLUMN=VALUE...: records one activity with `xueshi-node record` on the
# node at DIR and, when that succeeds, appends the same row to SHEET, a mixed sheet kept as
# the oracle's copy of what the node holds. Values must not need CSV quoting. Sets RC, OUT, ERR.
record_also() {
    local dir=$1 sheet=$2 pair col cells=() args=()
    shift 2
    local -A value=()
    for pair in "$@"; do
        value[${pair%%=*}]=${pair#*=}
    done
    for col in "${MIXED_COLUMNS[@]}"; do
        cells+=("${value[$col]:-}")
        [ -n "${value[$col]:-}" ] && args+=("--${col/#teacher_id/teacher}" "${value[$col]}")
    done
    run "$NODE" record --dir "$dir" "${args[@]}"
    [ "$RC" -eq 0 ] || return 1
    (IFS=,; printf '%s\n' "${cells[*]}") >>"$sheet"
}

# hub_report_bare FILE: a `xueshi-hub report` summary FILE without its school_id and name
# columns (the first and third), every other byte as it was: what `xueshi certify` prints for
# the same records. Its first three cells must need no quoting.
hub_report_bare() {
    sed -e '1s/^\(\xEF\xBB\xBF\)\{0,1\}[^,]*,\([^,]*\),[^,]*,/\1\2,/' \
        -e '2,$s/^[^,]*,\([^,]*\),[^,]*,/\1,/' "$1"
}

# drop_name_column FILE: FILE without its second column, the teacher's name `xueshi-node
# totals` writes after teacher_id (the BOM and line ends kept; a name must hold no comma).
drop_name_column() {
    sed -e '1s/^\(\(\xEF\xBB\xBF\)\{0,1\}[^,]*\),[^,]*,/\1,/' -e '2,$s/^\([^,]*\),[^,]*,/\1,/' "$1"
}
