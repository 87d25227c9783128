/*
 * yg_mermaid.c - Mermaid flowchart of a compiled graph.
 *
 * Mermaid node ids are derived from node names (other characters become
 * '_', keywords such as `end` get a suffix, clashes get _2, _3...), so the
 * text stays readable; labels always carry the real names, quoted.
 */
#include "yg_mermaid.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MERMAID_START_ID "__start__"
#define MERMAID_END_ID "__end__"
#define MERMAID_INDENT "    "

/* Words Mermaid's flowchart grammar treats specially as bare ids. */
static const char *const MERMAID_KEYWORDS[] = {
    "end", "graph", "flowchart", "subgraph", "style", "classdef", "class", "click",
    "linkstyle", "default", "direction", "call", "href", "interpolate",
};

/* ------------------------------------------------------------------------ */
/* String builder                                                             */

typedef struct {
    char *buf;
    size_t len;
    size_t cap;
    bool nomem;
} sbuf_t;

static void sb_append(sbuf_t *sb, const char *s, size_t n)
{
    if (sb->nomem)
        return;
    if (sb->len + n + 1 > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 1024;
        while (cap < sb->len + n + 1)
            cap *= 2;
        char *b = realloc(sb->buf, cap);
        if (!b) {
            sb->nomem = true;
            return;
        }
        sb->buf = b;
        sb->cap = cap;
    }
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

static void sb_puts(sbuf_t *sb, const char *s)
{
    sb_append(sb, s, strlen(s));
}

static void sb_printf(sbuf_t *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *sb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->nomem = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_append(sb, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        sb->nomem = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_append(sb, big, (size_t)n);
    free(big);
}

/* Label text for inside "...": quotes become #quot;, a '<' that could open
 * an HTML tag becomes #lt;, line breaks become spaces. */
static void sb_label(sbuf_t *sb, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '"')
            sb_puts(sb, "#quot;");
        else if (*p == '<' && (isalpha((unsigned char)p[1]) || p[1] == '/' || p[1] == '!'))
            sb_puts(sb, "#lt;");
        else if (*p == '\n' || *p == '\r' || *p == '\t')
            sb_puts(sb, " ");
        else
            sb_append(sb, p, 1);
    }
}

/* ------------------------------------------------------------------------ */
/* Ids                                                                        */

static bool id_taken(char **ids, size_t n, const char *id)
{
    if (strcmp(id, MERMAID_START_ID) == 0 || strcmp(id, MERMAID_END_ID) == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (ids[i] && strcmp(ids[i], id) == 0)
            return true;
    return false;
}

static bool is_keyword(const char *id)
{
    for (size_t i = 0; i < sizeof MERMAID_KEYWORDS / sizeof MERMAID_KEYWORDS[0]; i++)
        if (strcasecmp(id, MERMAID_KEYWORDS[i]) == 0)
            return true;
    return false;
}

/* A unique, safe id for node name (malloc'd); ids[0..n) are taken. */
static char *make_id(char **ids, size_t n, const char *name)
{
    size_t len = strlen(name);
    char *base = malloc(len + 4);
    if (!base)
        return NULL;
    size_t o = 0;
    if (len == 0 || isdigit((unsigned char)name[0])) {
        base[o++] = 'n';
        base[o++] = '_';
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        base[o++] = (char)(isalnum(c) || c == '_' ? c : '_');
    }
    base[o] = '\0';
    if (is_keyword(base)) {
        base[o++] = '_';
        base[o] = '\0';
    }
    if (!id_taken(ids, n, base))
        return base;
    size_t cap = o + 24;
    char *id = malloc(cap);
    for (unsigned k = 2; id; k++) {
        snprintf(id, cap, "%s_%u", base, k);
        if (!id_taken(ids, n, id))
            break;
    }
    free(base);
    return id;
}

/* ------------------------------------------------------------------------ */
/* Nodes                                                                      */

typedef struct {
    const char *open;
    const char *close;
} shape_t;

static shape_t node_shape(yg_node_type_t type)
{
    switch (type) {
    case YG_NODE_ROUTER: return (shape_t){"{\"", "\"}"};
    case YG_NODE_MAP: return (shape_t){"[[\"", "\"]]"};
    case YG_NODE_SUBGRAPH: return (shape_t){"[[\"", "\"]]"};
    case YG_NODE_INTERRUPT: return (shape_t){"{{\"", "\"}}"};
    case YG_NODE_PASSTHROUGH: return (shape_t){"(\"", "\")"};
    case YG_NODE_PYTHON: return (shape_t){"[/\"", "\"/]"};
    case YG_NODE_TOOL: return (shape_t){"[\\\"", "\"\\]"};
    case YG_NODE_TOOL_CALL: return (shape_t){"[/\"", "\"\\]"};
    case YG_NODE_AGENT: return (shape_t){">\"", "\"]"};
    case YG_NODE_LLM:
    default: return (shape_t){"[\"", "\"]"};
    }
}

/* The map node owning sub-node `sub`, or NULL. */
static const yg_node_t *owning_map(const yg_graph_t *g, const yg_node_t *sub)
{
    for (size_t i = 0; i < g->nodes_count; i++)
        if (g->nodes[i]->type == YG_NODE_MAP && g->nodes[i]->sub == sub)
            return g->nodes[i];
    return NULL;
}

/* Label body (inside the quotes) of one node. */
static void node_label(sbuf_t *sb, const yg_graph_t *g, const yg_node_t *n)
{
    if (n->is_map_sub) {
        const yg_node_t *map = owning_map(g, n);
        sb_label(sb, map ? map->name : n->name);
        sb_puts(sb, ": each ");
        sb_label(sb, map && map->as ? map->as : "item");
    } else {
        if (n->type == YG_NODE_INTERRUPT)
            sb_puts(sb, "⏸ ");
        sb_label(sb, n->name);
    }
    switch (n->type) {
    case YG_NODE_MAP:
        sb_puts(sb, "<br/>map over ");
        sb_label(sb, n->over_path ? n->over_path : n->over);
        sb_puts(sb, " → ");
        sb_label(sb, n->collect);
        break;
    case YG_NODE_INTERRUPT:
        sb_puts(sb, "<br/>interrupt");
        break;
    case YG_NODE_PYTHON:
        sb_puts(sb, "<br/>python: ");
        if (n->tool_def && n->tool_def->module) {
            sb_label(sb, n->tool_def->module);
            sb_puts(sb, ".");
            sb_label(sb, n->tool_def->function);
        } else {
            sb_label(sb, n->tool);
        }
        break;
    case YG_NODE_TOOL:
        sb_puts(sb, "<br/>tool: ");
        sb_label(sb, n->tool);
        break;
    case YG_NODE_TOOL_CALL:
        sb_puts(sb, "<br/>tool_call");
        break;
    case YG_NODE_AGENT:
        sb_printf(sb, "<br/>agent, %zu tool%s", n->tools_count, n->tools_count == 1 ? "" : "s");
        break;
    case YG_NODE_SUBGRAPH:
        sb_puts(sb, "<br/>subgraph: ");
        sb_label(sb, n->graph_path);
        break;
    case YG_NODE_LLM:
    case YG_NODE_ROUTER:
        if (n->is_map_sub && n->prompt_name) {
            sb_puts(sb, "<br/>prompt: ");
            sb_label(sb, n->prompt_name);
        }
        break;
    case YG_NODE_PASSTHROUGH:
        break;
    }
    if (n->loop_limit >= 0)
        sb_printf(sb, "<br/>loop limit: %lld", (long long)n->loop_limit);
}

static void render_node(sbuf_t *sb, const yg_graph_t *g, const yg_node_t *n, const char *id)
{
    shape_t s = node_shape(n->type);
    sb_puts(sb, MERMAID_INDENT);
    sb_puts(sb, id);
    sb_puts(sb, s.open);
    node_label(sb, g, n);
    sb_puts(sb, s.close);
    sb_puts(sb, "\n");
}

/* ------------------------------------------------------------------------ */
/* Edges                                                                      */

static const char *end_id(char **ids, size_t index)
{
    if (index == YG_START_INDEX)
        return MERMAID_START_ID;
    if (index == YG_END_INDEX)
        return MERMAID_END_ID;
    return ids[index];
}

static void render_arrow(sbuf_t *sb, const char *from, const char *arrow, const char *label,
                         const char *to)
{
    sb_printf(sb, MERMAID_INDENT "%s %s", from, arrow);
    if (label && *label) {
        sb_puts(sb, "|\"");
        sb_label(sb, label);
        sb_puts(sb, "\"|");
    }
    sb_printf(sb, " %s\n", to);
}

/* Route labels of router `src` that lead to `target`, joined by ", " (malloc'd, may be ""). */
static char *route_labels(const yg_node_t *src, const char *target)
{
    sbuf_t sb = {0};
    sb_puts(&sb, "");
    if (src && src->type == YG_NODE_ROUTER && src->routes) {
        size_t n = yg_map_size(src->routes);
        for (size_t i = 0; i < n; i++) {
            const char *to = yg_value_str(yg_map_value_at(src->routes, i));
            if (!to || strcmp(to, target) != 0)
                continue;
            if (sb.len)
                sb_puts(&sb, ", ");
            sb_puts(&sb, yg_map_key_at(src->routes, i));
        }
    }
    if (sb.nomem) {
        free(sb.buf);
        return NULL;
    }
    return sb.buf;
}

static void render_edge(sbuf_t *sb, const yg_graph_t *g, char **ids, const yg_edge_t *e)
{
    const yg_node_t *src = e->from_index < g->nodes_count ? g->nodes[e->from_index] : NULL;
    /* An edge leaving a map fires after its items: draw it from the
     * per-item sub-node so the picture reads map -> each item -> next. */
    const char *from = src && src->type == YG_NODE_MAP && src->sub ? ids[src->sub->index]
                                                                   : end_id(ids, e->from_index);
    for (size_t k = 0; k < e->to_count; k++) {
        size_t ti = e->to_index[k];
        if (ti != YG_END_INDEX && ti >= g->nodes_count)
            continue;
        const char *to = end_id(ids, ti);
        switch (e->kind) {
        case YG_EDGE_CONDITION:
            render_arrow(sb, from, "-.->", e->condition_src, to);
            break;
        case YG_EDGE_ROUTER: {
            char *labels = route_labels(src, e->to[k]);
            if (!labels)
                sb->nomem = true;
            render_arrow(sb, from, "-.->", labels, to);
            free(labels);
            break;
        }
        case YG_EDGE_FANOUT: {
            const yg_node_t *map = ti < g->nodes_count ? g->nodes[ti] : NULL;
            sbuf_t label = {0};
            sb_puts(&label, "map over ");
            sb_puts(&label, map && map->over_path ? map->over_path : "items");
            if (label.nomem)
                sb->nomem = true;
            render_arrow(sb, from, "==>", label.buf, to);
            free(label.buf);
            break;
        }
        case YG_EDGE_PLAIN:
        default:
            render_arrow(sb, from, "-->", NULL, to);
            break;
        }
    }
}

/* The "each <as>" link from a map to its sub-node; false if n is no map. */
static bool render_map_link(sbuf_t *sb, const yg_node_t *n, char **ids)
{
    if (n->type != YG_NODE_MAP || !n->sub)
        return false;
    sbuf_t label = {0};
    sb_puts(&label, "each ");
    sb_puts(&label, n->as ? n->as : "item");
    if (label.nomem)
        sb->nomem = true;
    render_arrow(sb, ids[n->index], "-->", label.buf, ids[n->sub->index]);
    free(label.buf);
    return true;
}

static bool uses_end(const yg_graph_t *g)
{
    for (size_t i = 0; i < g->edges_count; i++)
        for (size_t k = 0; k < g->edges[i].to_count; k++)
            if (g->edges[i].to_index[k] == YG_END_INDEX)
                return true;
    return false;
}

/* ------------------------------------------------------------------------ */

static void render_all(sbuf_t *sb, const yg_graph_t *g, char **ids)
{
    sb_puts(sb, "```mermaid\nflowchart TD\n");
    sb_puts(sb, MERMAID_INDENT "%% graph: ");
    sb_label(sb, g->name);
    sb_puts(sb, "\n");
    sb_puts(sb, MERMAID_INDENT MERMAID_START_ID "([\"" MERMAID_START_ID "\"])\n");
    /* Top-level nodes in YAML order, each map followed by its sub-node. */
    for (size_t i = 0; i < g->top_nodes_count; i++) {
        const yg_node_t *n = g->nodes[i];
        render_node(sb, g, n, ids[n->index]);
        if (n->type == YG_NODE_MAP && n->sub)
            render_node(sb, g, n->sub, ids[n->sub->index]);
    }
    if (uses_end(g))
        sb_puts(sb, MERMAID_INDENT MERMAID_END_ID "([\"" MERMAID_END_ID "\"])\n");
    /* Each map -> sub-node link follows the first fan-out into the map, so
     * the text reads in flow order; maps nobody fans into come last. */
    bool *linked = calloc(g->nodes_count ? g->nodes_count : 1, sizeof *linked);
    if (!linked) {
        sb->nomem = true;
        return;
    }
    for (size_t i = 0; i < g->edges_count; i++) {
        const yg_edge_t *e = &g->edges[i];
        render_edge(sb, g, ids, e);
        for (size_t k = 0; e->kind == YG_EDGE_FANOUT && k < e->to_count; k++) {
            size_t ti = e->to_index[k];
            if (ti < g->nodes_count && !linked[ti] && render_map_link(sb, g->nodes[ti], ids))
                linked[ti] = true;
        }
    }
    for (size_t i = 0; i < g->top_nodes_count; i++)
        if (!linked[i])
            render_map_link(sb, g->nodes[i], ids);
    free(linked);

    bool any_loop = false;
    for (size_t i = 0; i < g->nodes_count; i++) {
        if (!g->nodes[i]->in_loop)
            continue;
        sb_puts(sb, any_loop ? "," : MERMAID_INDENT "classDef loop fill:#fff4e5,stroke:#e8a33d\n"
                                     MERMAID_INDENT "class ");
        sb_puts(sb, ids[i]);
        any_loop = true;
    }
    if (any_loop)
        sb_puts(sb, " loop\n");
    sb_puts(sb, "```\n");
}

char *yg_mermaid_render(const yg_graph_t *graph, yg_error_t *err)
{
    if (!graph) {
        yg_error_set(err, YG_EINVAL, "no graph to render");
        return NULL;
    }
    char **ids = calloc(graph->nodes_count ? graph->nodes_count : 1, sizeof *ids);
    bool nomem = ids == NULL;
    for (size_t i = 0; !nomem && i < graph->nodes_count; i++) {
        ids[i] = make_id(ids, i, graph->nodes[i]->name);
        nomem = ids[i] == NULL;
    }
    sbuf_t sb = {0};
    if (!nomem)
        render_all(&sb, graph, ids);
    for (size_t i = 0; ids && i < graph->nodes_count; i++)
        free(ids[i]);
    free(ids);
    if (nomem || sb.nomem) {
        free(sb.buf);
        yg_error_set(err, YG_ENOMEM, "out of memory while rendering graph '%s'",
                     graph->name ? graph->name : "unnamed");
        return NULL;
    }
    return sb.buf;
}
