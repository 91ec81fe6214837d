/* err: the project's one error enum, its messages, and the log line every wrapper writes. */
#ifndef XS_ERR_H
#define XS_ERR_H

#define XS_MUST_USE __attribute__((warn_unused_result))

typedef enum xs_err {
    XS_OK = 0,
    XS_ENOMEM = -1,     /* out of memory */
    XS_EINVAL = -2,     /* bad argument or value given by a user */
    XS_EMALFORMED = -3, /* bytes that do not parse */
    XS_ETOOBIG = -4,    /* over a size limit */
    XS_EIO = -5,        /* file or device error */
    XS_ENOTFOUND = -6,  /* no such item */
    XS_EEXIST = -7,     /* item already exists */
    XS_EFULL = -8,      /* disk full */
    XS_EVERSION = -9,   /* unsupported format version */
    XS_ECRYPTO = -10,   /* signature or authentication failed */
    XS_ESTORE = -11,    /* storage engine error */
    XS_EPOLICY = -12,   /* policy file refused */
    XS_ECSV = -13,      /* CSV that cannot be read */
    XS_EPERM = -14,     /* permission denied */
    XS_ECORRUPT = -15,  /* stored data fails its own checks */
    XS_ENET = -16,      /* network error */
    XS_ETIMEOUT = -17,  /* gave up waiting */
    XS_EREFUSED = -18,  /* the peer refused */
    XS_EFORK = -19,     /* two different signed batches claim the same sequence numbers */
    XS_EBUSY = -20,     /* resource held by another process */
    XS_EAGAIN = -21,    /* the peer failed for now (its disk is full…): try again later */
} xs_err;

/* Returns a static bilingual message for err ("磁盘已满 (disk full)"); never NULL. */
const char *xs_strerror(xs_err err);

/* Names the program in every log line from now on ("xueshi-node"); the default is "xueshi".
 * name is borrowed for the life of the process. */
void xs_log_program(const char *name);

/* The name xs_log_program set ("xueshi" until set); static. */
const char *xs_log_program_name(void);

/* Hands every later xs_log and xs_log_err line to hook instead of stderr: the message without
 * the "PROGRAM: " prefix, and error 1 for xs_log_err (0 for xs_log). A long-running process
 * routes them into its events (xs/log.h); NULL restores stderr. hook may run on any thread. */
void xs_log_hook(void (*hook)(int error, const char *message));

/* Writes "PROGRAM: <what>: <xs_strerror(err)>" to stderr as one line. */
void xs_log_err(xs_err err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes one formatted line to stderr, prefixed "PROGRAM: ". */
void xs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
