/*
 * yg_log.c - one log line through CZMQ's zsys log (see yg_log.h).
 */
#include "yg_log.h"

#include <czmq.h>
#include <stdio.h>

#include "yamlgraph/yamlgraph.h"

void yg_logv(int max_level, int level, const char *who, const char *fmt, va_list ap)
{
    if (level > max_level)
        return;
    char buf[YG_LOG_LINE_MAX];
    vsnprintf(buf, sizeof buf, fmt, ap);
    const char *sep = who && who[0] ? " " : "";
    who = who ? who : "";
    if (level <= YG_LOG_ERROR)
        zsys_error("yamlgraph%s%s: %s", sep, who, buf);
    else if (level == YG_LOG_WARNING)
        zsys_warning("yamlgraph%s%s: %s", sep, who, buf);
    else if (level == YG_LOG_INFO)
        zsys_info("yamlgraph%s%s: %s", sep, who, buf);
    else
        zsys_debug("yamlgraph%s%s: %s", sep, who, buf);
}
