/* err: messages for xs_err and the stderr log line. */
#include "xs/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *xs_strerror(xs_err err) {
    switch (err) {
    case XS_OK:
        return "成功 (ok)";
    case XS_ENOMEM:
        return "内存不足 (out of memory)";
    case XS_EINVAL:
        return "参数无效 (invalid value)";
    case XS_EMALFORMED:
        return "数据格式错误 (malformed data)";
    case XS_ETOOBIG:
        return "超出大小限制 (too large)";
    case XS_EIO:
        return "读写错误 (I/O error)";
    case XS_ENOTFOUND:
        return "未找到 (not found)";
    case XS_EEXIST:
        return "已存在 (already exists)";
    case XS_EFULL:
        return "磁盘已满 (disk full)";
    case XS_EVERSION:
        return "不支持的格式版本 (unsupported format version)";
    case XS_ECRYPTO:
        return "签名校验失败 (signature check failed)";
    case XS_ESTORE:
        return "数据库错误 (storage error)";
    case XS_EPOLICY:
        return "认定规则文件有误 (policy refused)";
    case XS_ECSV:
        return "CSV 文件无法读取 (unreadable CSV)";
    case XS_EPERM:
        return "没有权限 (permission denied)";
    case XS_ECORRUPT:
        return "数据已损坏 (corrupt data)";
    case XS_ENET:
        return "网络错误 (network error)";
    case XS_ETIMEOUT:
        return "超时 (timed out)";
    case XS_EREFUSED:
        return "对方拒绝 (refused by peer)";
    case XS_EFORK:
        return "批次分叉 (forked batch chain)";
    case XS_EBUSY:
        return "正被其他进程使用 (in use by another process)";
    case XS_EAGAIN:
        return "对方暂时无法处理，请稍后重试 (the peer failed for now; try again later)";
    }
    return "未知错误 (unknown error)";
}

static const char *s_program = "xueshi";
static void (*s_hook)(int error, const char *message);

/* Longest line handed to the hook, in bytes: longer ones are cut. */
#define S_HOOK_LINE_MAX 2048

void xs_log_program(const char *name) {
    s_program = name;
}

const char *xs_log_program_name(void) {
    return s_program;
}

void xs_log_hook(void (*hook)(int error, const char *message)) {
    s_hook = hook;
}

void xs_log_err(xs_err err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (s_hook) {
        char line[S_HOOK_LINE_MAX];
        int n = vsnprintf(line, sizeof line, fmt, ap);
        if (n >= 0 && (size_t)n < sizeof line)
            snprintf(line + n, sizeof line - (size_t)n, ": %s", xs_strerror(err));
        va_end(ap);
        s_hook(1, line);
        return;
    }
    fprintf(stderr, "%s: ", s_program);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, ": %s\n", xs_strerror(err));
}

void xs_log(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (s_hook) {
        char line[S_HOOK_LINE_MAX];
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        s_hook(0, line);
        return;
    }
    fprintf(stderr, "%s: ", s_program);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
