/*
 * yg_jsonx.c - parse_json extraction of JSON from LLM replies (spec 4.4).
 *
 * Mirrors the original's rule order exactly, including its quirks: flat
 * objects are tried before balanced ones, so JSON embedded in prose yields
 * its innermost flat object.
 */
#include "yg_expr.h"

#include <string.h>

static const char FENCE[] = "```";
#define FENCE_LEN (sizeof FENCE - 1)
static const char JSON_TAG[] = "json";
#define JSON_TAG_LEN (sizeof JSON_TAG - 1)

/* Python str.strip() on ASCII whitespace (see yg_expr.c). */
static bool jx_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static void jx_trim(const char **s, size_t *len)
{
    while (*len > 0 && jx_space((unsigned char)(*s)[0])) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && jx_space((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

/* Parse s[0, len) as one JSON document; NULL when it is not JSON. */
static yg_value_t *try_parse(const char *s, size_t len)
{
    yg_error_t err = {0};
    return yg_json_decode(s, len, NULL, &err);
}

/* First occurrence of the fence at or after `from`, or len. */
static size_t find_fence(const char *s, size_t len, size_t from)
{
    for (size_t i = from; i + FENCE_LEN <= len; i++)
        if (memcmp(s + i, FENCE, FENCE_LEN) == 0)
            return i;
    return len;
}

/* Contents of a fenced block whose body starts at `body` (after the opening
 * fence and tag): up to the next fence, trimmed.  Returns false if the block
 * is never closed. */
static bool fenced_body(const char *s, size_t len, size_t body, const char **out, size_t *out_len)
{
    size_t close = find_fence(s, len, body);
    if (close >= len)
        return false;
    *out = s + body;
    *out_len = close - body;
    jx_trim(out, out_len);
    return true;
}

/* Rule 2: the first "```json" (case-insensitive) block. */
static yg_value_t *try_json_fence(const char *s, size_t len)
{
    for (size_t i = 0; i + FENCE_LEN + JSON_TAG_LEN <= len; i++) {
        if (memcmp(s + i, FENCE, FENCE_LEN) != 0)
            continue;
        bool tag = true;
        for (size_t k = 0; k < JSON_TAG_LEN && tag; k++) {
            char c = s[i + FENCE_LEN + k];
            tag = (c | 0x20) == JSON_TAG[k];
        }
        if (!tag)
            continue;
        const char *body;
        size_t blen;
        if (!fenced_body(s, len, i + FENCE_LEN + JSON_TAG_LEN, &body, &blen))
            return NULL;
        return try_parse(body, blen);
    }
    return NULL;
}

/* Rule 3: the first fenced block of any kind (a tag stays in the body). */
static yg_value_t *try_any_fence(const char *s, size_t len)
{
    size_t open = find_fence(s, len, 0);
    if (open >= len)
        return NULL;
    const char *body;
    size_t blen;
    if (!fenced_body(s, len, open + FENCE_LEN, &body, &blen))
        return NULL;
    return try_parse(body, blen);
}

/* Rule 4: each `open ... close` with neither bracket character inside,
 * left to right; the first that parses wins. */
static yg_value_t *try_flat(const char *s, size_t len, char open, char close)
{
    size_t i = 0;
    while (i < len) {
        if (s[i] != open) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < len && s[j] != open && s[j] != close)
            j++;
        if (j < len && s[j] == close) {
            yg_value_t *v = try_parse(s + i, j - i + 1);
            if (v)
                return v;
            i = j + 1;
        } else {
            i = j;
        }
    }
    return NULL;
}

/* Rule 5: from the first `open`, the substring up to its matching `close`
 * (counting brackets, strings not special). */
static yg_value_t *try_balanced(const char *s, size_t len, char open, char close)
{
    const char *first = memchr(s, open, len);
    if (!first)
        return NULL;
    size_t start = (size_t)(first - s);
    size_t depth = 0;
    for (size_t i = start; i < len; i++) {
        if (s[i] == open) {
            depth++;
        } else if (s[i] == close) {
            depth--;
            if (depth == 0)
                return try_parse(s + start, i - start + 1);
        }
    }
    return NULL;
}

yg_value_t *yg_json_extract(const yg_value_t *text)
{
    const char *s = yg_value_str(text);
    if (!s)
        return yg_value_copy(text); /* null (and any non-string) unchanged */
    size_t len = yg_value_strlen(text);
    if (len == 0)
        return yg_str_newn("", 0);
    jx_trim(&s, &len);
    yg_value_t *v = try_parse(s, len);
    if (!v)
        v = try_json_fence(s, len);
    if (!v)
        v = try_any_fence(s, len);
    if (!v)
        v = try_flat(s, len, '{', '}');
    if (!v)
        v = try_flat(s, len, '[', ']');
    if (!v)
        v = try_balanced(s, len, '{', '}');
    if (!v)
        v = try_balanced(s, len, '[', ']');
    if (!v)
        v = yg_str_newn(s, len);
    return v;
}
