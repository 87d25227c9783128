/*
 * yg_yaml.c - libyaml event parser -> yg_ynode_t tree with 1-based positions.
 *
 * The builder reads one event at a time and builds the tree recursively
 * (depth bounded by YG_YAML_MAX_DEPTH).  Anchored nodes are remembered once
 * complete; an alias is expanded into a deep copy, and the total number of
 * nodes after expansion is bounded by YG_YAML_MAX_NODES so that a "billion
 * laughs" document fails fast instead of exhausting memory.
 */
#include "yg_yaml.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

typedef struct anchor {
    char *name;
    yg_ynode_t *node; /* borrowed: owned by the tree */
    size_t size;      /* nodes in the subtree */
} anchor_t;

typedef struct builder {
    yaml_parser_t parser;
    const char *name;
    const char *text;
    size_t len;
    yg_error_t *err;
    anchor_t *anchors;
    size_t anchors_count;
    size_t anchors_cap;
    size_t total_nodes;
} builder_t;

/* ---------------------------------------------------------------------- */

static const char *ynode_kind_name(const yg_ynode_t *n)
{
    switch (n->kind) {
    case YG_YNODE_SEQ: return "a list";
    case YG_YNODE_MAP: return "a mapping";
    default: return "a scalar";
    }
}

void yg_ynode_destroy(yg_ynode_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_ynode_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++) {
        if (self->keys)
            yg_ynode_destroy(&self->keys[i]);
        if (self->items)
            yg_ynode_destroy(&self->items[i]);
    }
    free(self->keys);
    free(self->items);
    free(self->text);
    free(self);
    *self_p = NULL;
}

static yg_ynode_t *ynode_new(yg_ynode_kind_t kind, yaml_mark_t mark)
{
    yg_ynode_t *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->kind = kind;
    n->line = (int)mark.line + 1;
    n->column = (int)mark.column + 1;
    n->text_line = n->line;
    n->text_column = n->column;
    return n;
}

/* Append a child (and key for maps); takes ownership of both on success. */
static int ynode_append(yg_ynode_t *parent, yg_ynode_t *key, yg_ynode_t *item, size_t *cap)
{
    if (parent->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        yg_ynode_t **items = realloc(parent->items, ncap * sizeof *items);
        if (!items)
            return YG_ENOMEM;
        parent->items = items;
        if (parent->kind == YG_YNODE_MAP) {
            yg_ynode_t **keys = realloc(parent->keys, ncap * sizeof *keys);
            if (!keys)
                return YG_ENOMEM;
            parent->keys = keys;
        }
        *cap = ncap;
    }
    if (parent->kind == YG_YNODE_MAP)
        parent->keys[parent->count] = key;
    parent->items[parent->count] = item;
    parent->count++;
    return YG_OK;
}

static size_t ynode_size(const yg_ynode_t *n)
{
    size_t size = 1;
    for (size_t i = 0; i < n->count; i++) {
        size += ynode_size(n->items[i]);
        if (n->keys)
            size += ynode_size(n->keys[i]);
    }
    return size;
}

static yg_ynode_t *ynode_copy(const yg_ynode_t *src)
{
    yg_ynode_t *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    *n = *src;
    n->text = NULL;
    n->keys = NULL;
    n->items = NULL;
    n->count = 0;
    if (src->text) {
        n->text = malloc(src->len + 1);
        if (!n->text)
            goto fail;
        memcpy(n->text, src->text, src->len + 1);
    }
    if (src->count) {
        n->items = calloc(src->count, sizeof *n->items);
        if (!n->items)
            goto fail;
        if (src->keys) {
            n->keys = calloc(src->count, sizeof *n->keys);
            if (!n->keys)
                goto fail;
        }
        for (size_t i = 0; i < src->count; i++) {
            n->count = i + 1;
            n->items[i] = ynode_copy(src->items[i]);
            if (!n->items[i])
                goto fail;
            if (src->keys) {
                n->keys[i] = ynode_copy(src->keys[i]);
                if (!n->keys[i])
                    goto fail;
            }
        }
    }
    return n;
fail:
    yg_ynode_destroy(&n);
    return NULL;
}

/* ---------------------------------------------------------------------- */

static int builder_error(builder_t *b, int code, yaml_mark_t mark, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int builder_error(builder_t *b, int code, yaml_mark_t mark, const char *fmt, ...)
{
    char msg[YG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return yg_error_set_at(b->err, code, b->name, (int)mark.line + 1, (int)mark.column + 1, "%s",
                           msg);
}

static int builder_syntax_error(builder_t *b)
{
    yaml_parser_t *p = &b->parser;
    if (p->error == YAML_MEMORY_ERROR)
        return yg_error_set(b->err, YG_ENOMEM, "out of memory while parsing %s", b->name);
    char msg[YG_ERROR_MESSAGE_MAX];
    if (p->context)
        snprintf(msg, sizeof msg, "YAML syntax error: %s %s (line %d); check indentation, quotes "
                 "and ':' placement",
                 p->problem ? p->problem : "invalid YAML", p->context,
                 (int)p->context_mark.line + 1);
    else
        snprintf(msg, sizeof msg,
                 "YAML syntax error: %s; check indentation, quotes and ':' placement",
                 p->problem ? p->problem : "invalid YAML");
    return yg_error_set_at(b->err, YG_EPARSE, b->name, (int)p->problem_mark.line + 1,
                           (int)p->problem_mark.column + 1, "%s", msg);
}

static int builder_next(builder_t *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev))
        return builder_syntax_error(b);
    return YG_OK;
}

static int builder_count(builder_t *b, size_t n, yaml_mark_t mark)
{
    if (n > YG_YAML_MAX_NODES || b->total_nodes > YG_YAML_MAX_NODES - n)
        return builder_error(b, YG_ELIMIT, mark,
                             "document too large: more than %u nodes after alias expansion; "
                             "reduce the file or avoid nested aliases",
                             YG_YAML_MAX_NODES);
    b->total_nodes += n;
    return YG_OK;
}

static int builder_add_anchor(builder_t *b, const char *name, yg_ynode_t *node)
{
    if (!name)
        return YG_OK;
    /* A redefined anchor replaces the earlier one (YAML 1.2 rule). */
    for (size_t i = 0; i < b->anchors_count; i++) {
        if (strcmp(b->anchors[i].name, name) == 0) {
            b->anchors[i].node = node;
            b->anchors[i].size = ynode_size(node);
            return YG_OK;
        }
    }
    if (b->anchors_count == b->anchors_cap) {
        size_t ncap = b->anchors_cap ? b->anchors_cap * 2 : 8;
        anchor_t *a = realloc(b->anchors, ncap * sizeof *a);
        if (!a)
            return yg_error_set(b->err, YG_ENOMEM, "out of memory");
        b->anchors = a;
        b->anchors_cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy)
        return yg_error_set(b->err, YG_ENOMEM, "out of memory");
    b->anchors[b->anchors_count].name = copy;
    b->anchors[b->anchors_count].node = node;
    b->anchors[b->anchors_count].size = ynode_size(node);
    b->anchors_count++;
    return YG_OK;
}

static yg_ynode_t *builder_alias(builder_t *b, yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    for (size_t i = b->anchors_count; i-- > 0;) {
        if (strcmp(b->anchors[i].name, name) == 0) {
            if (builder_count(b, b->anchors[i].size, ev->start_mark) != YG_OK)
                return NULL;
            yg_ynode_t *copy = ynode_copy(b->anchors[i].node);
            if (!copy) {
                yg_error_set(b->err, YG_ENOMEM, "out of memory");
                return NULL;
            }
            copy->line = (int)ev->start_mark.line + 1;
            copy->column = (int)ev->start_mark.column + 1;
            return copy;
        }
    }
    builder_error(b, YG_EPARSE, ev->start_mark,
                  "unknown alias '*%s' (define the anchor '&%s' before using it)", name, name);
    return NULL;
}

/* Where the text of a scalar starts: block scalars begin on the first
 * non-blank line after the indicator, quoted scalars one column in. */
static void scalar_text_position(builder_t *b, yg_ynode_t *n, const yaml_event_t *ev)
{
    yaml_scalar_style_t style = ev->data.scalar.style;
    if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE || style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        n->text_column = n->column + 1;
        return;
    }
    if (style != YAML_LITERAL_SCALAR_STYLE && style != YAML_FOLDED_SCALAR_STYLE)
        return;
    n->block = true;
    size_t i = ev->start_mark.index;
    int line = n->line;
    /* libyaml's mark index counts characters; for ASCII indicator lines that
     * equals bytes, otherwise fall back to the indicator position. */
    if (i >= b->len)
        return;
    while (i < b->len && b->text[i] != '\n')
        i++;
    while (i < b->len) {
        i++; /* past '\n' */
        line++;
        size_t col = 0;
        while (i + col < b->len && b->text[i + col] == ' ')
            col++;
        if (i + col < b->len && b->text[i + col] != '\n' && b->text[i + col] != '\r') {
            n->text_line = line;
            n->text_column = (int)col + 1;
            return;
        }
        i += col;
        while (i < b->len && b->text[i] != '\n')
            i++;
    }
}

static int map_check_duplicates(builder_t *b, yg_ynode_t *map);

static yg_ynode_t *builder_node(builder_t *b, yaml_event_t *ev, size_t depth);

static yg_ynode_t *builder_collection(builder_t *b, yaml_event_t *ev, size_t depth)
{
    bool is_map = ev->type == YAML_MAPPING_START_EVENT;
    if (depth >= YG_YAML_MAX_DEPTH) {
        builder_error(b, YG_ELIMIT, ev->start_mark,
                      "nesting deeper than %u levels; flatten the document", YG_YAML_MAX_DEPTH);
        return NULL;
    }
    yg_ynode_t *n = ynode_new(is_map ? YG_YNODE_MAP : YG_YNODE_SEQ, ev->start_mark);
    if (!n) {
        yg_error_set(b->err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    size_t cap = 0;
    for (;;) {
        yaml_event_t child;
        if (builder_next(b, &child) != YG_OK)
            goto fail;
        if (child.type == YAML_MAPPING_END_EVENT || child.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&child);
            break;
        }
        yg_ynode_t *key = NULL;
        if (is_map) {
            yaml_mark_t key_mark = child.start_mark;
            key = builder_node(b, &child, depth + 1); /* consumes child */
            if (!key)
                goto fail;
            if (key->kind != YG_YNODE_SCALAR) {
                builder_error(b, YG_EPARSE, key_mark,
                              "mapping key is %s; keys must be plain strings (quote the key or "
                              "restructure the mapping)",
                              ynode_kind_name(key));
                yg_ynode_destroy(&key);
                goto fail;
            }
            if (builder_next(b, &child) != YG_OK) {
                yg_ynode_destroy(&key);
                goto fail;
            }
        }
        yg_ynode_t *item = builder_node(b, &child, depth + 1);
        if (!item) {
            yg_ynode_destroy(&key);
            goto fail;
        }
        if (ynode_append(n, key, item, &cap) != YG_OK) {
            yg_ynode_destroy(&key);
            yg_ynode_destroy(&item);
            yg_error_set(b->err, YG_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (is_map && map_check_duplicates(b, n) != YG_OK)
        goto fail;
    return n;
fail:
    yg_ynode_destroy(&n);
    return NULL;
}

/* Build the node that starts with *ev; consumes ev.  NULL + err on failure. */
static yg_ynode_t *builder_node(builder_t *b, yaml_event_t *ev, size_t depth)
{
    yg_ynode_t *n = NULL;
    const char *anchor = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        n = builder_alias(b, ev);
        yaml_event_delete(ev);
        return n;
    case YAML_SCALAR_EVENT: {
        anchor = (const char *)ev->data.scalar.anchor;
        if (builder_count(b, 1, ev->start_mark) != YG_OK)
            break;
        n = ynode_new(YG_YNODE_SCALAR, ev->start_mark);
        if (!n || !(n->text = malloc(ev->data.scalar.length + 1))) {
            yg_ynode_destroy(&n);
            yg_error_set(b->err, YG_ENOMEM, "out of memory");
            break;
        }
        memcpy(n->text, ev->data.scalar.value, ev->data.scalar.length);
        n->text[ev->data.scalar.length] = '\0';
        n->len = ev->data.scalar.length;
        const char *tag = (const char *)ev->data.scalar.tag;
        n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                    (tag && strcmp(tag, YAML_STR_TAG) == 0);
        scalar_text_position(b, n, ev);
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        anchor = ev->type == YAML_MAPPING_START_EVENT
                     ? (const char *)ev->data.mapping_start.anchor
                     : (const char *)ev->data.sequence_start.anchor;
        if (builder_count(b, 1, ev->start_mark) != YG_OK)
            break;
        n = builder_collection(b, ev, depth);
        break;
    default:
        builder_error(b, YG_EPARSE, ev->start_mark, "unexpected YAML event (%d)", (int)ev->type);
        break;
    }
    if (n && anchor && builder_add_anchor(b, anchor, n) != YG_OK)
        yg_ynode_destroy(&n);
    yaml_event_delete(ev);
    return n;
}

/* Sort (key, index) pairs to find duplicates in O(n log n); report the
 * earliest second occurrence at its own position. */
typedef struct key_ref {
    const yg_ynode_t *key;
    size_t index;
} key_ref_t;

static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref_t *x = a, *y = b;
    size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
    int c = memcmp(x->key->text, y->key->text, n);
    if (c == 0 && x->key->len != y->key->len)
        c = x->key->len < y->key->len ? -1 : 1;
    if (c == 0)
        c = x->index < y->index ? -1 : (x->index > y->index);
    return c;
}

static int map_check_duplicates(builder_t *b, yg_ynode_t *map)
{
    if (map->count < 2)
        return YG_OK;
    key_ref_t *refs = malloc(map->count * sizeof *refs);
    if (!refs)
        return yg_error_set(b->err, YG_ENOMEM, "out of memory");
    for (size_t i = 0; i < map->count; i++) {
        refs[i].key = map->keys[i];
        refs[i].index = i;
    }
    qsort(refs, map->count, sizeof *refs, key_ref_cmp);
    size_t dup = (size_t)-1, first = 0;
    for (size_t i = 1; i < map->count; i++) {
        const yg_ynode_t *a = refs[i - 1].key, *c = refs[i].key;
        if (a->len == c->len && memcmp(a->text, c->text, a->len) == 0) {
            /* refs[i-1] is the first of this run only if the run starts there */
            size_t run_start = i - 1;
            while (run_start > 0 && refs[run_start - 1].key->len == c->len &&
                   memcmp(refs[run_start - 1].key->text, c->text, c->len) == 0)
                run_start--;
            if (run_start == i - 1 && (dup == (size_t)-1 || refs[i].index < dup)) {
                dup = refs[i].index;
                first = refs[i - 1].index;
            }
        }
    }
    free(refs);
    if (dup == (size_t)-1)
        return YG_OK;
    const yg_ynode_t *k = map->keys[dup];
    return yg_error_set_at(b->err, YG_EPARSE, b->name, k->line, k->column,
                           "duplicate key '%s' (first defined at line %d); remove or rename one "
                           "of them",
                           k->text, map->keys[first]->line);
}

static void builder_free(builder_t *b)
{
    for (size_t i = 0; i < b->anchors_count; i++)
        free(b->anchors[i].name);
    free(b->anchors);
    yaml_parser_delete(&b->parser);
}

yg_ynode_t *yg_yaml_load_string(const char *text, size_t len, const char *name, yg_error_t *err)
{
    if (!name)
        name = "<string>";
    if (!text)
        return yg_error_set(err, YG_EINVAL, "no YAML text given"), NULL;
    if (len > YG_YAML_MAX_FILE_SIZE) {
        yg_error_set_at(err, YG_ELIMIT, name, 0, 0,
                        "file is %zu bytes, more than the %u-byte limit for YAML files", len,
                        YG_YAML_MAX_FILE_SIZE);
        return NULL;
    }
    builder_t b;
    memset(&b, 0, sizeof b);
    b.name = name;
    b.text = text;
    b.len = len;
    b.err = err;
    if (!yaml_parser_initialize(&b.parser)) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);

    yg_ynode_t *root = NULL;
    yaml_event_t ev;
    if (builder_next(&b, &ev) != YG_OK) /* STREAM_START */
        goto fail;
    yaml_event_delete(&ev);
    if (builder_next(&b, &ev) != YG_OK)
        goto fail;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        yg_error_set_at(err, YG_EPARSE, name, 1, 1,
                        "the file is empty; it must contain a YAML mapping (key: value lines)");
        goto fail;
    }
    yaml_event_delete(&ev); /* DOCUMENT_START */
    if (builder_next(&b, &ev) != YG_OK)
        goto fail;
    yaml_mark_t root_mark = ev.start_mark;
    root = builder_node(&b, &ev, 0);
    if (!root)
        goto fail;
    if (root->kind != YG_YNODE_MAP) {
        if (root->kind == YG_YNODE_SCALAR && root->len == 0 && !root->quoted)
            builder_error(&b, YG_EPARSE, root_mark,
                          "the file has no content; it must contain a YAML mapping (key: value "
                          "lines)");
        else
            builder_error(&b, YG_EPARSE, root_mark,
                          "the top level is %s; it must be a mapping (key: value lines)",
                          ynode_kind_name(root));
        goto fail;
    }
    if (builder_next(&b, &ev) != YG_OK) /* DOCUMENT_END */
        goto fail;
    yaml_event_delete(&ev);
    if (builder_next(&b, &ev) != YG_OK)
        goto fail;
    if (ev.type != YAML_STREAM_END_EVENT) {
        builder_error(&b, YG_EPARSE, ev.start_mark,
                      "a second YAML document starts here; a file must hold exactly one "
                      "document (remove the '---' separator)");
        yaml_event_delete(&ev);
        goto fail;
    }
    yaml_event_delete(&ev);
    builder_free(&b);
    return root;
fail:
    yg_ynode_destroy(&root);
    builder_free(&b);
    return NULL;
}

char *yg_yaml_read_file(const char *path, size_t *len, yg_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        yg_error_set_at(err, e == ENOENT ? YG_ENOTFOUND : YG_EIO, path, 0, 0,
                        "cannot open file: %s", strerror(e));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        yg_error_set_at(err, YG_EIO, path, 0, 0, "not a regular file");
        return NULL;
    }
    if ((unsigned long long)st.st_size > YG_YAML_MAX_FILE_SIZE) {
        fclose(f);
        yg_error_set_at(err, YG_ELIMIT, path, 0, 0,
                        "file is %lld bytes, more than the %u-byte limit for YAML files",
                        (long long)st.st_size, YG_YAML_MAX_FILE_SIZE);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        fclose(f);
        yg_error_set(err, YG_ENOMEM, "out of memory reading %s", path);
        return NULL;
    }
    size_t got = fread(buf, 1, size, f);
    /* The file may have shrunk or grown since fstat; read what is there, up
     * to the limit, and refuse more. */
    int extra = fgetc(f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed || extra != EOF) {
        free(buf);
        yg_error_set_at(err, YG_EIO, path, 0, 0, "file changed while being read");
        return NULL;
    }
    buf[got] = '\0';
    if (len)
        *len = got;
    return buf;
}

yg_ynode_t *yg_yaml_load_file(const char *path, yg_error_t *err)
{
    size_t len = 0;
    char *text = yg_yaml_read_file(path, &len, err);
    if (!text)
        return NULL;
    yg_ynode_t *root = yg_yaml_load_string(text, len, path, err);
    free(text);
    return root;
}

/* ---------------------------------------------------------------------- */

yg_ynode_t *yg_ynode_key(const yg_ynode_t *self, const char *key)
{
    if (!self || self->kind != YG_YNODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->keys[i]->text, key) == 0)
            return self->keys[i];
    return NULL;
}

yg_ynode_t *yg_ynode_get(const yg_ynode_t *self, const char *key)
{
    if (!self || self->kind != YG_YNODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->keys[i]->text, key) == 0)
            return self->items[i];
    return NULL;
}

bool yg_ynode_is_null(const yg_ynode_t *self)
{
    if (!self || self->kind != YG_YNODE_SCALAR || self->quoted)
        return false;
    const char *t = self->text;
    return t[0] == '\0' || strcmp(t, "~") == 0 || strcmp(t, "null") == 0 ||
           strcmp(t, "Null") == 0 || strcmp(t, "NULL") == 0;
}

bool yg_ynode_as_bool(const yg_ynode_t *self, bool *out)
{
    if (!self || self->kind != YG_YNODE_SCALAR || self->quoted)
        return false;
    if (strcasecmp(self->text, "true") == 0) {
        if (out)
            *out = true;
        return true;
    }
    if (strcasecmp(self->text, "false") == 0) {
        if (out)
            *out = false;
        return true;
    }
    return false;
}

static bool all_digits(const char *s, const char *digits)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr(digits, *s))
            return false;
    return true;
}

bool yg_ynode_as_int(const yg_ynode_t *self, long long *out)
{
    if (!self || self->kind != YG_YNODE_SCALAR || self->quoted)
        return false;
    const char *t = self->text;
    int base = 10;
    const char *digits = t;
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'o')) {
        base = t[1] == 'x' ? 16 : 8;
        digits = t + 2;
        if (!all_digits(digits, base == 16 ? "0123456789abcdefABCDEF" : "01234567"))
            return false;
    } else {
        if (*digits == '-' || *digits == '+')
            digits++;
        if (!all_digits(digits, "0123456789"))
            return false;
    }
    errno = 0;
    char *end = NULL;
    long long v;
    if (base == 10) {
        v = strtoll(t, &end, 10);
    } else {
        unsigned long long u = strtoull(digits, &end, base);
        if (u > (unsigned long long)LLONG_MAX)
            errno = ERANGE;
        v = (long long)u;
    }
    if (errno == ERANGE || !end || *end)
        return false;
    if (out)
        *out = v;
    return true;
}

/* YAML 1.2 core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
 * plus [-+]?.inf and .nan in three spellings each. */
static bool parse_core_float(const char *t, double *out)
{
    const char *p = t;
    bool neg = false;
    if (*p == '-' || *p == '+') {
        neg = *p == '-';
        p++;
    }
    if (strcmp(p, ".inf") == 0 || strcmp(p, ".Inf") == 0 || strcmp(p, ".INF") == 0) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (p == t && (strcmp(p, ".nan") == 0 || strcmp(p, ".NaN") == 0 || strcmp(p, ".NAN") == 0)) {
        *out = NAN;
        return true;
    }
    const char *q = p;
    size_t int_digits = 0, frac_digits = 0;
    while (*q >= '0' && *q <= '9') {
        q++;
        int_digits++;
    }
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') {
            q++;
            frac_digits++;
        }
    }
    if (int_digits == 0 && frac_digits == 0)
        return false;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '-' || *q == '+')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return false;
        while (*q >= '0' && *q <= '9')
            q++;
    }
    if (*q)
        return false;
    *out = strtod(t, NULL);
    return true;
}

bool yg_ynode_as_number(const yg_ynode_t *self, double *out)
{
    long long i;
    if (yg_ynode_as_int(self, &i)) {
        if (out)
            *out = (double)i;
        return true;
    }
    if (!self || self->kind != YG_YNODE_SCALAR || self->quoted)
        return false;
    double d;
    if (!parse_core_float(self->text, &d))
        return false;
    if (out)
        *out = d;
    return true;
}

static yg_value_t *scalar_to_value(const yg_ynode_t *n)
{
    if (n->quoted)
        return yg_str_newn(n->text, n->len);
    if (yg_ynode_is_null(n))
        return yg_null_new();
    bool b;
    if (yg_ynode_as_bool(n, &b))
        return yg_bool_new(b);
    long long i;
    if (yg_ynode_as_int(n, &i))
        return yg_int_new((int64_t)i);
    double d;
    if (parse_core_float(n->text, &d))
        return yg_float_new(d);
    return yg_str_newn(n->text, n->len);
}

yg_value_t *yg_ynode_to_value(const yg_ynode_t *self)
{
    if (!self)
        return yg_null_new();
    if (self->kind == YG_YNODE_SCALAR)
        return scalar_to_value(self);
    yg_value_t *out = self->kind == YG_YNODE_MAP ? yg_map_new() : yg_list_new();
    if (!out)
        return NULL;
    for (size_t i = 0; i < self->count; i++) {
        yg_value_t *item = yg_ynode_to_value(self->items[i]);
        int rc = item ? (self->kind == YG_YNODE_MAP
                             ? yg_map_setn(out, self->keys[i]->text, self->keys[i]->len, item)
                             : yg_list_append(out, item))
                      : YG_ENOMEM;
        if (rc != YG_OK) {
            yg_value_destroy(&out);
            return NULL;
        }
    }
    return out;
}
