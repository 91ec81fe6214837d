/* webauth: the rules both web servers start under (the hub's dashboard, the node's pages): a
 * listen address, loopback or HTTPS with a password, and the password file web-passwd writes. */
#ifndef XS_WEBAUTH_H
#define XS_WEBAUTH_H

#include "xs/err.h"
#include "xs/identity.h"

/* The password's file in a program's directory, and the shortest and longest password taken. */
#define XS_WEBAUTH_FILE "web.passwd"
#define XS_WEBAUTH_MIN_CHARS 8
#define XS_WEBAUTH_MAX_BYTES 1024

/* Checks how a web server was asked to start: listen is HOST:PORT; cert and key come together;
 * an address other than loopback has both and a password set in DIR (hash gets it). *loopback
 * says which. 0, or XS_EXIT_USAGE after one line naming program ("xueshi-node web") and what
 * to do (web-passwd, --tls-cert). */
int xs_webauth_check(const char *program, const char *dir, const char *listen, const char *cert,
                     const char *key, int *loopback, char hash[XS_PWHASH_MAX]);

/* The web-passwd command over DIR (already checked to be the program's): reads a password from
 * the terminal twice with echo off, or once from stdin, refuses one shorter than
 * XS_WEBAUTH_MIN_CHARS characters or longer than XS_WEBAUTH_MAX_BYTES, and writes its
 * xs_identity_pwhash to DIR/XS_WEBAUTH_FILE (mode 0600, synced, renamed into place). Says what
 * it did as program; returns the exit code (0, XS_EXIT_USAGE, XS_EXIT_FAIL). */
int xs_webauth_passwd(const char *program, const char *dir);

#endif
