/*
 * yg_graph_nodes.c - compile the `nodes:` section (spec 4.0-4.12).
 *
 * Two passes: the first creates every top-level node (name, type, index) so
 * that routes, edges and loop limits can refer to nodes defined later; the
 * second compiles each node's keys with the defaults of its type.  Map
 * sub-nodes are appended after all top-level nodes.
 */
#include "yg_graph_load.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_expr.h"
#include "yg_prompt.h"
#include "yg_template.h"

#define WHAT_MAX 320

static const struct {
    const char *name;
    yg_node_type_t type;
} node_types[] = {{"llm", YG_NODE_LLM},
                  {"router", YG_NODE_ROUTER},
                  {"agent", YG_NODE_AGENT},
                  {"python", YG_NODE_PYTHON},
                  {"map", YG_NODE_MAP},
                  {"interrupt", YG_NODE_INTERRUPT},
                  {"passthrough", YG_NODE_PASSTHROUGH},
                  {"tool", YG_NODE_TOOL},
                  {"tool_call", YG_NODE_TOOL_CALL},
                  {"subgraph", YG_NODE_SUBGRAPH}};
#define NODE_TYPES_LIST                                                                           \
    "llm, router, agent, python, map, interrupt, passthrough, tool, tool_call, subgraph"

static bool parse_node_type(const char *text, yg_node_type_t *out)
{
    for (size_t i = 0; i < sizeof node_types / sizeof node_types[0]; i++) {
        if (strcmp(text, node_types[i].name) == 0) {
            *out = node_types[i].type;
            return true;
        }
    }
    return false;
}

static const char *type_suggestion(const char *text, char *buf, size_t size)
{
    const char *names[sizeof node_types / sizeof node_types[0]];
    for (size_t i = 0; i < sizeof node_types / sizeof node_types[0]; i++)
        names[i] = node_types[i].name;
    const char *best = yg_gl_suggest(text, names, sizeof names / sizeof names[0]);
    if (best)
        snprintf(buf, size, "did you mean '%s'? expected one of ", best);
    else
        snprintf(buf, size, "expected one of ");
    return buf;
}

void yg_gl_node_free(yg_node_t *n)
{
    if (!n)
        return;
    free(n->name);
    free(n->prompt_name);
    size_t nvars = yg_map_size(n->variables);
    for (size_t i = 0; n->variable_exprs && i < nvars; i++)
        yg_vexpr_destroy(&n->variable_exprs[i]);
    free(n->variable_exprs);
    yg_value_destroy(&n->variables);
    free(n->state_key);
    yg_gl_strlist_free(&n->requires, &n->requires_count);
    free(n->provider);
    free(n->fallback_provider);
    free(n->output_model);
    yg_value_destroy(&n->routes);
    free(n->default_route);
    free(n->over);
    free(n->over_path);
    free(n->as);
    free(n->collect);
    yg_value_destroy(&n->message);
    yg_tmpl_destroy(&n->message_tmpl);
    free(n->resume_key);
    size_t nout = yg_map_size(n->output);
    for (size_t i = 0; n->output_exprs && i < nout; i++)
        yg_vexpr_destroy(&n->output_exprs[i]);
    free(n->output_exprs);
    yg_value_destroy(&n->output);
    free(n->tool);
    yg_value_destroy(&n->tool_tmpl);
    yg_value_destroy(&n->args_tmpl);
    yg_vexpr_destroy(&n->tool_expr);
    yg_vexpr_destroy(&n->args_expr);
    yg_gl_strlist_free(&n->tools, &n->tools_count);
    free(n->tool_results_key);
    free(n->graph_path);
    yg_graph_destroy(&n->child);
    yg_value_destroy(&n->input_mapping.map);
    yg_value_destroy(&n->output_mapping.map);
    yg_value_destroy(&n->interrupt_output_mapping.map);
    yg_gl_strlist_free(&n->reads, &n->reads_count);
    free(n->out_edges);
    free(n);
}

/* ------------------------------------------------------------ shared keys */

static int parse_on_error(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what)
{
    const yg_ynode_t *v = yg_ynode_get(def, "on_error");
    n->on_error = YG_ON_ERROR_NONE;
    if (!v || yg_ynode_is_null(v))
        return YG_OK;
    static const struct {
        const char *name;
        yg_on_error_t mode;
    } modes[] = {{"skip", YG_ON_ERROR_SKIP},
                 {"retry", YG_ON_ERROR_RETRY},
                 {"fail", YG_ON_ERROR_FAIL},
                 {"fallback", YG_ON_ERROR_FALLBACK}};
    if (v->kind == YG_YNODE_SCALAR)
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            if (strcmp(v->text, modes[i].name) == 0) {
                n->on_error = modes[i].mode;
                return YG_OK;
            }
    return yg_gl_error(l, v,
                       "%s: invalid on_error '%s' (expected one of skip, retry, fail, fallback)",
                       what, v->kind == YG_YNODE_SCALAR ? v->text : yg_gl_kind(v));
}

/* Compile a map of value templates into parallel expressions. */
static int compile_templates(yg_loader_t *l, const yg_ynode_t *map, const char *what,
                             const char *key, yg_value_t **values, yg_vexpr_t ***exprs,
                             const char *extra_as)
{
    *values = map ? yg_ynode_to_value(map) : yg_map_new();
    if (!*values)
        return yg_gl_nomem(l);
    if (extra_as) {
        /* spec 4.5: the item variable is always passed to the sub-node */
        yg_value_t *ref = yg_str_newf("{state.%s}", extra_as);
        if (yg_map_set(*values, extra_as, ref) != YG_OK)
            return yg_gl_nomem(l);
    }
    size_t count = yg_map_size(*values);
    if (count == 0)
        return YG_OK;
    *exprs = calloc(count, sizeof **exprs);
    if (!*exprs)
        return yg_gl_nomem(l);
    for (size_t i = 0; i < count; i++) {
        yg_error_t e = {0};
        (*exprs)[i] = yg_vexpr_compile(yg_map_value_at(*values, i), &e);
        if (!(*exprs)[i]) {
            const yg_ynode_t *at = map ? yg_ynode_get(map, yg_map_key_at(*values, i)) : NULL;
            if (e.code == YG_ENOMEM || e.code == YG_OK)
                return yg_gl_nomem(l);
            return yg_gl_error_code(l, e.code, at ? at : map, "%s: %s entry '%s': %s", what, key,
                                    yg_map_key_at(*values, i), e.message);
        }
    }
    return YG_OK;
}

static int parse_variables(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what,
                           const char *extra_as)
{
    const yg_ynode_t *vars;
    if (yg_gl_get_map(l, def, "variables", what, &vars) != YG_OK)
        return l->err->code;
    if (!vars && !extra_as)
        return YG_OK;
    return compile_templates(l, vars, what, "variables", &n->variables, &n->variable_exprs,
                             extra_as);
}

static int default_state_key(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def,
                             const char *what, const char *dflt)
{
    if (yg_gl_get_str(l, def, "state_key", what, &n->state_key, &n->state_key_explicit) != YG_OK)
        return l->err->code;
    if (!n->state_key && dflt && !(n->state_key = yg_gl_strdup(l, dflt)))
        return YG_ENOMEM;
    return YG_OK;
}

/* Resolve and load the prompt named by `key` (required unless dflt). */
static int node_prompt(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what,
                       const yg_ynode_t *name_key, bool required, bool need_user)
{
    const yg_ynode_t *p = yg_ynode_get(def, "prompt");
    if (!p || yg_ynode_is_null(p)) {
        if (required)
            return yg_gl_error(l, name_key,
                               "%s: %s nodes need a 'prompt' (the name of a prompt file without "
                               ".yaml)",
                               what, yg_node_type_name(n->type));
        return YG_OK;
    }
    if (p->kind != YG_YNODE_SCALAR)
        return yg_gl_error(l, p, "%s: 'prompt' must be a prompt name, not %s", what,
                           yg_gl_kind(p));
    if (!(n->prompt_name = yg_gl_strdup(l, p->text)))
        return YG_ENOMEM;
    return yg_gl_prompt(l, p, what, need_user, &n->prompt);
}

/* llm, router, and llm/router map sub-nodes (spec 4.1, 4.5). */
static int compile_llm(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what,
                       const yg_ynode_t *name_key, const char *extra_as)
{
    yg_graph_t *g = l->g;
    int64_t retries = YG_DEFAULT_MAX_RETRIES;
    int64_t concurrency = 0;
    bool found = false;
    if (node_prompt(l, n, def, what, name_key, true, true) != YG_OK ||
        parse_variables(l, n, def, what, extra_as) != YG_OK ||
        default_state_key(l, n, def, what, n->name) != YG_OK ||
        yg_gl_get_strlist(l, def, "requires", what, &n->requires, &n->requires_count) != YG_OK ||
        yg_gl_get_bool(l, def, "skip_if_exists", what, &n->skip_if_exists,
                       &n->skip_if_exists_explicit) != YG_OK ||
        yg_gl_get_number(l, def, "temperature", what, 0.0, &n->temperature,
                         &n->has_temperature) != YG_OK ||
        yg_gl_get_str(l, def, "provider", what, &n->provider, NULL) != YG_OK ||
        yg_gl_get_int(l, def, "max_retries", what, 0, &retries, NULL) != YG_OK ||
        yg_gl_get_bool(l, def, "parse_json", what, &n->parse_json, NULL) != YG_OK ||
        yg_gl_get_bool(l, def, "stream", what, &n->stream, NULL) != YG_OK ||
        yg_gl_get_str(l, def, "output_model", what, &n->output_model, NULL) != YG_OK ||
        yg_gl_get_number(l, def, "timeout", what, 0.0, &n->timeout_s, NULL) != YG_OK ||
        yg_gl_get_int(l, def, "max_concurrency", what, 1, &concurrency, &found) != YG_OK)
        return l->err->code;
    n->max_retries = (int)(retries > 1000000 ? 1000000 : retries);
    n->max_concurrency = (int)(concurrency > 1000000 ? 1000000 : concurrency);
    if (!n->skip_if_exists_explicit)
        n->skip_if_exists = true; /* loop detection may turn it off later (spec 5.6) */
    if (!n->has_temperature) {
        n->has_temperature = g->has_default_temperature;
        n->temperature = g->has_default_temperature ? g->default_temperature
                                                    : YG_DEFAULT_TEMPERATURE;
    }
    if (!n->provider) {
        const char *p = g->default_provider ? g->default_provider
                                            : (n->prompt ? n->prompt->provider : NULL);
        if (p && !(n->provider = yg_gl_strdup(l, p)))
            return YG_ENOMEM;
    }
    if (n->output_model && strcmp(n->output_model, "GenericReport") != 0)
        return yg_gl_error(l, yg_ynode_get(def, "output_model"),
                           "%s: output_model '%s' is not available; only 'GenericReport' is "
                           "built in (use a prompt 'schema:' instead)",
                           what, n->output_model);
    const yg_ynode_t *fb;
    if (yg_gl_get_map(l, def, "fallback", what, &fb) != YG_OK ||
        yg_gl_get_str(l, fb, "provider", what, &n->fallback_provider, NULL) != YG_OK)
        return l->err->code;
    return YG_OK;
}

static int compile_router(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what,
                          const yg_ynode_t *name_key, bool require_routes, const char *extra_as)
{
    if (compile_llm(l, n, def, what, name_key, extra_as) != YG_OK)
        return l->err->code;
    const yg_ynode_t *routes = yg_ynode_get(def, "routes");
    if (!routes || yg_ynode_is_null(routes)) {
        if (!require_routes)
            return YG_OK;
        return yg_gl_error(l, name_key,
                           "%s: router nodes need non-empty 'routes' (a mapping label -> node "
                           "name)",
                           what);
    }
    if (routes->kind != YG_YNODE_MAP)
        return yg_gl_error(l, routes,
                           "%s: 'routes' must be a mapping label -> node name, not %s", what,
                           yg_gl_kind(routes));
    if (routes->count == 0 && require_routes)
        return yg_gl_error(l, routes, "%s: 'routes' is empty; add label: node entries", what);
    char hint[160];
    for (size_t i = 0; i < routes->count; i++) {
        const yg_ynode_t *v = routes->items[i];
        if (v->kind != YG_YNODE_SCALAR || yg_ynode_is_null(v))
            return yg_gl_error(l, v, "%s: route '%s' must name a node, not %s", what,
                               routes->keys[i]->text, yg_gl_kind(v));
        if (strcmp(v->text, "END") == 0)
            return yg_gl_error(l, v,
                               "%s: route '%s' targets END, which routes cannot do; route to a "
                               "node and add an edge from it to END",
                               what, routes->keys[i]->text);
        if (!yg_gl_top_node(l->g, v->text))
            return yg_gl_error(l, v, "%s: route '%s' targets unknown node '%s'%s", what,
                               routes->keys[i]->text, v->text,
                               yg_gl_node_hint(l->g, v->text, hint, sizeof hint));
    }
    if (!(n->routes = yg_ynode_to_value(routes)))
        return yg_gl_nomem(l);
    if (yg_gl_get_str(l, def, "default_route", what, &n->default_route, NULL) != YG_OK)
        return l->err->code;
    if (n->default_route && !yg_gl_top_node(l->g, n->default_route))
        return yg_gl_error(l, yg_ynode_get(def, "default_route"),
                           "%s: default_route '%s' is not a node%s", what, n->default_route,
                           yg_gl_node_hint(l->g, n->default_route, hint, sizeof hint));
    return YG_OK;
}

static int compile_passthrough(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def,
                               const char *what)
{
    const yg_ynode_t *out;
    if (yg_gl_get_map(l, def, "output", what, &out) != YG_OK)
        return l->err->code;
    if (!out)
        return YG_OK;
    return compile_templates(l, out, what, "output", &n->output, &n->output_exprs, NULL);
}

static bool graph_has_python_tool(const yg_graph_t *g)
{
    for (size_t i = 0; i < g->tools_count; i++)
        if (g->tools[i]->type == YG_TOOL_PYTHON)
            return true;
    return false;
}

static int compile_tool_call(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def,
                             const char *what, const yg_ynode_t *name_key)
{
    const yg_ynode_t *tool = yg_ynode_get(def, "tool");
    const yg_ynode_t *args = yg_ynode_get(def, "args");
    if (!tool || yg_ynode_is_null(tool))
        return yg_gl_error(l, name_key,
                           "%s: tool_call nodes need 'tool' (a tool name or a template such as "
                           "\"{state.task.tool}\")",
                           what);
    if (!args || yg_ynode_is_null(args))
        return yg_gl_error(l, name_key,
                           "%s: tool_call nodes need 'args' (a mapping or a template such as "
                           "\"{state.task.args}\")",
                           what);
    if (!(n->tool_tmpl = yg_ynode_to_value(tool)) || !(n->args_tmpl = yg_ynode_to_value(args)))
        return yg_gl_nomem(l);
    if (tool->kind == YG_YNODE_SCALAR && !(n->tool = yg_gl_strdup(l, tool->text)))
        return YG_ENOMEM;
    yg_error_t e = {0};
    if (!(n->tool_expr = yg_vexpr_compile(n->tool_tmpl, &e)))
        return e.code && e.code != YG_ENOMEM
                   ? yg_gl_error_code(l, e.code, tool, "%s: 'tool': %s", what, e.message)
                   : yg_gl_nomem(l);
    if (!(n->args_expr = yg_vexpr_compile(n->args_tmpl, &e)))
        return e.code && e.code != YG_ENOMEM
                   ? yg_gl_error_code(l, e.code, args, "%s: 'args': %s", what, e.message)
                   : yg_gl_nomem(l);
    if (default_state_key(l, n, def, what, "result") != YG_OK)
        return l->err->code;
    if (yg_vexpr_is_constant(n->tool_expr) && n->tool) {
        const yg_tool_t *t = yg_graph_tool(l->g, n->tool);
        if (t && t->type == YG_TOOL_PYTHON)
            l->g->needs_python = true;
    } else if (graph_has_python_tool(l->g)) {
        l->g->needs_python = true;
    }
    return YG_OK;
}

/* ------------------------------------------------------------ map (4.5) */

static int append_node(yg_loader_t *l, yg_node_t *n)
{
    yg_graph_t *g = l->g;
    yg_node_t **grown = realloc(g->nodes, (g->nodes_count + 1) * sizeof *grown);
    if (!grown)
        return yg_gl_nomem(l);
    g->nodes = grown;
    n->index = g->nodes_count;
    g->nodes[g->nodes_count++] = n;
    return yg_gl_index_node(l, n);
}

static bool is_identifier(const char *s)
{
    if (!s || !(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return false;
    for (s++; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return false;
    return true;
}

static int compile_map_sub(yg_loader_t *l, yg_node_t *map, const yg_ynode_t *sub_def)
{
    char what[WHAT_MAX];
    snprintf(what, sizeof what, "map '%s' sub-node", map->name);
    yg_node_type_t type = YG_NODE_LLM;
    const yg_ynode_t *type_node = yg_ynode_get(sub_def, "type");
    if (type_node && !yg_ynode_is_null(type_node)) {
        if (type_node->kind != YG_YNODE_SCALAR || !parse_node_type(type_node->text, &type) ||
            !(type == YG_NODE_LLM || type == YG_NODE_ROUTER || type == YG_NODE_TOOL_CALL ||
              type == YG_NODE_PASSTHROUGH))
            return yg_gl_error(l, type_node,
                               "%s: type '%s' cannot run inside a map (supported: llm, router, "
                               "tool_call, passthrough); move that work to a node after the map",
                               what,
                               type_node->kind == YG_YNODE_SCALAR ? type_node->text : "?");
    }
    yg_node_t *sub = calloc(1, sizeof *sub);
    if (!sub)
        return yg_gl_nomem(l);
    size_t nlen = strlen(map->name) + sizeof "_map__sub";
    sub->name = malloc(nlen);
    if (!sub->name) {
        free(sub);
        return yg_gl_nomem(l);
    }
    snprintf(sub->name, nlen, "_map_%s_sub", map->name);
    if (yg_graph_node(l->g, sub->name)) {
        int rc = yg_gl_error(l, sub_def,
                             "%s: its hidden name '%s' is already used by another node; rename "
                             "that node",
                             what, sub->name);
        yg_gl_node_free(sub);
        return rc;
    }
    sub->type = type;
    sub->is_map_sub = true;
    sub->pos = (yg_pos_t){sub_def->line, sub_def->column};
    sub->loop_limit = -1;
    sub->max_retries = YG_DEFAULT_MAX_RETRIES;
    if (append_node(l, sub) != YG_OK) {
        if (sub->index >= l->g->nodes_count || l->g->nodes[sub->index] != sub)
            yg_gl_node_free(sub); /* not owned by the graph yet */
        return YG_ENOMEM;
    }
    map->sub = sub;
    if (parse_on_error(l, sub, sub_def, what) != YG_OK)
        return l->err->code;
    switch (type) {
    case YG_NODE_ROUTER:
        return compile_router(l, sub, sub_def, what, sub_def, false, map->as);
    case YG_NODE_TOOL_CALL:
        return compile_tool_call(l, sub, sub_def, what, sub_def);
    case YG_NODE_PASSTHROUGH:
        return compile_passthrough(l, sub, sub_def, what);
    default:
        return compile_llm(l, sub, sub_def, what, sub_def, map->as);
    }
}

static int compile_map(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what,
                       const yg_ynode_t *name_key)
{
    static const char *const required[] = {"over", "as", "node", "collect"};
    for (size_t i = 0; i < 4; i++) {
        const yg_ynode_t *v = yg_ynode_get(def, required[i]);
        if (!v || yg_ynode_is_null(v))
            return yg_gl_error(l, name_key,
                               "%s: map nodes need 'over', 'as', 'node' and 'collect'; '%s' is "
                               "missing",
                               what, required[i]);
    }
    n->max_items = -1;
    if (yg_gl_get_str(l, def, "over", what, &n->over, NULL) != YG_OK ||
        yg_gl_get_str(l, def, "as", what, &n->as, NULL) != YG_OK ||
        yg_gl_get_str(l, def, "collect", what, &n->collect, NULL) != YG_OK ||
        yg_gl_get_int(l, def, "max_items", what, 1, &n->max_items, NULL) != YG_OK)
        return l->err->code;
    size_t olen = strlen(n->over);
    if (olen < 3 || n->over[0] != '{' || n->over[olen - 1] != '}')
        return yg_gl_error(l, yg_ynode_get(def, "over"),
                           "%s: 'over' must be a state reference such as \"{state.items}\", not "
                           "'%s'",
                           what, n->over);
    const char *path = n->over + 1;
    size_t plen = olen - 2;
    if (plen > 6 && strncmp(path, "state.", 6) == 0) {
        path += 6;
        plen -= 6;
    }
    if (!(n->over_path = strndup(path, plen)))
        return yg_gl_nomem(l);
    if (!is_identifier(n->as))
        return yg_gl_error(l, yg_ynode_get(def, "as"),
                           "%s: 'as' must be an identifier (letters, digits, _), not '%s'", what,
                           n->as);
    const yg_ynode_t *sub = yg_ynode_get(def, "node");
    if (sub->kind != YG_YNODE_MAP)
        return yg_gl_error(l, sub, "%s: 'node' must be a node definition mapping, not %s", what,
                           yg_gl_kind(sub));
    return compile_map_sub(l, n, sub);
}

/* ------------------------------------------------------------ other types */

static int compile_interrupt(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def,
                             const char *what, const yg_ynode_t *name_key)
{
    const yg_ynode_t *msg = yg_ynode_get(def, "message");
    const yg_ynode_t *prompt = yg_ynode_get(def, "prompt");
    bool has_msg = msg && !yg_ynode_is_null(msg);
    bool has_prompt = prompt && !yg_ynode_is_null(prompt);
    if (!has_msg && !has_prompt)
        return yg_gl_error(l, name_key,
                           "%s: interrupt nodes need a 'message' (shown to the user) or a "
                           "'prompt' (to generate it)",
                           what);
    if (has_prompt && node_prompt(l, n, def, what, name_key, false, true) != YG_OK)
        return l->err->code;
    if (n->prompt && n->prompt->provider && !(n->provider = yg_gl_strdup(l, n->prompt->provider)))
        return YG_ENOMEM;
    n->temperature = YG_DEFAULT_TEMPERATURE;
    if (has_msg) {
        if (!(n->message = yg_ynode_to_value(msg)))
            return yg_gl_nomem(l);
        if (msg->kind == YG_YNODE_SCALAR && yg_value_type(n->message) == YG_STR &&
            yg_tmpl_is_template_text(msg->text)) {
            n->message_tmpl =
                yg_tmpl_compile(msg->text, msg->len, l->file, msg->text_line, msg->text_column,
                                l->err);
            if (!n->message_tmpl) {
                if (!l->err->code || l->err->code == YG_ENOMEM)
                    return yg_gl_nomem(l);
                char context[WHAT_MAX + 32];
                snprintf(context, sizeof context, "%s: 'message' template: ", what);
                yg_gl_prefix_error(l->err, context);
                return l->err->code;
            }
        }
    }
    if (default_state_key(l, n, def, what, "interrupt_message") != YG_OK ||
        yg_gl_get_str(l, def, "resume_key", what, &n->resume_key, NULL) != YG_OK)
        return l->err->code;
    if (!n->resume_key && !(n->resume_key = yg_gl_strdup(l, "user_input")))
        return YG_ENOMEM;
    return YG_OK;
}

static int tool_ref(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what,
                    const yg_ynode_t *name_key, yg_tool_type_t want)
{
    const char *key = "tool";
    const yg_ynode_t *v = yg_ynode_get(def, "tool");
    if ((!v || yg_ynode_is_null(v)) && want == YG_TOOL_PYTHON) {
        key = "function";
        v = yg_ynode_get(def, "function");
    }
    const char *kind = want == YG_TOOL_PYTHON ? "python" : "shell";
    if (!v || yg_ynode_is_null(v))
        return yg_gl_error(l, name_key,
                           "%s: %s nodes need 'tool: <name>' naming a %s tool under 'tools:'",
                           what, yg_node_type_name(n->type), kind);
    if (yg_gl_get_str(l, def, key, what, &n->tool, NULL) != YG_OK)
        return l->err->code;
    yg_tool_t *t = (yg_tool_t *)yg_graph_tool(l->g, n->tool);
    if (!t) {
        const char **names = calloc(l->g->tools_count + 1, sizeof *names);
        if (!names)
            return yg_gl_nomem(l);
        for (size_t i = 0; i < l->g->tools_count; i++)
            names[i] = l->g->tools[i]->name;
        const char *best = yg_gl_suggest(n->tool, names, l->g->tools_count);
        int rc = yg_gl_error(l, v,
                             "%s: tool '%s' is not defined under 'tools:'%s%s%s", what, n->tool,
                             best ? " (did you mean '" : "; add it there",
                             best ? best : "", best ? "'?)" : "");
        free(names);
        return rc;
    }
    if (t->type != want)
        return yg_gl_error(l, v, "%s: tool '%s' is a %s tool; %s nodes need a %s tool", what,
                           n->tool,
                           t->type == YG_TOOL_PYTHON ? "python"
                           : t->type == YG_TOOL_SHELL ? "shell"
                                                      : "websearch",
                           yg_node_type_name(n->type), kind);
    n->tool_def = t;
    return YG_OK;
}

static int compile_agent(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def, const char *what)
{
    const yg_ynode_t *p = yg_ynode_get(def, "prompt");
    n->max_iterations = YG_DEFAULT_MAX_ITERATIONS;
    n->temperature = YG_DEFAULT_TEMPERATURE;
    if (!p || yg_ynode_is_null(p)) {
        /* spec 4.11: the prompt defaults to "agent" */
        yg_ynode_t dflt = {.kind = YG_YNODE_SCALAR,
                           .line = n->pos.line,
                           .column = n->pos.column,
                           .text = "agent",
                           .len = 5};
        if (!(n->prompt_name = yg_gl_strdup(l, "agent")))
            return YG_ENOMEM;
        if (yg_gl_prompt(l, &dflt, what, false, &n->prompt) != YG_OK)
            return l->err->code;
    } else if (node_prompt(l, n, def, what, p, true, false) != YG_OK) {
        return l->err->code;
    }
    if (yg_gl_get_strlist(l, def, "tools", what, &n->tools, &n->tools_count) != YG_OK ||
        yg_gl_get_int(l, def, "max_iterations", what, 1, &n->max_iterations, NULL) != YG_OK ||
        default_state_key(l, n, def, what, n->name) != YG_OK ||
        yg_gl_get_str(l, def, "tool_results_key", what, &n->tool_results_key, NULL) != YG_OK)
        return l->err->code;
    for (size_t i = 0; i < n->tools_count; i++) {
        const yg_tool_t *t = yg_graph_tool(l->g, n->tools[i]);
        if (t && t->type == YG_TOOL_PYTHON)
            l->g->needs_python = true;
    }
    return YG_OK;
}

static int parse_mapping(yg_loader_t *l, const yg_ynode_t *def, const char *key,
                         const char *what, yg_mapping_t *m)
{
    const yg_ynode_t *v = yg_ynode_get(def, key);
    m->kind = YG_MAPPING_NONE;
    if (!v || yg_ynode_is_null(v))
        return YG_OK;
    if (v->kind == YG_YNODE_SCALAR &&
        (strcmp(v->text, "auto") == 0 || strcmp(v->text, "*") == 0)) {
        m->kind = YG_MAPPING_ALL;
        return YG_OK;
    }
    if (v->kind != YG_YNODE_MAP)
        return yg_gl_error(l, v,
                           "%s: '%s' must be a mapping parent_key: child_key, or 'auto', not %s",
                           what, key, yg_gl_kind(v));
    for (size_t i = 0; i < v->count; i++)
        if (v->items[i]->kind != YG_YNODE_SCALAR || yg_ynode_is_null(v->items[i]))
            return yg_gl_error(l, v->items[i], "%s: '%s' entry '%s' must name a key, not %s",
                               what, key, v->keys[i]->text, yg_gl_kind(v->items[i]));
    if (v->count == 0)
        return YG_OK;
    if (!(m->map = yg_ynode_to_value(v)))
        return yg_gl_nomem(l);
    m->kind = YG_MAPPING_MAP;
    return YG_OK;
}

static int compile_subgraph(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def,
                            const char *what, const yg_ynode_t *name_key)
{
    const yg_ynode_t *gp = yg_ynode_get(def, "graph");
    if (!gp || yg_ynode_is_null(gp))
        return yg_gl_error(l, name_key,
                           "%s: subgraph nodes need 'graph: <path to a graph file>' (relative "
                           "to this file's directory)",
                           what);
    if (gp->kind != YG_YNODE_SCALAR)
        return yg_gl_error(l, gp, "%s: 'graph' must be a file path, not %s", what,
                           yg_gl_kind(gp));
    if (!(n->graph_path = yg_gl_strdup(l, gp->text)))
        return YG_ENOMEM;
    char *mode = NULL;
    if (yg_gl_get_str(l, def, "mode", what, &mode, NULL) != YG_OK)
        return l->err->code;
    if (mode && strcmp(mode, "direct") != 0 && strcmp(mode, "invoke") != 0) {
        int rc = yg_gl_error(l, yg_ynode_get(def, "mode"),
                             "%s: unknown mode '%s' (expected invoke or direct)", what, mode);
        free(mode);
        return rc;
    }
    n->mode_direct = mode && strcmp(mode, "direct") == 0;
    free(mode);
    if (parse_mapping(l, def, "input_mapping", what, &n->input_mapping) != YG_OK ||
        parse_mapping(l, def, "output_mapping", what, &n->output_mapping) != YG_OK ||
        parse_mapping(l, def, "interrupt_output_mapping", what, &n->interrupt_output_mapping) !=
            YG_OK)
        return l->err->code;
    return yg_gl_subgraph(l, gp, what, &n->child);
}

/* ------------------------------------------------------------ passes */

static int check_node_name(yg_loader_t *l, const yg_ynode_t *key)
{
    const char *name = key->text;
    if (!name[0])
        return yg_gl_error(l, key, "a node name cannot be empty");
    if (strcmp(name, "__start__") == 0 || strcmp(name, "__end__") == 0 ||
        strcmp(name, "START") == 0 || strcmp(name, "END") == 0)
        return yg_gl_error(l, key, "node name '%s' is reserved; rename the node", name);
    if (strchr(name, '|') || strchr(name, ':'))
        return yg_gl_error(l, key,
                           "node name '%s' contains '%c', which node names cannot contain; "
                           "rename the node",
                           name, strchr(name, '|') ? '|' : ':');
    return YG_OK;
}

static int create_node(yg_loader_t *l, size_t i, const yg_ynode_t *key, const yg_ynode_t *def)
{
    if (check_node_name(l, key) != YG_OK)
        return l->err->code;
    if (def->kind != YG_YNODE_MAP)
        return yg_gl_error(l, yg_ynode_is_null(def) ? key : def,
                           "node '%s': the definition must be a mapping (type, prompt, ...), "
                           "not %s",
                           key->text, yg_gl_kind(def));
    yg_node_type_t type = YG_NODE_LLM;
    const yg_ynode_t *t = yg_ynode_get(def, "type");
    if (t && !yg_ynode_is_null(t)) {
        char buf[96];
        if (t->kind != YG_YNODE_SCALAR)
            return yg_gl_error(l, t, "node '%s': 'type' must be a string (" NODE_TYPES_LIST
                               "), not %s",
                               key->text, yg_gl_kind(t));
        if (!parse_node_type(t->text, &type))
            return yg_gl_error(l, t, "node '%s': unknown node type '%s' (%s" NODE_TYPES_LIST ")",
                               key->text, t->text, type_suggestion(t->text, buf, sizeof buf));
    }
    yg_node_t *n = calloc(1, sizeof *n);
    if (!n)
        return yg_gl_nomem(l);
    n->type = type;
    n->pos = (yg_pos_t){key->line, key->column};
    n->loop_limit = -1;
    n->max_retries = YG_DEFAULT_MAX_RETRIES;
    n->name = strdup(key->text);
    if (!n->name) {
        free(n);
        return yg_gl_nomem(l);
    }
    yg_graph_t *g = l->g;
    n->index = i;
    g->nodes[i] = n;
    g->nodes_count = i + 1;
    g->top_nodes_count = i + 1;
    return yg_gl_index_node(l, n);
}

static int compile_node(yg_loader_t *l, yg_node_t *n, const yg_ynode_t *def,
                        const yg_ynode_t *key)
{
    char what[WHAT_MAX];
    snprintf(what, sizeof what, "node '%s'", n->name);
    if (parse_on_error(l, n, def, what) != YG_OK)
        return l->err->code;
    switch (n->type) {
    case YG_NODE_LLM: return compile_llm(l, n, def, what, key, NULL);
    case YG_NODE_ROUTER: return compile_router(l, n, def, what, key, true, NULL);
    case YG_NODE_MAP: return compile_map(l, n, def, what, key);
    case YG_NODE_INTERRUPT: return compile_interrupt(l, n, def, what, key);
    case YG_NODE_PASSTHROUGH: return compile_passthrough(l, n, def, what);
    case YG_NODE_PYTHON:
        l->g->needs_python = true;
        if (tool_ref(l, n, def, what, key, YG_TOOL_PYTHON) != YG_OK)
            return l->err->code;
        return default_state_key(l, n, def, what, n->name);
    case YG_NODE_TOOL:
        if (tool_ref(l, n, def, what, key, YG_TOOL_SHELL) != YG_OK ||
            parse_variables(l, n, def, what, NULL) != YG_OK)
            return l->err->code;
        return default_state_key(l, n, def, what, n->name);
    case YG_NODE_TOOL_CALL: return compile_tool_call(l, n, def, what, key);
    case YG_NODE_AGENT: return compile_agent(l, n, def, what);
    case YG_NODE_SUBGRAPH: return compile_subgraph(l, n, def, what, key);
    }
    return YG_OK;
}

/* loop_limits: node name -> integer; only llm and router nodes use it. */
static int apply_loop_limits(yg_loader_t *l)
{
    const yg_ynode_t *ll = yg_ynode_get(l->root, "loop_limits");
    if (!ll || ll->kind != YG_YNODE_MAP)
        return YG_OK;
    char hint[160];
    for (size_t i = 0; i < ll->count; i++) {
        const char *name = ll->keys[i]->text;
        yg_node_t *n = yg_gl_top_node(l->g, name);
        if (!n)
            return yg_gl_error(l, ll->keys[i], "loop_limits: unknown node '%s'%s", name,
                               yg_gl_node_hint(l->g, name, hint, sizeof hint));
        long long v;
        if (!yg_ynode_as_int(ll->items[i], &v) || v < 0)
            return yg_gl_error(l, ll->items[i],
                               "loop_limits: the limit of '%s' must be an integer >= 0, not %s",
                               name, yg_gl_kind(ll->items[i]));
        if (n->type == YG_NODE_LLM || n->type == YG_NODE_ROUTER)
            n->loop_limit = v;
    }
    return YG_OK;
}

int yg_gl_nodes(yg_loader_t *l)
{
    yg_graph_t *g = l->g;
    const yg_ynode_t *nodes = yg_ynode_get(l->root, "nodes");
    size_t count = nodes->count;
    g->nodes = calloc(count, sizeof *g->nodes);
    l->defs = calloc(count, sizeof *l->defs);
    l->keys = calloc(count, sizeof *l->keys);
    if (!g->nodes || !l->defs || !l->keys)
        return yg_gl_nomem(l);
    for (size_t i = 0; i < count; i++) {
        l->keys[i] = nodes->keys[i];
        l->defs[i] = nodes->items[i];
        if (create_node(l, i, nodes->keys[i], nodes->items[i]) != YG_OK)
            return l->err->code;
    }
    for (size_t i = 0; i < count; i++)
        if (compile_node(l, g->nodes[i], l->defs[i], l->keys[i]) != YG_OK)
            return l->err->code ? l->err->code : YG_EVALIDATE;
    return apply_loop_limits(l);
}
