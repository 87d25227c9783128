/*
 * yg_error.h - error codes and the error record every fallible call fills.
 *
 * Functions that can fail because of the world (bad YAML, a dead socket, an
 * HTTP 500) return a negative yg_code (or NULL) and, when the caller passes a
 * yg_error_t, leave a readable message there.  Errors about a position in a
 * file carry file, line and column (1-based; 0 when unknown).
 */
#ifndef YG_ERROR_H
#define YG_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: 0 is success, failures are negative and nameable. */
typedef enum {
    YG_OK = 0,
    YG_ENOMEM = -1,       /* allocation failed */
    YG_EINVAL = -2,       /* invalid argument (programmer or caller error) */
    YG_EPARSE = -3,       /* malformed input text (YAML, JSON, msgpack, expression) */
    YG_ELIMIT = -4,       /* input exceeds a configured limit */
    YG_ENOTFOUND = -5,    /* file, key, thread or checkpoint does not exist */
    YG_EIO = -6,          /* operating-system I/O failure */
    YG_EVALIDATE = -7,    /* graph failed validation */
    YG_ETYPE = -8,        /* value has the wrong type for the operation */
    YG_ETEMPLATE = -9,    /* template syntax or render failure */
    YG_EEXPR = -10,       /* expression / condition failure */
    YG_ESTATE = -11,      /* required state missing */
    YG_ETIMEOUT = -12,    /* operation timed out */
    YG_ECANCELLED = -13,  /* run or request cancelled */
    YG_EPROTO = -14,      /* wire-protocol violation */
    YG_ELLM = -15,        /* provider call failed */
    YG_EUNSUPPORTED = -16, /* feature needs something this build lacks (e.g. Python) */
    YG_ECONCURRENT = -17, /* two tasks wrote one plain key in a superstep */
    YG_ESTEPLIMIT = -18,  /* run exceeded its superstep limit */
    YG_EBUSY = -19,       /* resource busy (thread already running, queue full) */
    YG_ETOOL = -20,       /* tool / shell command failed */
    YG_ESCHEMA = -21,     /* structured output failed schema validation */
    YG_ECLOSED = -22      /* runtime or connection is shutting down */
} yg_code_t;

#define YG_ERROR_MESSAGE_MAX 1024
#define YG_ERROR_FILE_MAX 512

/* An error record.  Zero-initialise it (yg_error_t err = {0};) before use. */
typedef struct yg_error {
    int code;                            /* a yg_code_t, YG_OK when clear */
    int line;                            /* 1-based; 0 when not about a file position */
    int column;                          /* 1-based; 0 when unknown */
    char file[YG_ERROR_FILE_MAX];        /* "" when not about a file */
    char message[YG_ERROR_MESSAGE_MAX];  /* one readable sentence, no trailing newline */
} yg_error_t;

/* The constant name of a code, e.g. "YG_EPARSE". */
const char *yg_strerror(int code);

/* Fill err (if not NULL) with code and a printf-style message; returns code. */
int yg_error_set(yg_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with a file position. file may be NULL. Returns code. */
int yg_error_set_at(yg_error_t *err, int code, const char *file, int line, int column,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Reset err to the cleared state. */
void yg_error_clear(yg_error_t *err);

/* Write "file:line:column: message" (or just "message") into buf; returns buf. */
char *yg_error_format(const yg_error_t *err, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
