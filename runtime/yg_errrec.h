/*
 * yg_errrec.h - error records written into the `errors` state key (spec 2.4).
 *
 * A record is the map {type, message, node, timestamp, retryable,
 * details: {exception_type}}.  `type` is one of the YG_ERRTYPE_* names;
 * the C runtime maps its native failure categories onto them ([C] 2.4).
 */
#ifndef YG_ERRREC_H
#define YG_ERRREC_H

#include <stdbool.h>

#include "yamlgraph/yg_value.h"

#define YG_ERRTYPE_LLM "llm_error"
#define YG_ERRTYPE_VALIDATION "validation_error"
#define YG_ERRTYPE_PROMPT "prompt_error"
#define YG_ERRTYPE_STATE "state_error"
#define YG_ERRTYPE_UNKNOWN "unknown_error"

/* A new error record map (NULL on ENOMEM).  `timestamp` is the local
 * date-time in ISO 8601 with microseconds, like Python's
 * datetime.now().isoformat().  exception_type NULL -> "Error". */
yg_value_t *yg_error_record(const char *type, const char *message, const char *node,
                            bool retryable, const char *exception_type);

/* The record type for a native error code ([C] mapping of spec 2.4):
 * YG_ELLM / YG_ETIMEOUT -> llm_error, YG_ESCHEMA -> validation_error,
 * YG_ETEMPLATE / YG_ENOTFOUND (prompt file) -> prompt_error, YG_ESTATE ->
 * state_error, everything else -> unknown_error. */
const char *yg_error_type_for_code(int code);

/* Is a failure of this code worth retrying (provider-level)? */
bool yg_error_code_retryable(int code);

#endif
