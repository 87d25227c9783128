/*
 * yg_error.c - error codes and error records.
 */
#include "yamlgraph/yg_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *yg_strerror(int code)
{
    switch (code) {
    case YG_OK: return "YG_OK";
    case YG_ENOMEM: return "YG_ENOMEM";
    case YG_EINVAL: return "YG_EINVAL";
    case YG_EPARSE: return "YG_EPARSE";
    case YG_ELIMIT: return "YG_ELIMIT";
    case YG_ENOTFOUND: return "YG_ENOTFOUND";
    case YG_EIO: return "YG_EIO";
    case YG_EVALIDATE: return "YG_EVALIDATE";
    case YG_ETYPE: return "YG_ETYPE";
    case YG_ETEMPLATE: return "YG_ETEMPLATE";
    case YG_EEXPR: return "YG_EEXPR";
    case YG_ESTATE: return "YG_ESTATE";
    case YG_ETIMEOUT: return "YG_ETIMEOUT";
    case YG_ECANCELLED: return "YG_ECANCELLED";
    case YG_EPROTO: return "YG_EPROTO";
    case YG_ELLM: return "YG_ELLM";
    case YG_EUNSUPPORTED: return "YG_EUNSUPPORTED";
    case YG_ECONCURRENT: return "YG_ECONCURRENT";
    case YG_ESTEPLIMIT: return "YG_ESTEPLIMIT";
    case YG_EBUSY: return "YG_EBUSY";
    case YG_ETOOL: return "YG_ETOOL";
    case YG_ESCHEMA: return "YG_ESCHEMA";
    case YG_ECLOSED: return "YG_ECLOSED";
    default: return "YG_EUNKNOWN";
    }
}

static void error_vset(yg_error_t *err, int code, const char *file, int line, int column,
                       const char *fmt, va_list ap)
{
    err->code = code;
    err->line = line;
    err->column = column;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    vsnprintf(err->message, sizeof err->message, fmt, ap);
}

int yg_error_set(yg_error_t *err, int code, const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, NULL, 0, 0, fmt, ap);
    va_end(ap);
    return code;
}

int yg_error_set_at(yg_error_t *err, int code, const char *file, int line, int column,
                    const char *fmt, ...)
{
    if (!err)
        return code;
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, file, line, column, fmt, ap);
    va_end(ap);
    return code;
}

void yg_error_clear(yg_error_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

char *yg_error_format(const yg_error_t *err, char *buf, size_t size)
{
    if (!buf || size == 0)
        return buf;
    if (!err) {
        buf[0] = '\0';
        return buf;
    }
    if (err->file[0] && err->line > 0)
        snprintf(buf, size, "%s:%d:%d: %s", err->file, err->line,
                 err->column > 0 ? err->column : 1, err->message);
    else if (err->file[0])
        snprintf(buf, size, "%s: %s", err->file, err->message);
    else
        snprintf(buf, size, "%s", err->message);
    return buf;
}
