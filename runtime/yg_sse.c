/*
 * yg_sse.c - incremental Server-Sent Events parser (see yg_sse.h).
 */
#include "yg_sse.h"

#include <stdlib.h>
#include <string.h>

#include "yamlgraph/yg_error.h"

/* A growable byte buffer, always NUL-terminated when allocated. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} sse_buf_t;

struct yg_sse {
    yg_sse_event_fn *on_event;
    void *arg;
    sse_buf_t line;
    sse_buf_t data;
    sse_buf_t event;
    sse_buf_t id;
    int64_t retry_ms;
    size_t bom_matched;  /* bytes of the UTF-8 BOM seen at stream start */
    bool bom_done;       /* past the point where a BOM may appear */
    bool skip_lf;        /* the last chunk ended in CR: a leading LF belongs to it */
};

static const unsigned char SSE_BOM[3] = {0xEF, 0xBB, 0xBF};

static int buf_append(sse_buf_t *b, const char *s, size_t n, size_t max)
{
    if (n > max || b->len > max - n)
        return YG_ELIMIT;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            return YG_ENOMEM;
        b->data = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return YG_OK;
}

static void buf_clear(sse_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void buf_free(sse_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

yg_sse_t *yg_sse_new(yg_sse_event_fn *on_event, void *arg)
{
    if (!on_event)
        return NULL;
    yg_sse_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->on_event = on_event;
    self->arg = arg;
    self->retry_ms = -1;
    return self;
}

void yg_sse_destroy(yg_sse_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_sse_t *self = *self_p;
    buf_free(&self->line);
    buf_free(&self->data);
    buf_free(&self->event);
    buf_free(&self->id);
    free(self);
    *self_p = NULL;
}

static int sse_dispatch(yg_sse_t *self)
{
    if (self->data.len == 0) {
        /* No data: the event is dropped, its type forgotten (WHATWG). */
        buf_clear(&self->event);
        return 0;
    }
    /* The data buffer ends with the "\n" added after each data line. */
    self->data.len--;
    self->data.data[self->data.len] = '\0';
    yg_sse_event_t ev = {
        .event = self->event.len ? self->event.data : "message",
        .data = self->data.data,
        .data_len = self->data.len,
        .id = self->id.data ? self->id.data : "",
        .retry_ms = self->retry_ms,
    };
    int rc = self->on_event(self->arg, &ev);
    buf_clear(&self->data);
    buf_clear(&self->event);
    return rc;
}

static bool field_is(const char *field, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(field, name, len) == 0;
}

static int sse_field(yg_sse_t *self, const char *field, size_t flen, const char *value,
                     size_t vlen)
{
    if (field_is(field, flen, "data")) {
        int rc = buf_append(&self->data, value, vlen, YG_SSE_MAX_EVENT - 1);
        return rc ? rc : buf_append(&self->data, "\n", 1, YG_SSE_MAX_EVENT);
    }
    if (field_is(field, flen, "event")) {
        buf_clear(&self->event);
        return buf_append(&self->event, value, vlen, YG_SSE_MAX_LINE);
    }
    if (field_is(field, flen, "id")) {
        if (memchr(value, '\0', vlen))
            return 0;
        buf_clear(&self->id);
        return buf_append(&self->id, value, vlen, YG_SSE_MAX_LINE);
    }
    if (field_is(field, flen, "retry")) {
        if (vlen == 0 || vlen > 18)  /* 18 digits cannot overflow int64 */
            return 0;
        int64_t ms = 0;
        for (size_t i = 0; i < vlen; i++) {
            if (value[i] < '0' || value[i] > '9')
                return 0;
            ms = ms * 10 + (value[i] - '0');
        }
        self->retry_ms = ms;
    }
    return 0;  /* unknown fields are ignored */
}

static int sse_line(yg_sse_t *self)
{
    const char *line = self->line.data ? self->line.data : "";
    size_t len = self->line.len;
    int rc;
    if (len == 0)
        rc = sse_dispatch(self);
    else if (line[0] == ':')
        rc = 0;  /* comment */
    else {
        const char *colon = memchr(line, ':', len);
        if (!colon) {
            rc = sse_field(self, line, len, "", 0);
        } else {
            size_t flen = (size_t)(colon - line);
            const char *value = colon + 1;
            size_t vlen = len - flen - 1;
            if (vlen && value[0] == ' ') {
                value++;
                vlen--;
            }
            rc = sse_field(self, line, flen, value, vlen);
        }
    }
    buf_clear(&self->line);
    return rc;
}

/* Consume the leading bytes that may be (part of) a BOM.  Returns how many
 * input bytes were consumed. */
static size_t sse_skip_bom(yg_sse_t *self, const char *data, size_t len, int *rc)
{
    size_t i = 0;
    *rc = 0;
    while (!self->bom_done && i < len) {
        if ((unsigned char)data[i] == SSE_BOM[self->bom_matched]) {
            i++;
            if (++self->bom_matched == sizeof SSE_BOM)
                self->bom_done = true;
        } else {
            /* Not a BOM after all: the bytes matched so far are text. */
            *rc = buf_append(&self->line, (const char *)SSE_BOM, self->bom_matched, YG_SSE_MAX_LINE);
            self->bom_matched = 0;
            self->bom_done = true;
        }
    }
    return i;
}

int yg_sse_feed(yg_sse_t *self, const char *data, size_t len)
{
    if (!self || (!data && len))
        return YG_EINVAL;
    int rc;
    size_t i = sse_skip_bom(self, data, len, &rc);
    if (rc)
        return rc;
    while (i < len) {
        if (self->skip_lf) {
            self->skip_lf = false;
            if (data[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < len && data[j] != '\n' && data[j] != '\r')
            j++;
        if ((rc = buf_append(&self->line, data + i, j - i, YG_SSE_MAX_LINE)))
            return rc;
        if (j == len)
            break;
        self->skip_lf = data[j] == '\r';
        i = j + 1;
        if ((rc = sse_line(self)))
            return rc;
    }
    return 0;
}

bool yg_sse_finish(yg_sse_t *self)
{
    if (!self)
        return false;
    bool pending = self->line.len > 0 || self->data.len > 0 || self->event.len > 0 ||
                   (!self->bom_done && self->bom_matched > 0);
    buf_clear(&self->line);
    buf_clear(&self->data);
    buf_clear(&self->event);
    self->skip_lf = false;
    return pending;
}

void yg_sse_reset(yg_sse_t *self)
{
    if (!self)
        return;
    yg_sse_finish(self);
    self->bom_matched = 0;
    self->bom_done = false;
}
