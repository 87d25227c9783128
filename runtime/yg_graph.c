/*
 * yg_graph.c - graph loading: the top-level sections, state keys, tools,
 * checkpointer, exports, prompt and subgraph loading, hashing, and the
 * graph's destructor and lookups.  Nodes are compiled in yg_graph_nodes.c,
 * edges and loop detection in yg_graph_edges.c.
 *
 * Load order (spec 1.1, adapted): parse -> top-level types -> defaults and
 * config -> tools -> nodes (prompts, subgraphs) -> edges -> loop detection
 * -> state keys -> read sets -> checkpointer, exports -> engine checks.
 * The loader stops at the first error.
 */
#include "yg_graph_load.h"
#include "yamlgraph/yamlgraph.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yg_expr.h"
#include "yg_prompt.h"
#include "yg_shellfmt.h"

/* ------------------------------------------------------------ error helpers */

static int gl_verror(yg_loader_t *l, int code, const yg_ynode_t *at, const char *fmt, va_list ap)
{
    char msg[YG_ERROR_MESSAGE_MAX];
    vsnprintf(msg, sizeof msg, fmt, ap);
    return yg_error_set_at(l->err, code, l->file, at ? at->line : 1, at ? at->column : 1, "%s",
                           msg);
}

int yg_gl_error(yg_loader_t *l, const yg_ynode_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = gl_verror(l, YG_EVALIDATE, at, fmt, ap);
    va_end(ap);
    return rc;
}

int yg_gl_error_code(yg_loader_t *l, int code, const yg_ynode_t *at, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = gl_verror(l, code, at, fmt, ap);
    va_end(ap);
    return rc;
}

int yg_gl_nomem(yg_loader_t *l)
{
    return yg_error_set_at(l->err, YG_ENOMEM, l->file, 0, 0, "out of memory");
}

void yg_gl_prefix_error(yg_error_t *err, const char *prefix)
{
    if (!err || err->code == YG_ENOMEM)
        return;
    char msg[2 * YG_ERROR_MESSAGE_MAX];
    snprintf(msg, sizeof msg, "%s%s", prefix, err->message);
    msg[YG_ERROR_MESSAGE_MAX - 1] = '\0';
    memcpy(err->message, msg, YG_ERROR_MESSAGE_MAX);
}

const char *yg_gl_kind(const yg_ynode_t *n)
{
    if (!n)
        return "nothing";
    if (n->kind == YG_YNODE_SEQ)
        return "a list";
    if (n->kind == YG_YNODE_MAP)
        return "a mapping";
    if (yg_ynode_is_null(n))
        return "null";
    if (n->quoted)
        return "a string";
    bool b;
    if (yg_ynode_as_bool(n, &b))
        return "a boolean";
    double d;
    if (yg_ynode_as_number(n, &d))
        return "a number";
    return "a string";
}

char *yg_gl_strdup(yg_loader_t *l, const char *s)
{
    char *c = strdup(s ? s : "");
    if (!c)
        yg_gl_nomem(l);
    return c;
}

/* ------------------------------------------------------------ typed getters */

static const yg_ynode_t *present(const yg_ynode_t *map, const char *key)
{
    const yg_ynode_t *v = yg_ynode_get(map, key);
    return v && !yg_ynode_is_null(v) ? v : NULL;
}

int yg_gl_get_str(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                  char **out, bool *found)
{
    const yg_ynode_t *v = present(map, key);
    if (found)
        *found = v != NULL;
    if (!v)
        return YG_OK;
    if (v->kind != YG_YNODE_SCALAR)
        return yg_gl_error(l, v, "%s: '%s' must be a string, not %s", what, key, yg_gl_kind(v));
    char *c = yg_gl_strdup(l, v->text);
    if (!c)
        return YG_ENOMEM;
    free(*out);
    *out = c;
    return YG_OK;
}

int yg_gl_get_bool(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                   bool *out, bool *found)
{
    const yg_ynode_t *v = present(map, key);
    if (found)
        *found = v != NULL;
    if (!v)
        return YG_OK;
    if (!yg_ynode_as_bool(v, out))
        return yg_gl_error(l, v, "%s: '%s' must be true or false, not %s%s%s%s", what, key,
                           yg_gl_kind(v), v->kind == YG_YNODE_SCALAR ? " '" : "",
                           v->kind == YG_YNODE_SCALAR ? v->text : "",
                           v->kind == YG_YNODE_SCALAR ? "'" : "");
    return YG_OK;
}

int yg_gl_get_int(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                  long long min, int64_t *out, bool *found)
{
    const yg_ynode_t *v = present(map, key);
    if (found)
        *found = v != NULL;
    if (!v)
        return YG_OK;
    long long i;
    if (!yg_ynode_as_int(v, &i) || i < min)
        return yg_gl_error(l, v, "%s: '%s' must be an integer >= %lld, not %s%s%s", what, key,
                           min, v->kind == YG_YNODE_SCALAR ? "'" : "",
                           v->kind == YG_YNODE_SCALAR ? v->text : yg_gl_kind(v),
                           v->kind == YG_YNODE_SCALAR ? "'" : "");
    *out = (int64_t)i;
    return YG_OK;
}

int yg_gl_get_number(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                     double min, double *out, bool *found)
{
    const yg_ynode_t *v = present(map, key);
    if (found)
        *found = v != NULL;
    if (!v)
        return YG_OK;
    double d;
    if (!yg_ynode_as_number(v, &d) || !isfinite(d) || d < min)
        return yg_gl_error(l, v, "%s: '%s' must be a number >= %g (e.g. %s: 0.7), not %s%s%s",
                           what, key, min, key, v->kind == YG_YNODE_SCALAR ? "'" : "",
                           v->kind == YG_YNODE_SCALAR ? v->text : yg_gl_kind(v),
                           v->kind == YG_YNODE_SCALAR ? "'" : "");
    *out = d;
    return YG_OK;
}

int yg_gl_strlist_add(char ***list, size_t *count, const char *s)
{
    for (size_t i = 0; i < *count; i++)
        if (strcmp((*list)[i], s) == 0)
            return YG_OK;
    char **grown = realloc(*list, (*count + 1) * sizeof *grown);
    if (!grown)
        return YG_ENOMEM;
    *list = grown;
    if (!(grown[*count] = strdup(s)))
        return YG_ENOMEM;
    (*count)++;
    return YG_OK;
}

void yg_gl_strlist_free(char ***list, size_t *count)
{
    for (size_t i = 0; *list && i < *count; i++)
        free((*list)[i]);
    free(*list);
    *list = NULL;
    *count = 0;
}

int yg_gl_get_strlist(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                      char ***out, size_t *count)
{
    const yg_ynode_t *v = present(map, key);
    if (!v)
        return YG_OK;
    if (v->kind != YG_YNODE_SEQ)
        return yg_gl_error(l, v, "%s: '%s' must be a list of names (e.g. %s: [a, b]), not %s",
                           what, key, key, yg_gl_kind(v));
    char **list = v->count ? calloc(v->count, sizeof *list) : NULL;
    if (v->count && !list)
        return yg_gl_nomem(l);
    for (size_t i = 0; i < v->count; i++) {
        const yg_ynode_t *item = v->items[i];
        if (item->kind != YG_YNODE_SCALAR || yg_ynode_is_null(item)) {
            for (size_t j = 0; j < i; j++)
                free(list[j]);
            free(list);
            return yg_gl_error(l, item, "%s: every entry of '%s' must be a name, not %s", what,
                               key, yg_gl_kind(item));
        }
        if (!(list[i] = strdup(item->text))) {
            for (size_t j = 0; j < i; j++)
                free(list[j]);
            free(list);
            return yg_gl_nomem(l);
        }
    }
    yg_gl_strlist_free(out, count);
    *out = list;
    *count = v->count;
    return YG_OK;
}

int yg_gl_get_map(yg_loader_t *l, const yg_ynode_t *map, const char *key, const char *what,
                  const yg_ynode_t **out)
{
    const yg_ynode_t *v = present(map, key);
    *out = NULL;
    if (!v)
        return YG_OK;
    if (v->kind != YG_YNODE_MAP)
        return yg_gl_error(l, v, "%s: '%s' must be a mapping (key: value lines), not %s", what,
                           key, yg_gl_kind(v));
    *out = v;
    return YG_OK;
}

/* ------------------------------------------------------------ suggestions */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}

const char *yg_gl_suggest(const char *name, const char *const *names, size_t count)
{
    const char *best = NULL;
    size_t best_d = YG_SUGGEST_MAX_DISTANCE + 1;
    for (size_t i = 0; i < count; i++) {
        size_t d = edit_distance(name, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}

const char *yg_gl_node_hint(const yg_graph_t *g, const char *name, char *buf, size_t size)
{
    const char *best = NULL;
    size_t best_d = YG_SUGGEST_MAX_DISTANCE + 1;
    for (size_t i = 0; i < g->top_nodes_count; i++) {
        if (!g->nodes[i])
            continue;
        size_t d = edit_distance(name, g->nodes[i]->name);
        if (d < best_d) {
            best_d = d;
            best = g->nodes[i]->name;
        }
    }
    if (best)
        snprintf(buf, size, " (did you mean '%s'?)", best);
    else
        snprintf(buf, size, "; define it under 'nodes:' or fix the name");
    return buf;
}

yg_node_t *yg_gl_top_node(const yg_graph_t *g, const char *name)
{
    yg_node_t *n = yg_graph_node(g, name);
    return n && n->index < g->top_nodes_count ? n : NULL;
}

int yg_gl_index_node(yg_loader_t *l, yg_node_t *n)
{
    yg_graph_t *g = l->g;
    if (!g->node_index && !(g->node_index = yg_map_new()))
        return yg_gl_nomem(l);
    if (yg_map_set(g->node_index, n->name, yg_int_new((int64_t)n->index)) != YG_OK)
        return yg_gl_nomem(l);
    return YG_OK;
}

/* ------------------------------------------------------------ hashing */

/* Each loaded file enters the hash as a tag, its length and its bytes, so
 * that moving bytes between files changes the digest. */
static void hash_file(yg_loader_t *l, char tag, const char *text, size_t len)
{
    uint8_t head[9];
    head[0] = (uint8_t)tag;
    for (int i = 0; i < 8; i++)
        head[1 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    yg_sha256_update(&l->hash, head, sizeof head);
    yg_sha256_update(&l->hash, text, len);
}

/* ------------------------------------------------------------ prompts */

int yg_gl_prompt(yg_loader_t *l, const yg_ynode_t *name_node, const char *what, bool need_user,
                 yg_prompt_t **out)
{
    yg_graph_t *g = l->g;
    const char *name = name_node->text;
    yg_prompt_lookup_t lookup = {.graph_dir = g->dir,
                                 .prompts_dir = g->prompts_dir,
                                 .prompts_relative = g->prompts_relative,
                                 .search_ancestors = true};
    yg_error_t rerr = {0};
    char *path = yg_prompt_resolve(name, &lookup, &rerr);
    if (!path) {
        if (rerr.code == YG_ENOMEM)
            return yg_gl_nomem(l);
        return yg_gl_error_code(l, rerr.code == YG_ENOTFOUND ? YG_ENOTFOUND : YG_EVALIDATE,
                                name_node, "%s: %s; create the prompt file or fix 'prompt' / "
                                "'prompts_dir'",
                                what, rerr.message);
    }
    yg_prompt_t *p = NULL;
    for (size_t i = 0; i < g->prompts_count; i++) {
        if (strcmp(g->prompts[i]->path, path) == 0) {
            p = g->prompts[i];
            break;
        }
    }
    if (!p) {
        size_t len = 0;
        char *text = yg_yaml_read_file(path, &len, l->err);
        if (!text) {
            free(path);
            return l->err->code;
        }
        hash_file(l, 'P', text, len);
        p = yg_prompt_load_text(name, path, text, len, l->err);
        free(text);
        if (!p) {
            free(path);
            return l->err->code ? l->err->code : YG_EVALIDATE;
        }
        yg_prompt_t **grown = realloc(g->prompts, (g->prompts_count + 1) * sizeof *grown);
        if (!grown) {
            yg_prompt_destroy(&p);
            free(path);
            return yg_gl_nomem(l);
        }
        g->prompts = grown;
        g->prompts[g->prompts_count++] = p;
    }
    free(path);
    if (need_user && !p->user_src)
        return yg_gl_error(l, name_node,
                           "%s: prompt file %s has no 'user' text; add a 'user:' template", what,
                           p->path);
    *out = p;
    return YG_OK;
}

/* ------------------------------------------------------------ subgraphs */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

int yg_gl_subgraph(yg_loader_t *l, const yg_ynode_t *path_node, const char *what,
                   yg_graph_t **out)
{
    yg_load_session_t *s = l->session;
    const char *rel = path_node->text;
    char *display = NULL;
    if (rel[0] == '/') {
        display = strdup(rel);
    } else {
        char *d = dir_of(l->file);
        if (d) {
            size_t n = strlen(d) + strlen(rel) + 2;
            display = malloc(n);
            if (display)
                snprintf(display, n, "%s/%s", strcmp(d, ".") == 0 ? "." : d, rel);
            if (display && strcmp(d, ".") == 0)
                memmove(display, display + 2, strlen(display + 2) + 1);
        }
        free(d);
    }
    if (!display)
        return yg_gl_nomem(l);
    char *abs = realpath(display, NULL);
    if (!abs) {
        int e = errno;
        int rc = yg_gl_error_code(l, YG_ENOTFOUND, path_node,
                                  "%s: subgraph file '%s' not found (looked for %s: %s); the "
                                  "path is relative to the directory of %s",
                                  what, rel, display, strerror(e), l->file);
        free(display);
        return rc;
    }
    for (size_t i = 0; i < s->depth; i++) {
        if (strcmp(s->stack[i], abs) == 0) {
            char chain[YG_ERROR_MESSAGE_MAX];
            size_t off = 0;
            chain[0] = '\0';
            for (size_t j = i; j < s->depth; j++) {
                int n = snprintf(chain + off, sizeof chain - off, "%s -> ", s->stack[j]);
                if (n < 0 || (size_t)n >= sizeof chain - off)
                    break;
                off += (size_t)n;
            }
            int rc = yg_gl_error(l, path_node,
                                 "%s: circular subgraph reference: %s%s; a graph cannot include "
                                 "itself directly or through its subgraphs",
                                 what, chain, abs);
            free(abs);
            free(display);
            return rc;
        }
    }
    for (size_t i = 0; i < s->cache_count; i++) {
        if (strcmp(s->cache[i].abs_path, abs) == 0) {
            s->cache[i].graph->refs++; /* diamond: share the compiled child */
            *out = s->cache[i].graph;
            hash_file(l, 'G', (const char *)(*out)->hash, sizeof (*out)->hash);
            free(abs);
            free(display);
            return YG_OK;
        }
    }
    if (s->depth >= YG_GRAPH_MAX_SUBGRAPH_DEPTH) {
        free(abs);
        free(display);
        return yg_gl_error(l, path_node, "%s: subgraphs nested deeper than %d levels", what,
                           YG_GRAPH_MAX_SUBGRAPH_DEPTH);
    }
    yg_graph_t *child = yg_gl_load_file(s, display, abs, l->err);
    free(display);
    if (!child) {
        free(abs);
        return l->err->code ? l->err->code : YG_EVALIDATE;
    }
    if (s->cache_count == s->cache_cap) {
        size_t ncap = s->cache_cap ? s->cache_cap * 2 : 4;
        yg_load_cache_entry_t *c = realloc(s->cache, ncap * sizeof *c);
        if (!c) {
            free(abs);
            yg_graph_destroy(&child);
            return yg_gl_nomem(l);
        }
        s->cache = c;
        s->cache_cap = ncap;
    }
    s->cache[s->cache_count].abs_path = abs;
    s->cache[s->cache_count].graph = child;
    s->cache_count++;
    hash_file(l, 'G', (const char *)child->hash, sizeof child->hash);
    *out = child;
    return YG_OK;
}

/* ------------------------------------------------------------ env expansion */

char *yg_graph_env_expand(const char *text)
{
    if (!text)
        return NULL;
    size_t cap = strlen(text) + 1, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    const char *p = text;
    while (*p) {
        const char *piece = p;
        size_t piece_len = 1;
        const char *value = NULL;
        char *owned = NULL;
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (close) {
                piece_len = (size_t)(close - p) + 1;
                const char *name = p + 2;
                size_t name_len = (size_t)(close - name);
                const char *dflt = NULL;
                size_t dflt_len = 0;
                const char *op = NULL;
                for (const char *q = name; q + 1 < close; q++) {
                    if (q[0] == ':' && q[1] == '-') {
                        op = q;
                        break;
                    }
                }
                if (op) {
                    dflt = op + 2;
                    dflt_len = (size_t)(close - dflt);
                    name_len = (size_t)(op - name);
                }
                owned = strndup(name, name_len);
                if (!owned) {
                    free(out);
                    return NULL;
                }
                const char *env = name_len ? getenv(owned) : NULL;
                free(owned);
                owned = NULL;
                if (op && (!env || !env[0])) {
                    owned = strndup(dflt, dflt_len);
                    if (!owned) {
                        free(out);
                        return NULL;
                    }
                    value = owned;
                } else if (env) {
                    value = env;
                }
            }
        }
        const char *src = value ? value : piece;
        size_t n = value ? strlen(value) : piece_len;
        if (len + n + 1 > cap) {
            size_t ncap = (len + n + 1) * 2;
            char *grown = realloc(out, ncap);
            if (!grown) {
                free(owned);
                free(out);
                return NULL;
            }
            out = grown;
            cap = ncap;
        }
        memcpy(out + len, src, n);
        len += n;
        free(owned);
        p += piece_len;
    }
    out[len] = '\0';
    return out;
}

/* ------------------------------------------------------------ sections */

static int load_top_level(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    const yg_ynode_t *r = l->root;
    static const char *const text_keys[] = {"name", "version", "description"};
    char **targets[] = {&g->name, &g->version, &g->description};
    static const char *const defaults[] = {"unnamed", "1.0", ""};
    for (size_t i = 0; i < 3; i++) {
        const yg_ynode_t *v = present(r, text_keys[i]);
        if (v && v->kind != YG_YNODE_SCALAR)
            return yg_gl_error(l, v, "'%s' must be a string, not %s", text_keys[i],
                               yg_gl_kind(v));
        if (!(*targets[i] = yg_gl_strdup(l, v ? v->text : defaults[i])))
            return YG_ENOMEM;
    }
    /* Section shapes, checked before anything is compiled. */
    static const char *const map_sections[] = {"defaults", "state",  "tools",   "loop_limits",
                                               "exports",  "inputs", "config"};
    for (size_t i = 0; i < sizeof map_sections / sizeof map_sections[0]; i++) {
        const yg_ynode_t *m;
        if (yg_gl_get_map(l, r, map_sections[i], "graph", &m) != YG_OK)
            return l->err->code;
    }
    const yg_ynode_t *nodes = yg_ynode_get(r, "nodes");
    if (!nodes || yg_ynode_is_null(nodes))
        return yg_gl_error(l, nodes ? nodes : r,
                           "the graph has no 'nodes' section; add 'nodes:' with at least one "
                           "node");
    if (nodes->kind != YG_YNODE_MAP)
        return yg_gl_error(l, nodes,
                           "'nodes' must be a mapping of node name -> definition, not %s",
                           yg_gl_kind(nodes));
    if (nodes->count == 0)
        return yg_gl_error(l, nodes, "'nodes' is empty; define at least one node");
    const yg_ynode_t *edges = yg_ynode_get(r, "edges");
    if (!edges || yg_ynode_is_null(edges))
        return yg_gl_error(l, edges ? edges : r,
                           "the graph has no 'edges' section; add 'edges:' with at least "
                           "'- from: START' and a 'to:'");
    if (edges->kind != YG_YNODE_SEQ)
        return yg_gl_error(l, edges,
                           "'edges' must be a list of {from, to} entries (each starting with "
                           "'- '), not %s",
                           yg_gl_kind(edges));
    if (edges->count == 0)
        return yg_gl_error(l, edges, "'edges' is empty; add at least an edge from START");
    return YG_OK;
}

static int load_defaults(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    const yg_ynode_t *d = yg_ynode_get(l->root, "defaults");
    if (d && d->kind != YG_YNODE_MAP)
        d = NULL;
    if (yg_gl_get_str(l, d, "provider", "defaults", &g->default_provider, NULL) != YG_OK ||
        yg_gl_get_number(l, d, "temperature", "defaults", 0.0, &g->default_temperature,
                         &g->has_default_temperature) != YG_OK ||
        yg_gl_get_bool(l, d, "prompts_relative", "defaults", &g->prompts_relative, NULL) !=
            YG_OK ||
        yg_gl_get_str(l, d, "prompts_dir", "defaults", &g->prompts_dir, NULL) != YG_OK)
        return l->err->code;
    /* Top level wins over defaults (spec 1.2). */
    if (yg_gl_get_bool(l, l->root, "prompts_relative", "graph", &g->prompts_relative, NULL) !=
            YG_OK ||
        yg_gl_get_str(l, l->root, "prompts_dir", "graph", &g->prompts_dir, NULL) != YG_OK)
        return l->err->code;
    const yg_ynode_t *c = yg_ynode_get(l->root, "config");
    if (c && c->kind != YG_YNODE_MAP)
        c = NULL;
    g->recursion_limit = YG_DEFAULT_RECURSION_LIMIT;
    g->max_map_items = -1;
    if (yg_gl_get_int(l, c, "recursion_limit", "config", 1, &g->recursion_limit, NULL) !=
            YG_OK ||
        yg_gl_get_int(l, c, "max_map_items", "config", 1, &g->max_map_items, NULL) != YG_OK)
        return l->err->code;
    return YG_OK;
}

/* ------------------------------------------------------------ tools (spec 8) */

static void tool_free(yg_tool_t *t)
{
    if (!t)
        return;
    free(t->name);
    free(t->description);
    free(t->command);
    free(t->parse);
    free(t->working_dir);
    yg_value_destroy(&t->env);
    free(t->success_codes);
    yg_gl_strlist_free(&t->placeholders, &t->placeholders_count);
    free(t->module);
    free(t->function);
    free(t->provider);
    free(t);
}

static int load_shell_tool(yg_loader_t *l, yg_tool_t *t, const yg_ynode_t *def, const char *what,
                           const yg_ynode_t *key)
{
    t->type = YG_TOOL_SHELL;
    if (yg_gl_get_str(l, def, "command", what, &t->command, NULL) != YG_OK)
        return l->err->code;
    if (!t->command)
        return yg_gl_error(l, key, "%s: shell tools need a 'command' (e.g. command: echo {x})",
                           what);
    if (yg_gl_get_str(l, def, "parse", what, &t->parse, NULL) != YG_OK)
        return l->err->code;
    if (!t->parse || (strcmp(t->parse, "json") != 0 && strcmp(t->parse, "none") != 0)) {
        free(t->parse); /* unknown values act as text (spec 8.1) */
        if (!(t->parse = yg_gl_strdup(l, "text")))
            return YG_ENOMEM;
    }
    t->timeout_s = YG_DEFAULT_TOOL_TIMEOUT_S;
    if (yg_gl_get_number(l, def, "timeout", what, 0.0, &t->timeout_s, NULL) != YG_OK)
        return l->err->code;
    if (t->timeout_s <= 0)
        return yg_gl_error(l, yg_ynode_get(def, "timeout"), "%s: 'timeout' must be > 0 seconds",
                           what);
    if (yg_gl_get_str(l, def, "working_dir", what, &t->working_dir, NULL) != YG_OK)
        return l->err->code;
    if (!t->working_dir && !(t->working_dir = yg_gl_strdup(l, ".")))
        return YG_ENOMEM;
    const yg_ynode_t *env;
    if (yg_gl_get_map(l, def, "env", what, &env) != YG_OK)
        return l->err->code;
    if (!(t->env = yg_map_new()))
        return yg_gl_nomem(l);
    for (size_t i = 0; env && i < env->count; i++) {
        const yg_ynode_t *v = env->items[i];
        if (v->kind != YG_YNODE_SCALAR)
            return yg_gl_error(l, v, "%s: env value '%s' must be a string, not %s", what,
                               env->keys[i]->text, yg_gl_kind(v));
        if (yg_map_set(t->env, env->keys[i]->text, yg_str_new(v->text)) != YG_OK)
            return yg_gl_nomem(l);
    }
    const yg_ynode_t *codes = present(def, "success_codes");
    if (codes && codes->kind != YG_YNODE_SEQ)
        return yg_gl_error(l, codes, "%s: 'success_codes' must be a list of exit codes, e.g. [0, 1]",
                           what);
    size_t n = codes ? codes->count : 0;
    t->success_codes = calloc(n ? n : 1, sizeof *t->success_codes);
    if (!t->success_codes)
        return yg_gl_nomem(l);
    t->success_codes_count = n ? n : 1; /* default {0} */
    for (size_t i = 0; i < n; i++) {
        long long c;
        if (!yg_ynode_as_int(codes->items[i], &c) || c < 0 || c > 255)
            return yg_gl_error(l, codes->items[i],
                               "%s: success code must be an integer exit status 0-255", what);
        t->success_codes[i] = c;
    }
    t->placeholders_count = yg_shell_placeholders(t->command, &t->placeholders);
    return YG_OK;
}

static int load_tool(yg_loader_t *l, const yg_ynode_t *key, const yg_ynode_t *def)
{
    char what[256];
    snprintf(what, sizeof what, "tool '%s'", key->text);
    if (def->kind != YG_YNODE_MAP)
        return yg_gl_error(l, def, "%s: the definition must be a mapping (type, command or "
                           "module/function), not %s",
                           what, yg_gl_kind(def));
    yg_tool_t *t = calloc(1, sizeof *t);
    if (!t)
        return yg_gl_nomem(l);
    yg_graph_t *g = l->g;
    yg_tool_t **grown = realloc(g->tools, (g->tools_count + 1) * sizeof *grown);
    if (!grown) {
        free(t);
        return yg_gl_nomem(l);
    }
    g->tools = grown;
    g->tools[g->tools_count++] = t; /* owned by the graph from here on */
    t->pos = (yg_pos_t){key->line, key->column};
    if (!(t->name = yg_gl_strdup(l, key->text)))
        return YG_ENOMEM;
    char *type = NULL;
    int rc = yg_gl_get_str(l, def, "type", what, &type, NULL);
    if (rc == YG_OK)
        rc = yg_gl_get_str(l, def, "description", what, &t->description, NULL);
    if (rc == YG_OK && !t->description && !(t->description = yg_gl_strdup(l, "")))
        rc = YG_ENOMEM;
    if (rc != YG_OK) {
        free(type);
        return l->err->code;
    }
    const yg_ynode_t *type_node = yg_ynode_get(def, "type");
    if (type && strcmp(type, "python") == 0) {
        t->type = YG_TOOL_PYTHON;
        rc = yg_gl_get_str(l, def, "module", what, &t->module, NULL);
        if (rc == YG_OK)
            rc = yg_gl_get_str(l, def, "function", what, &t->function, NULL);
        if (rc == YG_OK && (!t->module || !t->function))
            rc = yg_gl_error(l, key,
                             "%s: python tools need both 'module' and 'function' (the plugin "
                             "library and its exported symbol)",
                             what);
    } else if (type && strcmp(type, "websearch") == 0) {
        t->type = YG_TOOL_WEBSEARCH;
        t->max_results = YG_DEFAULT_WEBSEARCH_RESULTS;
        t->timeout_s = YG_DEFAULT_TOOL_TIMEOUT_S;
        rc = yg_gl_get_str(l, def, "provider", what, &t->provider, NULL);
        if (rc == YG_OK && !t->provider && !(t->provider = yg_gl_strdup(l, "duckduckgo")))
            rc = YG_ENOMEM;
        if (rc == YG_OK)
            rc = yg_gl_get_int(l, def, "max_results", what, 1, &t->max_results, NULL);
        if (rc == YG_OK)
            rc = yg_gl_get_number(l, def, "timeout", what, 0.0, &t->timeout_s, NULL);
    } else if (!type || strcmp(type, "shell") == 0 || present(def, "command")) {
        rc = load_shell_tool(l, t, def, what, key);
    } else {
        rc = yg_gl_error(l, type_node,
                         "%s: unknown tool type '%s' (expected shell, python or websearch)", what,
                         type);
    }
    free(type);
    return rc == YG_OK ? YG_OK : (l->err->code ? l->err->code : rc);
}

static int load_tools(yg_loader_t *l)
{
    const yg_ynode_t *tools = yg_ynode_get(l->root, "tools");
    if (!tools || tools->kind != YG_YNODE_MAP)
        return YG_OK;
    for (size_t i = 0; i < tools->count; i++)
        if (load_tool(l, tools->keys[i], tools->items[i]) != YG_OK)
            return l->err->code;
    return YG_OK;
}

/* ------------------------------------------------------------ state keys (2.1) */

/* Declare or redeclare a key: a later source replaces type and reducer but
 * keeps the key's first position (spec 2.1). */
static int key_set(yg_graph_t *g, const char *name, const char *type, yg_reducer_t reducer)
{
    if (!g->key_index && !(g->key_index = yg_map_new()))
        return YG_ENOMEM;
    yg_value_t *at = yg_map_get(g->key_index, name);
    if (at) {
        yg_state_key_t *k = &g->keys[yg_value_int(at)];
        char *t = strdup(type);
        if (!t)
            return YG_ENOMEM;
        free(k->type);
        k->type = t;
        k->reducer = reducer;
        return YG_OK;
    }
    yg_state_key_t *grown = realloc(g->keys, (g->keys_count + 1) * sizeof *grown);
    if (!grown)
        return YG_ENOMEM;
    g->keys = grown;
    yg_state_key_t *k = &g->keys[g->keys_count];
    k->name = strdup(name);
    k->type = strdup(type);
    k->reducer = reducer;
    if (!k->name || !k->type ||
        yg_map_set(g->key_index, name, yg_int_new((int64_t)g->keys_count)) != YG_OK) {
        free(k->name);
        free(k->type);
        return YG_ENOMEM;
    }
    g->keys_count++;
    return YG_OK;
}

/* Normalise a `state:` type string (spec 2.1); unknown -> "any". */
static const char *state_type(const yg_ynode_t *v)
{
    static const struct {
        const char *in, *out;
    } table[] = {{"str", "str"},   {"string", "str"}, {"int", "int"},   {"integer", "int"},
                 {"float", "float"}, {"bool", "bool"}, {"boolean", "bool"}, {"list", "list"},
                 {"dict", "dict"}, {"any", "any"}};
    if (v && v->kind == YG_YNODE_SCALAR)
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (strcasecmp(v->text, table[i].in) == 0)
                return table[i].out;
    return "any";
}

static int build_state_keys(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    static const struct {
        const char *name, *type;
        yg_reducer_t reducer;
    } base[] = {
        {"thread_id", "str", YG_REDUCER_REPLACE},
        {"current_step", "str", YG_REDUCER_REPLACE},
        {"error", "any", YG_REDUCER_REPLACE},
        {"errors", "list", YG_REDUCER_APPEND},
        {"messages", "list", YG_REDUCER_APPEND},
        {"_loop_counts", "dict", YG_REDUCER_REPLACE},
        {"_loop_limit_reached", "bool", YG_REDUCER_REPLACE},
        {"_agent_iterations", "int", YG_REDUCER_REPLACE},
        {"_agent_limit_reached", "bool", YG_REDUCER_REPLACE},
        {"started_at", "any", YG_REDUCER_REPLACE},
        {"completed_at", "any", YG_REDUCER_REPLACE},
        /* common input keys */
        {"input", "str", YG_REDUCER_REPLACE},
        {"topic", "str", YG_REDUCER_REPLACE},
        {"style", "str", YG_REDUCER_REPLACE},
        {"word_count", "int", YG_REDUCER_REPLACE},
        {"message", "str", YG_REDUCER_REPLACE},
    };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        if (key_set(g, base[i].name, base[i].type, base[i].reducer) != YG_OK)
            return yg_gl_nomem(l);
    const yg_ynode_t *state = yg_ynode_get(l->root, "state");
    for (size_t i = 0; state && state->kind == YG_YNODE_MAP && i < state->count; i++)
        if (key_set(g, state->keys[i]->text, state_type(state->items[i]), YG_REDUCER_REPLACE) !=
            YG_OK)
            return yg_gl_nomem(l);
    bool has_router = false, has_agent = false;
    for (size_t i = 0; i < g->top_nodes_count; i++) {
        yg_node_t *n = g->nodes[i];
        if (n->state_key_explicit && n->state_key &&
            key_set(g, n->state_key, "any", YG_REDUCER_REPLACE) != YG_OK)
            return yg_gl_nomem(l);
        has_router |= n->type == YG_NODE_ROUTER;
        has_agent |= n->type == YG_NODE_AGENT;
    }
    if (has_router && key_set(g, "_route", "str", YG_REDUCER_REPLACE) != YG_OK)
        return yg_gl_nomem(l);
    if (has_agent && (key_set(g, "input", "str", YG_REDUCER_REPLACE) != YG_OK ||
                      key_set(g, "_tool_results", "list", YG_REDUCER_REPLACE) != YG_OK))
        return yg_gl_nomem(l);
    for (size_t i = 0; i < g->top_nodes_count; i++) {
        yg_node_t *n = g->nodes[i];
        if (n->type == YG_NODE_MAP && n->collect &&
            key_set(g, n->collect, "list", YG_REDUCER_COLLECT) != YG_OK)
            return yg_gl_nomem(l);
    }
    return YG_OK;
}

/* ------------------------------------------------------------ checkpointer (9.1) */

static int ckpt_expanded(yg_loader_t *l, const yg_ynode_t *c, const char *key, char **out)
{
    char *raw = NULL;
    if (yg_gl_get_str(l, c, key, "checkpointer", &raw, NULL) != YG_OK)
        return l->err->code;
    if (!raw)
        return YG_OK;
    *out = yg_graph_env_expand(raw);
    free(raw);
    return *out ? YG_OK : yg_gl_nomem(l);
}

/* checkpointer.durability: "sync" or "async" [C] (docs/checkpoints.md). */
static int load_durability(yg_loader_t *l, const yg_ynode_t *c, yg_ckpt_config_t *ck)
{
    char *text = NULL;
    if (yg_gl_get_str(l, c, "durability", "checkpointer", &text, NULL) != YG_OK)
        return l->err->code;
    if (!text)
        return YG_OK;
    yg_durability_t d = YG_DURABILITY_DEFAULT;
    int rc = yg_durability_parse(text, &d);
    if (rc != YG_OK)
        rc = yg_gl_error(l, yg_ynode_get(c, "durability"),
                         "Unknown checkpointer durability: %s (expected sync or async)", text);
    free(text);
    ck->durability = (int)d;
    return rc;
}

static int load_checkpointer(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    yg_ckpt_config_t *ck = &g->checkpointer;
    const yg_ynode_t *c = yg_ynode_get(l->root, "checkpointer");
    ck->type = YG_CKPT_NONE;
    ck->ttl = -1;
    if (!c || yg_ynode_is_null(c))
        return YG_OK;
    if (c->kind != YG_YNODE_MAP)
        return yg_gl_error(l, c,
                           "'checkpointer' must be a mapping such as {type: memory}, not %s",
                           yg_gl_kind(c));
    if (c->count == 0)
        return YG_OK; /* an empty section means no checkpointer */
    ck->pos = (yg_pos_t){c->line, c->column};
    g->has_checkpointer = true;
    if (yg_gl_get_str(l, c, "type", "checkpointer", &ck->type_name, NULL) != YG_OK)
        return l->err->code;
    if (!ck->type_name && !(ck->type_name = yg_gl_strdup(l, "memory")))
        return YG_ENOMEM;
    static const struct {
        const char *name;
        yg_ckpt_type_t type;
    } types[] = {{"memory", YG_CKPT_MEMORY},
                 {"sqlite", YG_CKPT_SQLITE},
                 {"redis", YG_CKPT_REDIS},
                 {"redis-simple", YG_CKPT_REDIS_SIMPLE},
                 {"file", YG_CKPT_FILE}};
    bool known = false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(ck->type_name, types[i].name) == 0) {
            ck->type = types[i].type;
            known = true;
        }
    }
    if (!known)
        return yg_gl_error(l, yg_ynode_get(c, "type"),
                           "Unknown checkpointer type: %s (expected memory, sqlite, redis, "
                           "redis-simple or file)",
                           ck->type_name);
    if (ckpt_expanded(l, c, "path", &ck->path) != YG_OK ||
        ckpt_expanded(l, c, "url", &ck->url) != YG_OK ||
        yg_gl_get_str(l, c, "key_prefix", "checkpointer", &ck->key_prefix, NULL) != YG_OK)
        return l->err->code;
    if (ck->type == YG_CKPT_SQLITE && !ck->path && !(ck->path = yg_gl_strdup(l, ":memory:")))
        return YG_ENOMEM;
    if ((ck->type == YG_CKPT_REDIS || ck->type == YG_CKPT_REDIS_SIMPLE) && !ck->url &&
        !(ck->url = yg_gl_strdup(l, "")))
        return YG_ENOMEM;
    if (ck->type == YG_CKPT_REDIS_SIMPLE && !ck->key_prefix &&
        !(ck->key_prefix = yg_gl_strdup(l, "lg:")))
        return YG_ENOMEM;
    if (ck->type == YG_CKPT_REDIS)
        ck->ttl = YG_DEFAULT_REDIS_TTL_MINUTES;
    if (yg_gl_get_int(l, c, "ttl", "checkpointer", 0, &ck->ttl, NULL) != YG_OK)
        return l->err->code;
    return load_durability(l, c, ck);
}

/* ------------------------------------------------------------ exports (12.1) */

static int load_exports(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    const yg_ynode_t *ex = yg_ynode_get(l->root, "exports");
    if (!ex || ex->kind != YG_YNODE_MAP || ex->count == 0)
        return YG_OK;
    g->exports = calloc(ex->count, sizeof *g->exports);
    if (!g->exports)
        return yg_gl_nomem(l);
    for (size_t i = 0; i < ex->count; i++) {
        const char *key = ex->keys[i]->text;
        const yg_ynode_t *def = ex->items[i];
        char what[256];
        snprintf(what, sizeof what, "export '%s'", key);
        if (!yg_ynode_is_null(def) && def->kind != YG_YNODE_MAP)
            return yg_gl_error(l, def, "%s: must be a mapping {format, filename}, not %s", what,
                               yg_gl_kind(def));
        yg_export_t *e = &g->exports[g->exports_count++];
        if (!(e->key = yg_gl_strdup(l, key)))
            return YG_ENOMEM;
        const yg_ynode_t *d = def->kind == YG_YNODE_MAP ? def : NULL;
        if (yg_gl_get_str(l, d, "format", what, &e->format, NULL) != YG_OK ||
            yg_gl_get_str(l, d, "filename", what, &e->filename, NULL) != YG_OK)
            return l->err->code;
        if (!e->format && !(e->format = yg_gl_strdup(l, "text")))
            return YG_ENOMEM;
        if (e->filename && (strchr(e->filename, '/') || strcmp(e->filename, "..") == 0))
            return yg_gl_error(l, yg_ynode_get(d, "filename"),
                               "%s: 'filename' must be a plain file name without '/'", what);
        if (!e->filename) {
            size_t n = strlen(key) + sizeof ".txt";
            if (!(e->filename = malloc(n)))
                return yg_gl_nomem(l);
            snprintf(e->filename, n, "%s.txt", key);
        }
    }
    return YG_OK;
}

static int load_plain_values(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    const yg_ynode_t *inputs = yg_ynode_get(l->root, "inputs");
    if (inputs && inputs->kind == YG_YNODE_MAP && !(g->inputs = yg_ynode_to_value(inputs)))
        return yg_gl_nomem(l);
    const yg_ynode_t *ll = yg_ynode_get(l->root, "loop_limits");
    if (ll && ll->kind == YG_YNODE_MAP && !(g->loop_limits = yg_ynode_to_value(ll)))
        return yg_gl_nomem(l);
    return YG_OK;
}

/* ------------------------------------------------------------ load */

static int graph_paths(yg_graph_t *g, const char *abs_path)
{
    g->path = strdup(abs_path);
    g->dir = dir_of(abs_path);
    return g->path && g->dir ? YG_OK : YG_ENOMEM;
}

static int graph_build(yg_loader_t *l)
{
    int rc;
    if ((rc = load_top_level(l)) != YG_OK || (rc = load_defaults(l)) != YG_OK ||
        (rc = load_plain_values(l)) != YG_OK || (rc = load_tools(l)) != YG_OK ||
        (rc = yg_gl_nodes(l)) != YG_OK || (rc = yg_gl_edges(l)) != YG_OK)
        return rc;
    yg_gl_loops(l->g);
    if ((rc = build_state_keys(l)) != YG_OK || (rc = yg_gl_reads(l)) != YG_OK ||
        (rc = load_checkpointer(l)) != YG_OK || (rc = load_exports(l)) != YG_OK ||
        (rc = yg_gl_engine_checks(l)) != YG_OK)
        return rc;
    return YG_OK;
}

yg_graph_t *yg_gl_load_file(yg_load_session_t *session, const char *display_path,
                            const char *abs_path, yg_error_t *err)
{
    yg_loader_t l;
    memset(&l, 0, sizeof l);
    l.session = session;
    l.file = display_path;
    l.err = err;
    size_t len = 0;
    char *text = yg_yaml_read_file(abs_path, &len, err);
    if (!text) {
        if (err && err->code != YG_ENOMEM)
            snprintf(err->file, sizeof err->file, "%s", display_path);
        return NULL;
    }
    yg_graph_t *g = calloc(1, sizeof *g);
    if (!g || graph_paths(g, abs_path) != YG_OK) {
        free(text);
        if (g)
            yg_graph_destroy(&g);
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    g->refs = 1;
    l.g = g;
    yg_sha256_init(&l.hash);
    hash_file(&l, 'Y', text, len);
    yg_ynode_t *root = yg_yaml_load_string(text, len, display_path, err);
    free(text);
    if (!root) {
        yg_graph_destroy(&g);
        return NULL;
    }
    l.root = root;
    session->stack[session->depth++] = (char *)abs_path;
    int rc = graph_build(&l);
    session->depth--;
    free(l.defs);
    free(l.keys);
    yg_ynode_destroy(&root);
    if (rc != YG_OK) {
        if (err && err->code == YG_OK)
            yg_error_set_at(err, rc, display_path, 0, 0, "graph failed to load (%s)",
                            yg_strerror(rc));
        yg_graph_destroy(&g);
        return NULL;
    }
    yg_sha256_final(&l.hash, g->hash);
    yg_sha256_hex(g->hash, g->hash_hex);
    return g;
}

yg_graph_t *yg_graph_load(const char *path, yg_error_t *err)
{
    yg_error_clear(err);
    if (!path || !path[0]) {
        yg_error_set(err, YG_EINVAL, "no graph file given");
        return NULL;
    }
    char *abs = realpath(path, NULL);
    if (!abs) {
        int e = errno;
        yg_error_set_at(err, e == ENOENT ? YG_ENOTFOUND : YG_EIO, path, 0, 0,
                        "cannot open graph file: %s", strerror(e));
        return NULL;
    }
    yg_load_session_t session;
    memset(&session, 0, sizeof session);
    yg_graph_t *g = yg_gl_load_file(&session, path, abs, err);
    for (size_t i = 0; i < session.cache_count; i++)
        free(session.cache[i].abs_path);
    free(session.cache);
    free(abs);
    return g;
}

/* ------------------------------------------------------------ destroy, lookups */

static void edge_free(yg_edge_t *e)
{
    free(e->from);
    for (size_t i = 0; e->to && i < e->to_count; i++)
        free(e->to[i]);
    free(e->to);
    free(e->to_index);
    free(e->condition_src);
    yg_cond_destroy(&e->condition);
}

void yg_graph_destroy(yg_graph_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_graph_t *g = *self_p;
    *self_p = NULL;
    if (--g->refs > 0)
        return;
    for (size_t i = 0; i < g->nodes_count; i++)
        yg_gl_node_free(g->nodes[i]);
    free(g->nodes);
    for (size_t i = 0; i < g->edges_count; i++)
        edge_free(&g->edges[i]);
    free(g->edges);
    free(g->start_edges);
    for (size_t i = 0; i < g->keys_count; i++) {
        free(g->keys[i].name);
        free(g->keys[i].type);
    }
    free(g->keys);
    for (size_t i = 0; i < g->tools_count; i++)
        tool_free(g->tools[i]);
    free(g->tools);
    for (size_t i = 0; i < g->prompts_count; i++)
        yg_prompt_destroy(&g->prompts[i]);
    free(g->prompts);
    for (size_t i = 0; i < g->exports_count; i++) {
        free(g->exports[i].key);
        free(g->exports[i].format);
        free(g->exports[i].filename);
    }
    free(g->exports);
    yg_value_destroy(&g->node_index);
    yg_value_destroy(&g->key_index);
    yg_value_destroy(&g->inputs);
    yg_value_destroy(&g->loop_limits);
    free(g->checkpointer.type_name);
    free(g->checkpointer.path);
    free(g->checkpointer.url);
    free(g->checkpointer.key_prefix);
    free(g->path);
    free(g->dir);
    free(g->name);
    free(g->version);
    free(g->description);
    free(g->default_provider);
    free(g->prompts_dir);
    free(g);
}

yg_node_t *yg_graph_node(const yg_graph_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    if (self->node_index) {
        yg_value_t *at = yg_map_get(self->node_index, name);
        size_t i = at ? (size_t)yg_value_int(at) : (size_t)-1;
        return i < self->nodes_count ? self->nodes[i] : NULL;
    }
    for (size_t i = 0; i < self->nodes_count; i++)
        if (strcmp(self->nodes[i]->name, name) == 0)
            return self->nodes[i];
    return NULL;
}

const yg_state_key_t *yg_graph_key(const yg_graph_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    if (self->key_index) {
        yg_value_t *at = yg_map_get(self->key_index, name);
        size_t i = at ? (size_t)yg_value_int(at) : (size_t)-1;
        return i < self->keys_count ? &self->keys[i] : NULL;
    }
    for (size_t i = 0; i < self->keys_count; i++)
        if (strcmp(self->keys[i].name, name) == 0)
            return &self->keys[i];
    return NULL;
}

const yg_tool_t *yg_graph_tool(const yg_graph_t *self, const char *name)
{
    if (!self || !name)
        return NULL;
    for (size_t i = 0; i < self->tools_count; i++)
        if (strcmp(self->tools[i]->name, name) == 0)
            return self->tools[i];
    return NULL;
}

const char *yg_node_type_name(yg_node_type_t type)
{
    switch (type) {
    case YG_NODE_LLM: return "llm";
    case YG_NODE_ROUTER: return "router";
    case YG_NODE_AGENT: return "agent";
    case YG_NODE_PYTHON: return "python";
    case YG_NODE_MAP: return "map";
    case YG_NODE_INTERRUPT: return "interrupt";
    case YG_NODE_PASSTHROUGH: return "passthrough";
    case YG_NODE_TOOL: return "tool";
    case YG_NODE_TOOL_CALL: return "tool_call";
    case YG_NODE_SUBGRAPH: return "subgraph";
    }
    return "unknown";
}
