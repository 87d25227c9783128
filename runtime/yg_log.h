/*
 * yg_log.h - one log line through CZMQ's zsys log (stderr or syslog), at a
 * yamlgraph log level (YG_LOG_ERROR..YG_LOG_DEBUG, yamlgraph.h).  Shared by
 * the actors so their lines look alike: "yamlgraph <who>: <message>".
 */
#ifndef YG_LOG_H
#define YG_LOG_H

#include <stdarg.h>

/* Longest message kept; the rest is cut. */
#define YG_LOG_LINE_MAX 2048

/* Log fmt/ap at `level` when level <= max_level.  `who` names the speaker
 * ("gateway", "worker w1"); NULL or "" for the coordinator. */
void yg_logv(int max_level, int level, const char *who, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
