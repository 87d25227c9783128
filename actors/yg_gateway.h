/*
 * yg_gateway.h - internals of the gateway actor shared with its tests.
 *
 * The public embedding API is include/yamlgraph/yg_gateway_api.h; the wire
 * protocol is docs/protocol.md.
 */
#ifndef YG_GATEWAY_H
#define YG_GATEWAY_H

#include <stddef.h>

#include "yamlgraph/yg_gateway_api.h"

/* Field limits of the public protocol (docs/protocol.md, "Limits"). */
#define YG_GW_ID_MAX 256            /* bytes in a string request id */
#define YG_GW_GRAPH_MAX 4096        /* bytes in a graph name, hash or path */
#define YG_GW_THREAD_MAX 1024       /* bytes in a thread id (the checkpoint limit) */
#define YG_GW_STEP_LIMIT_MAX 1000000 /* largest step_limit accepted */

/* Find the request id of a raw request frame without decoding it: the
 * value of key "id" in the top-level msgpack map, when it is a string of at
 * most YG_GW_ID_MAX bytes or an integer.  Allocation-free and iterative
 * (safe on hostile, deep or oversized frames).  Returns a new value, or
 * NULL when no such id can be read. */
yg_value_t *yg_gateway_scan_id(const void *data, size_t size);

#endif
