/*
 * yg_errrec.c - spec 2.4 error records.
 */
#include "yg_errrec.h"

#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "yamlgraph/yg_error.h"

/* "2025-01-31T12:34:56.123456" + NUL, with room to spare. */
#define YG_ERRREC_TIMESTAMP_MAX 48

static void errrec_timestamp(char *buf, size_t size)
{
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    time_t secs = tv.tv_sec;
    localtime_r(&secs, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, size, "%s.%06ld", date, (long)tv.tv_usec);
}

yg_value_t *yg_error_record(const char *type, const char *message, const char *node,
                            bool retryable, const char *exception_type)
{
    char stamp[YG_ERRREC_TIMESTAMP_MAX];
    errrec_timestamp(stamp, sizeof stamp);
    yg_value_t *rec = yg_map_new();
    yg_value_t *details = yg_map_new();
    if (!rec || !details)
        goto fail;
    if (yg_map_set(details, "exception_type", yg_str_new(exception_type ? exception_type : "Error")))
        goto fail;
    if (yg_map_set(rec, "type", yg_str_new(type ? type : YG_ERRTYPE_UNKNOWN))
        || yg_map_set(rec, "message", yg_str_new(message ? message : ""))
        || yg_map_set(rec, "node", yg_str_new(node ? node : ""))
        || yg_map_set(rec, "timestamp", yg_str_new(stamp))
        || yg_map_set(rec, "retryable", yg_bool_new(retryable)))
        goto fail;
    /* yg_map_set consumes the value even when it fails. */
    yg_value_t *owned = details;
    details = NULL;
    if (yg_map_set(rec, "details", owned))
        goto fail;
    return rec;
fail:
    yg_value_destroy(&details);
    yg_value_destroy(&rec);
    return NULL;
}

const char *yg_error_type_for_code(int code)
{
    switch (code) {
    case YG_ELLM:
    case YG_ETIMEOUT:
        return YG_ERRTYPE_LLM;
    case YG_ESCHEMA:
        return YG_ERRTYPE_VALIDATION;
    case YG_ETEMPLATE:
    case YG_ENOTFOUND:
        return YG_ERRTYPE_PROMPT;
    case YG_ESTATE:
        return YG_ERRTYPE_STATE;
    default:
        return YG_ERRTYPE_UNKNOWN;
    }
}

bool yg_error_code_retryable(int code)
{
    return code == YG_ELLM || code == YG_ETIMEOUT;
}
