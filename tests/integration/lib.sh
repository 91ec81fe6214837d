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
