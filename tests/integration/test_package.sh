#!/usr/bin/env bash
# test_package: what a county's IT person installs. `cmake --install` lays down the programs'
# policies, systemd units and example configs; tools/package builds the .debs xueshi-hub,
# xueshi-node and xueshi-common, lintian finds no error in them, their control files declare
# the libraries (dpkg-shlibdeps), the shared package at the exact version and the user's tools;
# unpacked into a scratch root (the real system untouched), every unit passes
# `systemd-analyze verify` and runs as the user xueshi, hardened; the maintainer scripts, run
# with their commands stubbed, make the user and /var/lib/xueshi and never delete a store.
#
# The package build (Release, prefix /usr) lives in XS_DEB_BUILD_DIR, by default deb/ in the
# build tree, and is rebuilt incrementally on later runs.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD=${XS_BUILD_DIR:-$(cd "$XS_BIN/.." && pwd)}
DEB_BUILD=${XS_DEB_BUILD_DIR:-$BUILD/deb}
UNITS="xueshi-hub.service xueshi-hub-web.service xueshi-node.service xueshi-node-web.service"

for tool in cmake cpack dpkg-deb dpkg-shlibdeps dpkg-buildflags lintian systemd-analyze gzip; do
    command -v "$tool" >/dev/null ||
        skip "$tool is not installed (tools/setup installs cmake, dpkg-dev, lintian, systemd)"
done
AS_ROOT=()
if [ "$(id -u)" != 0 ]; then
    command -v fakeroot >/dev/null || skip "not root and fakeroot is not installed"
    AS_ROOT=(fakeroot)
fi
[ -f "$BUILD/CMakeCache.txt" ] || die "no CMake build tree at $BUILD (XS_BIN's parent): set XS_BUILD_DIR"

VERSION=$("$XS_BIN/xueshi-hub" --version | awk '{ print $2 }')
DEB_VERSION=$VERSION-1

# ---- cmake --install into a scratch prefix -------------------------------------------------

PREFIX=$TMP/prefix
run env -u DESTDIR cmake --install "$BUILD" --prefix "$PREFIX"
check_rc "cmake --install $BUILD --prefix $PREFIX" 0
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }
datadir=$(cache CMAKE_INSTALL_DATADIR)
[ -n "$datadir" ] || datadir=$(cache CMAKE_INSTALL_DATAROOTDIR)
sysconfdir=$(cache CMAKE_INSTALL_SYSCONFDIR)
for f in "$XS_SOURCE_DIR"/schema/policies/*.ini; do
    name=$(basename "$f")
    check "installed policy $name is schema/policies/$name" \
        cmp -s "$f" "$PREFIX/${datadir:-share}/xueshi/policies/$name"
done
for u in $UNITS; do
    check "installed unit lib/systemd/system/$u" \
        cmp -s "$XS_SOURCE_DIR/packaging/systemd/$u" "$PREFIX/lib/systemd/system/$u"
done
for c in hub node; do
    check "installed example config ${sysconfdir:-etc}/xueshi/$c.conf" \
        cmp -s "$XS_SOURCE_DIR/packaging/conf/$c.conf" "$PREFIX/${sysconfdir:-etc}/xueshi/$c.conf"
done
check "installed docs include the guide" test -f "$PREFIX/share/doc/xueshi/guide.md"
check "a plain install carries no Debian copyright file" \
    test ! -e "$PREFIX/share/doc/xueshi-hub/copyright"

# ---- the example configs name the commands' own options ------------------------------------

# conf_keys FILE SECTION: the keys of SECTION ("" for the top level), commented-out examples
# ("#key = value") included.
conf_keys() {
    awk -v want="$2" '
        /^\[/ { sect = substr($0, 2, length($0) - 2); next }
        sect == want && match($0, /^#?[a-z][a-z-]* *=/) {
            k = substr($0, 1, RLENGTH); sub(/^#/, "", k); sub(/ *=$/, "", k); print k
        }' "$1"
}
for pair in xueshi-hub:hub xueshi-node:node; do
    prog=${pair%%:*}
    conf=$XS_SOURCE_DIR/packaging/conf/${pair#*:}.conf
    for cmd in run web; do
        usage=$("$XS_BIN/$prog" "$cmd" --help 2>&1)
        for key in $(conf_keys "$conf" "") $(conf_keys "$conf" "$cmd"); do
            check "${pair#*:}.conf: $key is an option of $prog $cmd" has "$usage" "--$key"
        done
    done
    check_eq "${pair#*:}.conf: dir is /var/lib/xueshi/${pair#*:}" "dir = /var/lib/xueshi/${pair#*:}" \
        "$(grep '^dir' "$conf")"
done

# ---- the .debs ---------------------------------------------------------------------------------

DEBDIR=$TMP/debs
run "${AS_ROOT[@]}" "$XS_SOURCE_DIR/tools/package" "$DEB_BUILD" "$DEBDIR"
check_rc "tools/package $DEB_BUILD $DEBDIR" 0
for p in xueshi-common xueshi-hub xueshi-node; do
    deb=$DEBDIR/${p}_${DEB_VERSION}_$(dpkg --print-architecture).deb
    check "tools/package printed $deb" has "$OUT" "$deb"
    check "tools/package built $(basename "$deb")" test -f "$deb"
done
DEBS=("$DEBDIR"/*.deb)
check_eq "three packages, nothing else" 3 "${#DEBS[@]}"

# The staging tree of the /usr build: /etc and /lib/systemd/system, not /usr/etc.
run env DESTDIR="$TMP/stage" cmake --install "$DEB_BUILD"
check_rc "DESTDIR=… cmake --install of the prefix-/usr build" 0
check "prefix /usr: the configs go to /etc/xueshi" test -f "$TMP/stage/etc/xueshi/hub.conf"
check "prefix /usr: no /usr/etc" test ! -e "$TMP/stage/usr/etc"
check "prefix /usr: units in /lib/systemd/system" \
    test -f "$TMP/stage/lib/systemd/system/xueshi-node.service"

for deb in "${DEBS[@]}"; do
    name=$(basename "$deb")
    run lintian --fail-on error --suppress-tags initial-upload-closes-no-bugs "$deb"
    check_eq "lintian --fail-on error passes $name" 0 "$RC"
    # Errors fail; warnings are shown, to be kept few.
    grep -E '^(E|W):' <<<"$OUT"
done

# field DEB FIELD: one control field of DEB.
field() { dpkg-deb -f "$1" "$2"; }
for p in xueshi-hub xueshi-node; do
    deb=$DEBDIR/${p}_${DEB_VERSION}_$(dpkg --print-architecture).deb
    [ -f "$deb" ] || continue
    depends=$(field "$deb" Depends)
    for want in "xueshi-common (= $DEB_VERSION)" libzmq5 liblmdb0 libsodium23 adduser \
        fonts-wqy-microhei; do
        check "$p Depends on $want" has "$depends" "$want"
    done
    check_eq "$p's version is the project's" "$DEB_VERSION" "$(field "$deb" Version)"
    check_eq "$p's conffiles: its /etc/xueshi file" "/etc/xueshi/${p#xueshi-}.conf" \
        "$(dpkg-deb --info "$deb" conffiles)"
    for s in postinst prerm postrm; do
        script=$(dpkg-deb --info "$deb" "$s")
        check "$p carries a $s" test -n "$script"
        check "$p's $s parses (sh -n)" sh -n <<<"$script"
        check "$p's $s parses (bash -n)" bash -n <<<"$script"
    done
done

# ---- unpacked into a scratch root ------------------------------------------------------------

ROOT=$TMP/root
mkdir -p "$ROOT"
for deb in "${DEBS[@]}"; do
    dpkg-deb -x "$deb" "$ROOT" || fail "dpkg-deb -x $(basename "$deb")"
done
for p in xueshi-common xueshi-hub xueshi-node; do
    check "$p ships its copyright" test -s "$ROOT/usr/share/doc/$p/copyright"
    check "$p ships changelog.Debian.gz" gzip -t "$ROOT/usr/share/doc/$p/changelog.Debian.gz"
done
for prog in xueshi-hub xueshi-node xueshi; do
    check_eq "the packaged $prog runs" "$prog $VERSION" "$("$ROOT/usr/bin/$prog" --version 2>&1)"
    check "$prog.1 is packaged compressed" gzip -t "$ROOT/usr/share/man/man1/$prog.1.gz"
done
check "the policies are in /usr/share/xueshi/policies" test -f "$ROOT/usr/share/xueshi/policies/dali.ini"
check "the guide is in /usr/share/doc/xueshi-common" test -f "$ROOT/usr/share/doc/xueshi-common/guide.md"

# systemd-analyze verify --root needs the targets the units hang off (sysinit.target...): the
# host's, copied in. The man pages its Documentation= check opens are the root's (MANPATH).
for d in /lib/systemd/system /usr/lib/systemd/system; do
    [ -f "$d/sysinit.target" ] || continue
    cp -n "$d"/*.target "$d"/*.slice "$ROOT/lib/systemd/system/" 2>/dev/null
    break
done
for u in $UNITS; do
    unit=$ROOT/lib/systemd/system/$u
    if [ ! -f "$unit" ]; then
        fail "no unit /lib/systemd/system/$u in the packages"
        continue
    fi
    run env MANPATH="$ROOT/usr/share/man" systemd-analyze verify --root="$ROOT" "/lib/systemd/system/$u"
    check_eq "systemd-analyze verify $u: exit 0, nothing said" "0 " "$RC $OUT$ERR"
    prog=${u%%-web.service}
    prog=${prog%.service}
    cmd=run
    [[ $u == *-web.service ]] && cmd=web
    conf=/etc/xueshi/${prog#xueshi-}.conf
    for line in "Type=notify" "NotifyAccess=main" "User=xueshi" "Group=xueshi" \
        "ExecStart=/usr/bin/$prog $cmd --config $conf" "Restart=on-failure" \
        "RestartSec=5" "ProtectSystem=strict" "ReadWritePaths=/var/lib/xueshi" \
        "NoNewPrivileges=yes" "PrivateTmp=yes" "CapabilityBoundingSet=" "ProtectHome=yes" \
        "PrivateDevices=yes" "UMask=0077" \
        "ConditionPathExists=/var/lib/xueshi/${prog#xueshi-}/${prog#xueshi-}.secret"; do
        check "$u has $line" grep -qx -- "$line" "$unit"
    done
    watchdog=60
    [ "$u" = xueshi-node.service ] && watchdog=120 # pings between sessions of up to 30 s
    check "$u has WatchdogSec=$watchdog" grep -qx -- "WatchdogSec=$watchdog" "$unit"
    check "$u's RestrictAddressFamilies keeps AF_NETLINK (ZeroMQ's getifaddrs)" \
        grep -qx "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK" "$unit"
    check "$u runs its program from the package" test -x "$ROOT/usr/bin/$prog"
    check "$u's config is in the package" test -f "$ROOT$conf"
    if [ $cmd = web ]; then
        check "$u starts after its sync unit" grep -qE "^After=.*\b$prog\.service\b" "$unit"
    fi
done
# The nightly backups: a oneshot service as the xueshi user, hardened, into the state
# directory, keeping 14; its timer catches up after a night the machine was off.
for prog in xueshi-hub xueshi-node; do
    kind=${prog#xueshi-}
    for u in $prog-backup.service $prog-backup.timer; do
        unit=$ROOT/lib/systemd/system/$u
        if [ ! -f "$unit" ]; then
            fail "no unit /lib/systemd/system/$u in the packages"
            continue
        fi
        run env MANPATH="$ROOT/usr/share/man" systemd-analyze verify --root="$ROOT" "/lib/systemd/system/$u"
        check_eq "systemd-analyze verify $u: exit 0, nothing said" "0 " "$RC $OUT$ERR"
    done
    unit=$ROOT/lib/systemd/system/$prog-backup.service
    for line in "Type=oneshot" "User=xueshi" "Group=xueshi" "ProtectSystem=strict" \
        "ReadWritePaths=/var/lib/xueshi" "StateDirectory=xueshi/backups" "NoNewPrivileges=yes" \
        "CapabilityBoundingSet=" "PrivateNetwork=yes" \
        "ExecStart=/usr/bin/$prog backup --config /etc/xueshi/$kind.conf --out /var/lib/xueshi/backups --keep 14" \
        "ConditionPathExists=/var/lib/xueshi/$kind/$kind.secret"; do
        check "$prog-backup.service has $line" grep -qx -- "$line" "$unit"
    done
    for line in "Persistent=true" "WantedBy=timers.target"; do
        check "$prog-backup.timer has $line" grep -qx -- "$line" "$ROOT/lib/systemd/system/$prog-backup.timer"
    done
    check "$prog-backup.timer runs daily" grep -qE "^OnCalendar=\*-\*-\* " \
        "$ROOT/lib/systemd/system/$prog-backup.timer"
done

# verify can fail: a unit whose program the root lacks is refused.
sed 's|^ExecStart=/usr/bin/xueshi-hub |ExecStart=/usr/bin/xueshi-absent |' \
    "$ROOT/lib/systemd/system/xueshi-hub.service" >"$ROOT/lib/systemd/system/xs-broken.service"
run env MANPATH="$ROOT/usr/share/man" systemd-analyze verify --root="$ROOT" /lib/systemd/system/xs-broken.service
check "systemd-analyze verify refuses a unit whose program is missing" test "$RC" -ne 0

# ---- the maintainer scripts, their commands stubbed -------------------------------------------

# Each script runs with /var/lib/xueshi and /run/systemd/system moved into the scratch tree and
# the commands that would change the system replaced by stubs that log their arguments.
STUBS=$TMP/stubs
SYS=$TMP/sys
mkdir -p "$STUBS" "$SYS"
stub() {
    printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n%s\n' "$1" "$SYS" "${2:-exit 0}" >"$STUBS/$1"
    chmod +x "$STUBS/$1"
}
stub adduser "touch \"$SYS/user\""
stub deluser "rm -f \"$SYS/user\""
stub delgroup
stub getent "[ -e \"$SYS/user\" ]"
stub chown
stub deb-systemd-helper
stub deb-systemd-invoke
stub systemctl
stub dpkg-statoverride "exit 1"
stub dpkg-query "cat \"$SYS/other\" 2>/dev/null"

# maint PACKAGE SCRIPT ARGS...: runs the package's maintainer script in the scratch system.
maint() {
    dpkg-deb --info "$DEBDIR/${1}_${DEB_VERSION}_$(dpkg --print-architecture).deb" "$2" |
        sed -e "s|/var/lib/xueshi|$SYS/var/lib/xueshi|g" -e "s|/run/systemd/system|$SYS/run|g" \
            >"$SYS/$2"
    : >"$SYS/calls"
    run env PATH="$STUBS:$PATH" sh "$SYS/$2" "${@:3}"
    CALLS=$(cat "$SYS/calls")
}

maint xueshi-hub postinst configure
check_rc "postinst configure (first install)" 0
check "postinst makes the system user xueshi with its group and home" \
    has "$CALLS" "adduser --system --quiet --group --home $SYS/var/lib/xueshi"
check_eq "postinst makes /var/lib/xueshi, mode 0750" 750 "$(stat -c %a "$SYS/var/lib/xueshi" 2>&1)"
check "postinst gives /var/lib/xueshi to xueshi" has "$CALLS" "chown xueshi:xueshi $SYS/var/lib/xueshi"
check "postinst enables both hub units" has "$CALLS" "deb-systemd-helper enable xueshi-hub-web.service"
check "postinst leaves systemctl alone without a running systemd (chroot)" \
    test -z "$(grep -E '^(systemctl|deb-systemd-invoke)' <<<"$CALLS")"
maint xueshi-hub postinst configure "$DEB_VERSION"
check_rc "postinst configure (upgrade, user present)" 0
check "postinst makes no second user" test -z "$(grep '^adduser' <<<"$CALLS")"
mkdir -p "$SYS/run"
maint xueshi-hub postinst configure "$DEB_VERSION"
check "under a running systemd, postinst reloads and restarts the units" \
    has "$CALLS" "deb-systemd-invoke restart xueshi-hub.service xueshi-hub-web.service"
maint xueshi-node prerm remove
check "under a running systemd, prerm stops the node's units" \
    has "$CALLS" "deb-systemd-invoke stop xueshi-node.service xueshi-node-web.service"
rmdir "$SYS/run"

# Purge with a store left: the store and the user stay.
mkdir -p "$SYS/var/lib/xueshi/hub"
echo "a county's records" >"$SYS/var/lib/xueshi/hub/data.mdb"
echo not-installed >"$SYS/other"
maint xueshi-hub postrm purge
check_rc "postrm purge" 0
check "postrm purge keeps the hub's store" test -f "$SYS/var/lib/xueshi/hub/data.mdb"
check "postrm purge keeps the user while a store is left" test -z "$(grep '^deluser' <<<"$CALLS")"
# Purge with nothing left but the other package still there: the user stays.
rm -rf "$SYS/var/lib/xueshi/hub"
echo config-files >"$SYS/other"
maint xueshi-hub postrm purge
check "postrm purge keeps the user while xueshi-node is on the system" \
    test -z "$(grep '^deluser' <<<"$CALLS")"
# Purge of the last package with nothing left: the empty directory and the user go.
echo not-installed >"$SYS/other"
maint xueshi-node postrm purge
check "postrm purge of the last package removes the user" has "$CALLS" "deluser --system --quiet xueshi"
check "postrm purge of the last package removes the empty /var/lib/xueshi" \
    test ! -e "$SYS/var/lib/xueshi"

finish
