/* service: what a long-running process tells its service manager (systemd's sd_notify:
 * readiness, status, stopping, watchdog pings) and the structured entries it writes to the
 * journal. Built without libsystemd, every call is the honest no-op of a process no service
 * manager watches. */
#ifndef XS_SERVICE_H
#define XS_SERVICE_H

#include <stdint.h>

/* Syslog priorities of journal entries and events (sd-journal uses these numbers). */
#define XS_PRIORITY_ERR 3
#define XS_PRIORITY_WARNING 4
#define XS_PRIORITY_NOTICE 5
#define XS_PRIORITY_INFO 6

/* Tells the service manager the process is ready (READY=1) and what it is doing (STATUS=,
 * when status is not NULL): for a Type=notify unit, systemd counts the start done only now.
 * Nothing happens when no manager listens ($NOTIFY_SOCKET unset) or without libsystemd. */
void xs_service_ready(const char *status);

/* Updates the one-line status `systemctl status` shows (STATUS=). */
void xs_service_status(const char *status);

/* Tells the service manager the process is stopping (STOPPING=1): on SIGTERM, before the
 * work that ends it. */
void xs_service_stopping(void);

/* The watchdog interval the manager expects pings within (WatchdogSec=), in microseconds; 0
 * when no watchdog is enabled for this process (sd_watchdog_enabled), or without libsystemd. */
uint64_t xs_service_watchdog_usec(void);

/* Sends a watchdog ping (WATCHDOG=1) when half the interval has passed since the last one;
 * nothing when no watchdog is enabled. Cheap enough to call from every turn of a loop; call
 * it from one thread only. A loop must turn at least every half interval: a process stuck
 * longer is restarted by the manager. */
void xs_service_watchdog(void);

/* Writes one journal entry (sd_journal_send): MESSAGE=message, PRIORITY=priority (syslog
 * 0..7), SYSLOG_IDENTIFIER=program, and, when who is not NULL, XUESHI_SCHOOL= its school:
 * who is "SCHOOL", or "SCHOOL #N" for enrolled node number N, which adds XUESHI_NODE=N.
 * Returns 1 when the journal took it, 0 when it did not (or without libsystemd): the caller
 * then writes the line elsewhere. Strings are borrowed for the call. */
int xs_service_journal(int priority, const char *program, const char *who, const char *message);

/* 1 when this process's stderr is connected to the journal (systemd sets JOURNAL_STREAM to
 * "DEVICE:INODE" of it, and the two match fstat(2) of file descriptor 2) and entries can be
 * sent to it; 0 otherwise (a terminal, a file, a pipe, or without libsystemd). */
int xs_service_under_journal(void);

#endif
