/*
 * yg_sse.h - incremental parser for Server-Sent Events (text/event-stream,
 * WHATWG HTML "event stream interpretation") (internal).
 *
 * Feed it the response body in chunks of any size, split anywhere (inside a
 * CRLF, inside the UTF-8 BOM, inside a field name); every complete event is
 * delivered through the callback in order.  Lines end with CRLF, LF or CR.
 * Multi-line `data:` fields are joined with "\n"; `:` lines are comments;
 * `event:` names the event (default "message"); `id:` sets the last event
 * id (ignored when it contains NUL); `retry:` sets the reconnection time
 * when it is all ASCII digits; unknown fields are ignored; a line without a
 * colon is a field with an empty value.  An event is dispatched by a blank
 * line, and only when it carries data.  A partial event at end of stream is
 * discarded (yg_sse_finish reports whether there was one).
 */
#ifndef YG_SSE_H
#define YG_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bound on one line and on one event's accumulated data: a misbehaving
 * server cannot make us buffer without limit. */
#define YG_SSE_MAX_LINE (8u * 1024u * 1024u)
#define YG_SSE_MAX_EVENT (16u * 1024u * 1024u)

typedef struct yg_sse yg_sse_t;

/* One dispatched event; every pointer is borrowed for the callback only. */
typedef struct yg_sse_event {
    const char *event;   /* event type, "message" when no `event:` field */
    const char *data;    /* NUL-terminated; may contain "\n" */
    size_t data_len;
    const char *id;      /* last event id ("" when none) */
    int64_t retry_ms;    /* last valid `retry:` value, -1 when none */
} yg_sse_event_t;

/* Return 0 to continue, non-zero to stop parsing: yg_sse_feed then returns
 * that value at once (the rest of the chunk is not examined). */
typedef int(yg_sse_event_fn)(void *arg, const yg_sse_event_t *event);

/* NULL on ENOMEM. */
yg_sse_t *yg_sse_new(yg_sse_event_fn *on_event, void *arg);
void yg_sse_destroy(yg_sse_t **self_p);

/* Parse a chunk.  Returns 0, the callback's non-zero value, or YG_ELIMIT
 * (a line or event over the bounds above) / YG_ENOMEM; after a non-zero
 * return the parser must not be fed again. */
int yg_sse_feed(yg_sse_t *self, const char *data, size_t len);

/* End of stream: true when an unterminated line or an undispatched event
 * was pending (and has been discarded). */
bool yg_sse_finish(yg_sse_t *self);

/* Forget all state, as for a new stream (the last event id is kept, as a
 * reconnecting client would). */
void yg_sse_reset(yg_sse_t *self);

#endif
