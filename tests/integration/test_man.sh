#!/usr/bin/env bash
# test_man: the manual pages keep up with the programs: every command a program's --help lists
# has a heading in its page naming every option the command's usage names, a page documents no
# command its program refuses, the exit codes and the version are the programs' own, groff
# renders each page without a warning, and `cmake --install` puts the three programs and the
# three pages under the prefix.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MAN_DIR=$XS_SOURCE_DIR/docs/man
# The build tree holds bin/ (XS_BIN) and the install script; XS_BUILD_DIR overrides.
BUILD=${XS_BUILD_DIR:-$(cd "$XS_BIN/.." && pwd)}
PROGRAMS="xueshi-node xueshi-hub xueshi"

# commands PROGRAM: the command names PROGRAM --help lists (two-space indent, then a name).
commands() {
    "$XS_BIN/$1" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'
}

# plain PAGE: the page's source with roff's escapes for a minus, a break point and a
# no-break marker taken out, so that "\-\-dir" reads "--dir".
plain() {
    sed -e 's/\\-/-/g' -e 's/\\://g' -e 's/\\%//g' "$1"
}

# section PAGE NAME: the lines of section NAME (after ".SH NAME", before the next ".SH").
section() {
    plain "$1" | awk -v want=".SH $2" '
        /^\.SH/ { on = ($0 == want); next }
        on'
}

# headings PAGE: the command headings under COMMANDS: the first bold word of each .TP tag.
headings() {
    section "$1" COMMANDS | awk '
        prev == ".TP" && match($0, /^\\fB[a-z][a-z-]*\\fR/) { print substr($0, 4, RLENGTH - 6) }
        { prev = $0 }'
}

# entry PAGE COMMAND: the COMMANDS entry of COMMAND: its heading up to the next heading.
entry() {
    section "$1" COMMANDS | awk -v cmd="$2" '
        prev == ".TP" && match($0, /^\\fB[a-z][a-z-]*\\fR/) { on = (substr($0, 4, RLENGTH - 6) == cmd) }
        on { print }
        { prev = $0 }'
}

# usage_options PROGRAM COMMAND: the options (--name) the command's --help names above its exit
# codes, but --help itself.
usage_options() {
    "$XS_BIN/$1" "$2" --help 2>/dev/null | sed '/^退出码 (exit codes):$/,$d' |
        grep -oE -- '--[a-z][a-z-]*' | grep -vx -- '--help' | sort -u
}

# exit_pairs: "CODE TEXT" lines from a program's --help (stdin), in order.
exit_pairs() {
    sed -n '/^退出码 (exit codes):$/,$ s/^  \([0-9]\)  \(.*\)$/\1 \2/p'
}

# ---- each page against its program ----------------------------------------------------------

for p in $PROGRAMS; do
    page=$MAN_DIR/$p.1
    if [ ! -f "$page" ]; then
        fail "$p: no manual page docs/man/$p.1"
        continue
    fi
    first=$(head -n 1 "$page")
    check_eq "$p.1 declares its encoding on the first line" '.\" -*- coding: UTF-8 -*-' "$first"

    listed=$(commands "$p")
    documented=$(headings "$page")
    check "$p --help lists commands" test -n "$listed"
    for c in $listed; do
        if ! grep -qx -- "$c" <<<"$documented"; then
            fail "$p.1: command \"$c\" (in $p --help) has no heading under COMMANDS (.TP then \\fB$c\\fR)"
            continue
        fi
        pass "$p.1 documents $c"
        text=$(entry "$page" "$c")
        missing=""
        for o in $(usage_options "$p" "$c"); do
            grep -qE -- "$o([^a-z-]|\$)" <<<"$text" || missing="$missing $o"
        done
        check_eq "$p.1: the $c entry names every option of \"$p $c --help\"" "" "${missing# }"
    done
    for c in $documented; do
        grep -qx -- "$c" <<<"$listed" && continue
        if "$XS_BIN/$p" "$c" --help >/dev/null 2>&1; then
            pass "$p.1 documents $c, which $p runs"
        else
            fail "$p.1 documents command \"$c\", which $p does not have (\"$p $c --help\" fails)"
        fi
    done

    want=$("$XS_BIN/$p" --help | exit_pairs)
    got=$(section "$page" "EXIT STATUS" | awk '
        prev ~ /^\.B [0-9]$/ { print substr(prev, 4) " " $0 }
        { prev = $0 }')
    check_eq "$p --help lists exit codes 0-6" "0 1 2 3 4 5 6" "$(cut -d' ' -f1 <<<"$want" | tr '\n' ' ' | sed 's/ $//')"
    check_eq "$p.1: EXIT STATUS says codes 0-6 as $p --help does" "$want" "$got"

    version=$("$XS_BIN/$p" --version | awk '{ print $2 }')
    th=$(grep -m1 '^\.TH ' "$page")
    check "$p.1: .TH carries version $version ($th)" has "$th" "\"xueshi $version\""

    for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" FILES EXAMPLES "SEE ALSO"; do
        check "$p.1 has section $s" grep -qx ".SH $s" "$page"
    done
done

# ---- groff renders each page cleanly --------------------------------------------------------

# -k runs preconv, as man(1) does: without it troff reads UTF-8 as Latin-1 and warns at each
# Chinese byte. The narrow width is a terminal's 60 columns.
if ! command -v groff >/dev/null; then
    fail "groff is not installed: apt-get install groff-base (tools/setup lists it)"
else
    for p in $PROGRAMS; do
        [ -f "$MAN_DIR/$p.1" ] || continue
        for ll in "" -rLL=58n; do
            warn=$(groff -k -man -Tutf8 -ww -z $ll "$MAN_DIR/$p.1" 2>&1)
            check_eq "groff renders $p.1${ll:+ ($ll)} with no warnings" "" "$warn"
        done
        out=$(groff -k -man -Tutf8 "$MAN_DIR/$p.1" 2>/dev/null | sed 's/.\x08//g')
        check "$p.1 renders its Chinese text" has "$out" "成功 (done)"
    done
fi

# ---- cmake --install ------------------------------------------------------------------------

PREFIX=$TMP/prefix
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    fail "no CMake build tree at $BUILD (XS_BIN's parent): set XS_BUILD_DIR"
elif ! command -v cmake >/dev/null; then
    fail "cmake is not installed"
else
    cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
    bindir=$(cache CMAKE_INSTALL_BINDIR)
    # GNUInstallDirs caches MANDIR empty, meaning DATAROOTDIR/man.
    mandir=$(cache CMAKE_INSTALL_MANDIR)
    [ -n "$mandir" ] || mandir=$(cache CMAKE_INSTALL_DATAROOTDIR)/man
    check "the build tree includes GNUInstallDirs (CMAKE_INSTALL_BINDIR=$bindir)" test -n "$bindir"
    run env -u DESTDIR cmake --install "$BUILD" --prefix "$PREFIX"
    check_rc "cmake --install $BUILD --prefix $PREFIX" 0
    for p in $PROGRAMS; do
        bin=$PREFIX/${bindir:-bin}/$p
        if [ -x "$bin" ]; then
            check_eq "installed $p runs" "$p $("$XS_BIN/$p" --version | awk '{ print $2 }')" \
                "$("$bin" --version 2>&1)"
        else
            fail "cmake --install put no program $p in ${bindir:-bin}/ (install(TARGETS ...))"
        fi
        man=$PREFIX/${mandir:-share/man}/man1/$p.1
        if [ -f "$man" ]; then
            check "installed $p.1 is docs/man/$p.1" cmp -s "$man" "$MAN_DIR/$p.1"
        else
            fail "cmake --install put no page $p.1 in ${mandir:-share/man}/man1/ (install(FILES ...))"
        fi
    done
fi

finish
