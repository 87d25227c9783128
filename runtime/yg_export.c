/*
 * yg_export.c - graph exports (spec 12.1).
 */
#include "yg_export.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define EXPORT_DIR "outputs"
#define EXPORT_PATH_MAX 4096

/* A growable string. */
typedef struct {
    char *data;
    size_t len, cap;
    bool failed;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = true;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void sb_puts(sbuf_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static char *sb_finish(sbuf_t *b)
{
    if (b->failed) {
        free(b->data);
        return NULL;
    }
    if (!b->data)
        return strdup("");
    return b->data;
}

/* Text form: strings verbatim, everything else JSON. */
static void sb_text(sbuf_t *b, const yg_value_t *v)
{
    if (yg_value_type(v) == YG_STR) {
        sb_add(b, yg_value_str(v), yg_value_strlen(v));
        return;
    }
    char *json = yg_json_encode(v, false, NULL);
    if (!json) {
        b->failed = true;
        return;
    }
    sb_puts(b, json);
    free(json);
}

/* "field_name" -> "Field Name" (the original's field titles). */
static void sb_title(sbuf_t *b, const char *name)
{
    bool start = true;
    for (const char *p = name; *p; p++) {
        char c = *p == '_' ? ' ' : *p;
        if (start && c != ' ')
            c = (char)toupper((unsigned char)c);
        start = c == ' ';
        sb_add(b, &c, 1);
    }
}

static void render_markdown(sbuf_t *b, const yg_value_t *v, const char *title)
{
    if (yg_value_type(v) != YG_MAP) {
        sb_text(b, v);
        return;
    }
    sb_puts(b, "# ");
    sb_title(b, title ? title : "Export");
    sb_puts(b, "\n\n");
    for (size_t i = 0; i < yg_map_size(v); i++) {
        const char *k = yg_map_key_at(v, i);
        const yg_value_t *f = yg_map_value_at(v, i);
        if (yg_value_type(f) == YG_LIST) {
            sb_puts(b, "## ");
            sb_title(b, k);
            sb_puts(b, "\n\n");
            for (size_t j = 0; j < yg_list_size(f); j++) {
                sb_puts(b, "- ");
                sb_text(b, yg_list_get(f, j));
                sb_puts(b, "\n");
            }
            sb_puts(b, "\n");
        } else {
            sb_puts(b, "**");
            sb_title(b, k);
            sb_puts(b, "**: ");
            sb_text(b, f);
            sb_puts(b, "\n\n");
        }
    }
}

char *yg_export_render(const yg_value_t *value, const char *format, const char *title)
{
    sbuf_t b = { 0 };
    if (format && strcmp(format, "json") == 0) {
        char *json = yg_json_encode(value, true, NULL);
        if (!json)
            return NULL;
        sb_puts(&b, json);
        sb_puts(&b, "\n");
        free(json);
    } else if (format && strcmp(format, "markdown") == 0) {
        render_markdown(&b, value, title);
    } else {
        sb_text(&b, value);
    }
    return sb_finish(&b);
}

static bool safe_filename(const char *name)
{
    if (!name[0] || name[0] == '/')
        return false;
    for (const char *p = name; (p = strstr(p, "..")) != NULL; p += 2) {
        bool left = p == name || p[-1] == '/';
        bool right = p[2] == '\0' || p[2] == '/';
        if (left && right)
            return false;
    }
    return true;
}

/* Thread ids become one path component. */
static void sanitize_component(const char *in, char *out, size_t size)
{
    size_t o = 0;
    for (const char *p = in; *p && o + 1 < size; p++) {
        bool bad = *p == '/' || *p == '\\' || (o == 0 && *p == '.');
        out[o++] = bad ? '_' : *p;
    }
    out[o] = '\0';
    if (!out[0])
        snprintf(out, size, "unknown");
}

static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return 0;
}

int yg_export_write(const yg_graph_t *graph, const yg_value_t *state, const char *thread_id,
                    const char *base_dir, yg_value_t *written, yg_error_t *err)
{
    if (!graph)
        return yg_error_set(err, YG_EINVAL, "yg_export_write: no graph");
    char thread[256];
    sanitize_component(thread_id ? thread_id : "unknown", thread, sizeof thread);
    for (size_t i = 0; i < graph->exports_count; i++) {
        const yg_export_t *ex = &graph->exports[i];
        const yg_value_t *v = yg_map_get(state, ex->key);
        if (yg_value_is_null(v))
            continue;
        char deffile[512];
        snprintf(deffile, sizeof deffile, "%s.txt", ex->key);
        const char *file = ex->filename ? ex->filename : deffile;
        if (!safe_filename(file))
            return yg_error_set(err, YG_EINVAL,
                                "export '%s': filename '%s' must be a relative path without '..'",
                                ex->key, file);
        char path[EXPORT_PATH_MAX];
        int n = snprintf(path, sizeof path, "%s%s%s/%s/%s", base_dir ? base_dir : "",
                         base_dir ? "/" : "", EXPORT_DIR, thread, file);
        if (n < 0 || (size_t)n >= sizeof path)
            return yg_error_set(err, YG_ELIMIT, "export '%s': path too long", ex->key);
        char *text = yg_export_render(v, ex->format, ex->key);
        if (!text)
            return yg_error_set(err, YG_ENOMEM, "out of memory rendering export '%s'", ex->key);
        FILE *f = make_dirs(path) == 0 ? fopen(path, "w") : NULL;
        bool ok = f && fputs(text, f) >= 0;
        if (f && fclose(f) != 0)
            ok = false;
        free(text);
        if (!ok)
            return yg_error_set(err, YG_EIO, "export '%s': cannot write %s: %s", ex->key, path,
                                strerror(errno));
        if (written) {
            yg_value_t *p = yg_str_new(path);
            if (p && yg_list_append(written, p) != YG_OK)
                yg_value_destroy(&p);
        }
    }
    return YG_OK;
}
