/*
 * test_examples_load.c - the example graphs in graphs/.
 *
 * Every graphs/<name>/graph.yaml loads; together the examples use every
 * node type; every mock.yaml is a valid reply script whose prompt names are
 * the model prompts of its graph (a typo would silently fall back to the
 * mock's default reply) and whose structured replies satisfy the prompt
 * schemas; every prompt renders with the variables its node passes; and the
 * loader reads the examples the way graphs/README.md describes them.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"
#include "yg_graph.h"
#include "yg_provider.h"
#include "yg_schema.h"
#include "yg_template.h"
#include "yg_yaml.h"

#define GRAPHS_DIR YG_SOURCE_DIR "/graphs"
/* Longest path built here. */
#define PATH_MAX_LEN 1024
/* One directory entry name (NAME_MAX + 1). */
#define NAME_LEN 256
/* More example folders than this means the scan went wrong. */
#define MAX_EXAMPLES 64
/* Node types: YG_NODE_LLM .. YG_NODE_SUBGRAPH. */
#define NODE_TYPE_COUNT (YG_NODE_SUBGRAPH + 1)
/* Subgraph nesting followed when collecting nodes (the examples use 1). */
#define MAX_CHILD_DEPTH 8

/* The examples graphs/README.md documents (graphs_test.sh runs each). */
static const char *const EXPECTED[] = {"hello",    "router",   "reflexion", "map",
                                       "interview", "subgraph", "agent",    "pipeline",
                                       "errors",   "python-worker"};
#define EXPECTED_COUNT (sizeof EXPECTED / sizeof EXPECTED[0])

/* Example folder names found under graphs/ (sorted); returns the count. */
static size_t list_examples(char names[][NAME_LEN])
{
    DIR *d = opendir(GRAPHS_DIR);
    ck_assert_msg(d != NULL, "cannot open %s", GRAPHS_DIR);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX_LEN];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", GRAPHS_DIR, e->d_name);
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        ck_assert_int_lt(n, MAX_EXAMPLES);
        snprintf(names[n++], NAME_LEN, "%s", e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    return n;
}

static yg_graph_t *load_example(const char *name, const char *file)
{
    char path[PATH_MAX_LEN];
    int len = snprintf(path, sizeof path, "%s/%s/%s", GRAPHS_DIR, name, file);
    ck_assert(len > 0 && (size_t)len < sizeof path);
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g != NULL, "%s does not load: %s:%d:%d: %s", path, err.file, err.line,
                  err.column, err.message);
    return g;
}

/* Mark the node types used by g and its subgraphs. */
static void mark_types(const yg_graph_t *g, bool seen[NODE_TYPE_COUNT], int depth)
{
    ck_assert_int_lt(depth, MAX_CHILD_DEPTH);
    for (size_t i = 0; i < g->nodes_count; i++) {
        const yg_node_t *node = g->nodes[i];
        ck_assert_int_lt(node->type, NODE_TYPE_COUNT);
        seen[node->type] = true;
        if (node->type == YG_NODE_SUBGRAPH && node->child)
            mark_types(node->child, seen, depth + 1);
    }
}

START_TEST(test_every_example_loads_and_all_types_are_covered)
{
    char names[MAX_EXAMPLES][NAME_LEN];
    size_t n = list_examples(names);
    /* every documented example is there, and nothing undocumented */
    ck_assert_uint_eq(n, EXPECTED_COUNT);
    for (size_t i = 0; i < EXPECTED_COUNT; i++) {
        bool found = false;
        for (size_t j = 0; j < n; j++)
            found = found || strcmp(names[j], EXPECTED[i]) == 0;
        ck_assert_msg(found, "graphs/%s is missing", EXPECTED[i]);
    }

    bool seen[NODE_TYPE_COUNT] = {false};
    for (size_t i = 0; i < n; i++) {
        yg_graph_t *g = load_example(names[i], "graph.yaml");
        ck_assert_msg(strcmp(g->name, names[i]) == 0, "graphs/%s/graph.yaml is named '%s'",
                      names[i], g->name);
        ck_assert_msg(g->description && g->description[0], "graphs/%s has no description",
                      names[i]);
        mark_types(g, seen, 0);
        yg_graph_destroy(&g);
        ck_assert_ptr_null(g);
    }
    for (int t = 0; t < NODE_TYPE_COUNT; t++)
        ck_assert_msg(seen[t], "no example uses node type '%s'",
                      yg_node_type_name((yg_node_type_t)t));

    yg_graph_t *child = load_example("subgraph", "child.yaml");
    ck_assert_str_eq(child->name, "writer");
    yg_graph_destroy(&child);
}
END_TEST

/* --- mock scripts ------------------------------------------------------------ */

/* Same rule as the mock provider: a map made only of these keys is a reply
 * directive, any other map is a structured result. */
static bool is_directive(const yg_value_t *r)
{
    static const char *const keys[] = {"content", "tool_calls", "error", "tokens",
                                       "structured", "finish_reason"};
    if (yg_value_type(r) != YG_MAP || yg_map_size(r) == 0)
        return false;
    for (size_t i = 0; i < yg_map_size(r); i++) {
        bool known = false;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            known = known || strcmp(yg_map_key_at(r, i), keys[k]) == 0;
        if (!known)
            return false;
    }
    return true;
}

/* prompt name -> node (borrowed) for every node of g and its subgraphs that
 * calls a model. */
static void collect_model_prompts(const yg_graph_t *g, yg_value_t *out, int depth)
{
    ck_assert_int_lt(depth, MAX_CHILD_DEPTH);
    for (size_t i = 0; i < g->nodes_count; i++) {
        const yg_node_t *node = g->nodes[i];
        const char *name = NULL;
        switch (node->type) {
        case YG_NODE_LLM:
        case YG_NODE_ROUTER:
        case YG_NODE_INTERRUPT: /* only when it has a prompt */
            name = node->prompt_name;
            break;
        case YG_NODE_AGENT:
            name = node->prompt_name ? node->prompt_name : "agent";
            break;
        case YG_NODE_SUBGRAPH:
            if (node->child)
                collect_model_prompts(node->child, out, depth + 1);
            break;
        default:
            break;
        }
        if (name)
            yg_map_set(out, name, yg_int_new((int64_t)node->type));
    }
}

/* The loaded prompt called `name` in g or its subgraphs. */
static const yg_prompt_t *find_prompt(const yg_graph_t *g, const char *name, int depth)
{
    ck_assert_int_lt(depth, MAX_CHILD_DEPTH);
    for (size_t i = 0; i < g->prompts_count; i++)
        if (strcmp(g->prompts[i]->name, name) == 0)
            return g->prompts[i];
    for (size_t i = 0; i < g->nodes_count; i++)
        if (g->nodes[i]->type == YG_NODE_SUBGRAPH && g->nodes[i]->child) {
            const yg_prompt_t *p = find_prompt(g->nodes[i]->child, name, depth + 1);
            if (p)
                return p;
        }
    return NULL;
}

/* One scripted reply of `prompt` must be usable by a node of `type`. */
static void check_reply(const char *example, const char *prompt, yg_node_type_t type,
                        const yg_prompt_t *p, const yg_value_t *reply)
{
    if (yg_value_type(reply) == YG_MAP && yg_map_has(reply, "delay_ms"))
        reply = yg_map_get(reply, "reply");
    if (is_directive(reply)) {
        if (yg_map_has(reply, "tool_calls"))
            ck_assert_msg(type == YG_NODE_AGENT, "%s/mock.yaml: '%s' asks for tools but is not "
                          "an agent prompt", example, prompt);
        return;
    }
    if (p && p->schema) {
        yg_error_t err = {0};
        yg_value_t *out = NULL;
        ck_assert_msg(yg_value_type(reply) == YG_MAP,
                      "%s/mock.yaml: '%s' has a schema, its reply must be a map", example,
                      prompt);
        int rc = yg_schema_validate(p->schema, reply, &out, &err);
        ck_assert_msg(rc == YG_OK, "%s/mock.yaml: reply for '%s' fails its schema: %s", example,
                      prompt, err.message);
        yg_value_destroy(&out);
    } else {
        ck_assert_msg(yg_value_type(reply) == YG_STR,
                      "%s/mock.yaml: '%s' has no schema, its reply should be text", example,
                      prompt);
    }
}

START_TEST(test_mock_scripts_match_their_graphs)
{
    char names[MAX_EXAMPLES][NAME_LEN];
    size_t n = list_examples(names);
    size_t scripted = 0;
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s/%s/mock.yaml", GRAPHS_DIR, names[i]);
        yg_error_t err = {0};
        yg_ynode_t *root = yg_yaml_load_file(path, &err);
        ck_assert_msg(root != NULL, "%s: %d:%d: %s", path, err.line, err.column, err.message);
        yg_value_t *script = yg_ynode_to_value(root);
        yg_ynode_destroy(&root);
        ck_assert_msg(yg_value_type(script) == YG_MAP, "%s is not a mapping", path);

        /* the provider accepts it */
        yg_mock_t *mock = yg_mock_new_from_file(path, &err);
        ck_assert_msg(mock != NULL, "%s: %s", path, err.message);
        yg_mock_destroy(&mock);

        yg_graph_t *g = load_example(names[i], "graph.yaml");
        yg_value_t *prompts = yg_map_new();
        collect_model_prompts(g, prompts, 0);

        /* every scripted name is a model prompt of the graph */
        for (size_t k = 0; k < yg_map_size(script); k++) {
            const char *key = yg_map_key_at(script, k);
            if (strcmp(key, "default") == 0 || strcmp(key, "latency_ms") == 0)
                continue;
            const yg_value_t *type = yg_map_get(prompts, key);
            ck_assert_msg(type != NULL, "%s: '%s' is not a model prompt of the graph", path,
                          key);
            const yg_prompt_t *p = find_prompt(g, key, 0);
            const yg_value_t *entry = yg_map_value_at(script, k);
            if (yg_value_type(entry) == YG_LIST) {
                for (size_t r = 0; r < yg_list_size(entry); r++)
                    check_reply(names[i], key, (yg_node_type_t)yg_value_int(type), p,
                                yg_list_get(entry, r));
            } else {
                check_reply(names[i], key, (yg_node_type_t)yg_value_int(type), p, entry);
            }
            scripted++;
        }
        /* every model prompt of the graph is scripted (runs are fully offline
         * and deterministic, never the mock's generic default) */
        if (!yg_map_has(script, "default"))
            for (size_t k = 0; k < yg_map_size(prompts); k++)
                ck_assert_msg(yg_map_has(script, yg_map_key_at(prompts, k)),
                              "%s: no reply for prompt '%s'", path, yg_map_key_at(prompts, k));
        yg_value_destroy(&prompts);
        yg_value_destroy(&script);
        yg_graph_destroy(&g);
    }
    /* the scan really looked at scripts */
    ck_assert_uint_ge(scripted, 15);
}
END_TEST

/* A mock script that names a prompt the graph does not have is caught by
 * the check above: prove the helper sees the difference. */
START_TEST(test_prompt_collection_sees_subgraph_and_map_prompts)
{
    yg_graph_t *g = load_example("subgraph", "graph.yaml");
    yg_value_t *prompts = yg_map_new();
    collect_model_prompts(g, prompts, 0);
    ck_assert_uint_eq(yg_map_size(prompts), 4);
    ck_assert(yg_map_has(prompts, "outline") && yg_map_has(prompts, "headline"));
    ck_assert(yg_map_has(prompts, "child_draft") && yg_map_has(prompts, "child_polish"));
    ck_assert(!yg_map_has(prompts, "summarize"));
    yg_value_destroy(&prompts);
    yg_graph_destroy(&g);

    g = load_example("map", "graph.yaml");
    prompts = yg_map_new();
    collect_model_prompts(g, prompts, 0);
    ck_assert_uint_eq(yg_map_size(prompts), 3);
    ck_assert(yg_map_has(prompts, "expand_idea")); /* the hidden map sub-node */
    yg_value_destroy(&prompts);
    yg_graph_destroy(&g);

    g = load_example("pipeline", "graph.yaml");
    prompts = yg_map_new();
    collect_model_prompts(g, prompts, 0);
    ck_assert_uint_eq(yg_map_size(prompts), 0); /* no model at all */
    yg_value_destroy(&prompts);
    yg_graph_destroy(&g);
}
END_TEST

/* --- prompts ------------------------------------------------------------------ */

/* Render the user (and system) text of a node's prompt with a variable map
 * holding "x" for every variable the node passes; the required-variable
 * check of spec 7.3 must pass. */
static void check_node_prompt(const char *example, const yg_node_t *node, const char *as)
{
    if (!node->prompt || yg_map_size(node->variables) == 0)
        return; /* whole-state prompts: nothing to check statically */
    yg_value_t *vars = yg_map_new();
    for (size_t i = 0; i < yg_map_size(node->variables); i++)
        yg_map_set(vars, yg_map_key_at(node->variables, i), yg_str_new("x"));
    if (as)
        yg_map_set(vars, as, yg_str_new("x"));
    yg_error_t err = {0};
    int rc = yg_tmpl_check_required(node->prompt->system, node->prompt->user, vars,
                                    node->prompt_name, &err);
    ck_assert_msg(rc == YG_OK, "%s: node '%s': %s", example, node->name, err.message);
    ck_assert_msg(node->prompt->user != NULL, "%s: prompt '%s' has no user text", example,
                  node->prompt_name);
    char *text = yg_tmpl_render(node->prompt->user, vars, NULL, &err);
    ck_assert_msg(text != NULL, "%s: prompt '%s': %s", example, node->prompt_name, err.message);
    ck_assert_msg(strlen(text) > 0, "%s: prompt '%s' renders empty", example, node->prompt_name);
    free(text);
    yg_value_destroy(&vars);
}

START_TEST(test_every_prompt_renders_with_its_node_variables)
{
    char names[MAX_EXAMPLES][NAME_LEN];
    size_t n = list_examples(names);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        yg_graph_t *g = load_example(names[i], "graph.yaml");
        for (size_t k = 0; k < g->nodes_count; k++) {
            const yg_node_t *node = g->nodes[k];
            if (node->type == YG_NODE_MAP) {
                check_node_prompt(names[i], node->sub, node->as);
                checked++;
            } else if (!node->is_map_sub && node->type != YG_NODE_AGENT) {
                check_node_prompt(names[i], node, NULL);
                checked += node->prompt != NULL;
            }
        }
        yg_graph_destroy(&g);
    }
    ck_assert_uint_ge(checked, 15);
}
END_TEST

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON: %s", err.message);
    return v;
}

START_TEST(test_prompts_render_as_documented)
{
    /* hello: the variables reach the simple-mode prompt */
    yg_graph_t *g = load_example("hello", "graph.yaml");
    const yg_node_t *greet = yg_graph_node(g, "greet");
    ck_assert_ptr_nonnull(greet);
    yg_value_t *vars = J("{\"name\": \"Ada\", \"style\": \"formal\"}");
    yg_error_t err = {0};
    char *text = yg_tmpl_render(greet->prompt->user, vars, NULL, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    ck_assert_str_eq(text, "Write a one-sentence greeting for Ada in a formal style.\n");
    free(text);
    yg_value_destroy(&vars);
    yg_graph_destroy(&g);

    /* map: the Jinja loop over the collected items, in order */
    g = load_example("map", "graph.yaml");
    const yg_node_t *sum = yg_graph_node(g, "summarize");
    ck_assert_ptr_nonnull(sum);
    ck_assert_int_eq(yg_tmpl_mode(sum->prompt->user), YG_TMPL_JINJA);
    vars = J("{\"topic\": \"gardens\", \"expansions\": ["
             "{\"_map_index\": 0, \"title\": \"Strip\", \"detail\": \"Sow it.\"},"
             "{\"_map_index\": 1, \"title\": \"Barrel\", \"detail\": \"Fill it.\"}]}");
    text = yg_tmpl_render(sum->prompt->user, vars, NULL, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    ck_assert_msg(strstr(text, "Summarise these plans about gardens in two sentences:") != NULL,
                  "%s", text);
    const char *a = strstr(text, "1. Strip: Sow it.");
    const char *b = strstr(text, "2. Barrel: Fill it.");
    ck_assert_msg(a && b && a < b, "items missing or out of order in:\n%s", text);
    free(text);
    yg_value_destroy(&vars);
    yg_graph_destroy(&g);

    /* interview: the second question is a template over the state */
    g = load_example("interview", "graph.yaml");
    const yg_node_t *ask = yg_graph_node(g, "ask_topic");
    ck_assert_ptr_nonnull(ask);
    ck_assert_ptr_nonnull(ask->message_tmpl);
    yg_value_t *state = J("{\"user_name\": \"Ada\"}");
    text = yg_tmpl_render(ask->message_tmpl, state, state, &err);
    ck_assert_msg(text != NULL, "%s", err.message);
    ck_assert_str_eq(text, "Nice to meet you, Ada! What would you like to learn about?");
    free(text);
    yg_value_destroy(&state);
    /* the first question is plain text, used as is */
    ask = yg_graph_node(g, "ask_name");
    ck_assert_ptr_null(ask->message_tmpl);
    ck_assert_str_eq(yg_value_str(ask->message), "What's your name?");
    yg_graph_destroy(&g);
}
END_TEST

/* --- structure ------------------------------------------------------------------- */

START_TEST(test_examples_load_as_the_readme_describes)
{
    /* router: three routes, a default, one router edge */
    yg_graph_t *g = load_example("router", "graph.yaml");
    const yg_node_t *cls = yg_graph_node(g, "classify");
    ck_assert_int_eq(cls->type, YG_NODE_ROUTER);
    ck_assert_uint_eq(yg_map_size(cls->routes), 3);
    ck_assert_str_eq(cls->default_route, "answer");
    ck_assert_uint_eq(cls->out_edges_count, 1);
    ck_assert_int_eq(g->edges[cls->out_edges[0]].kind, YG_EDGE_ROUTER);
    ck_assert_ptr_nonnull(cls->prompt->schema);
    yg_graph_destroy(&g);

    /* reflexion: the loop, its limit, two condition edges */
    g = load_example("reflexion", "graph.yaml");
    const yg_node_t *crit = yg_graph_node(g, "critique");
    ck_assert_int_eq(crit->loop_limit, 3);
    ck_assert(crit->in_loop && !crit->skip_if_exists);
    ck_assert(yg_graph_node(g, "refine")->in_loop);
    ck_assert(!yg_graph_node(g, "write")->in_loop);
    ck_assert_uint_eq(crit->out_edges_count, 2);
    for (size_t i = 0; i < crit->out_edges_count; i++)
        ck_assert_int_eq(g->edges[crit->out_edges[i]].kind, YG_EDGE_CONDITION);
    yg_graph_destroy(&g);

    /* map: over, as, collect with the ordered reducer */
    g = load_example("map", "graph.yaml");
    const yg_node_t *map = yg_graph_node(g, "expand");
    ck_assert_int_eq(map->type, YG_NODE_MAP);
    ck_assert_str_eq(map->over_path, "ideas.ideas");
    ck_assert_str_eq(map->as, "idea");
    ck_assert_int_eq(map->sub->type, YG_NODE_LLM);
    ck_assert_int_eq(yg_graph_key(g, "expansions")->reducer, YG_REDUCER_COLLECT);
    yg_graph_destroy(&g);

    /* interview: durable checkpointer, path from $YG_DATA_DIR or /tmp */
    const char *saved = getenv("YG_DATA_DIR");
    char *saved_copy = saved ? strdup(saved) : NULL;
    setenv("YG_DATA_DIR", "/var/lib/yg-test", 1);
    g = load_example("interview", "graph.yaml");
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_SQLITE);
    ck_assert_str_eq(g->checkpointer.path, "/var/lib/yg-test/yamlgraph-interview.ckpt");
    yg_graph_destroy(&g);
    unsetenv("YG_DATA_DIR");
    g = load_example("interview", "graph.yaml");
    ck_assert_str_eq(g->checkpointer.path, "/tmp/yamlgraph-interview.ckpt");
    ck_assert_int_eq(yg_graph_node(g, "ask_name")->type, YG_NODE_INTERRUPT);
    ck_assert_str_eq(yg_graph_node(g, "ask_name")->resume_key, "user_name");
    yg_graph_destroy(&g);
    if (saved_copy)
        setenv("YG_DATA_DIR", saved_copy, 1);
    free(saved_copy);

    /* subgraph: the child and both mappings */
    g = load_example("subgraph", "graph.yaml");
    const yg_node_t *w = yg_graph_node(g, "write");
    ck_assert_int_eq(w->type, YG_NODE_SUBGRAPH);
    ck_assert_ptr_nonnull(w->child);
    ck_assert_str_eq(w->child->name, "writer");
    ck_assert(!w->mode_direct);
    ck_assert_int_eq(w->input_mapping.kind, YG_MAPPING_MAP);
    ck_assert_str_eq(yg_value_str(yg_map_get(w->input_mapping.map, "topic")), "subject");
    ck_assert_int_eq(w->output_mapping.kind, YG_MAPPING_MAP);
    ck_assert_str_eq(yg_value_str(yg_map_get(w->output_mapping.map, "article")), "final_text");
    yg_graph_destroy(&g);

    /* agent: one shell tool with one {text} argument */
    g = load_example("agent", "graph.yaml");
    const yg_node_t *ag = yg_graph_node(g, "assistant");
    ck_assert_int_eq(ag->type, YG_NODE_AGENT);
    ck_assert_uint_eq(ag->tools_count, 1);
    ck_assert_int_eq(ag->max_iterations, 4);
    ck_assert_str_eq(ag->tool_results_key, "tool_log");
    const yg_tool_t *cw = yg_graph_tool(g, "count_words");
    ck_assert_int_eq(cw->type, YG_TOOL_SHELL);
    ck_assert_uint_eq(cw->placeholders_count, 1);
    ck_assert_str_eq(cw->placeholders[0], "text");
    ck_assert(!g->needs_python);
    yg_graph_destroy(&g);

    /* pipeline: no model, shell tools, a python tool for tool_call, exports */
    g = load_example("pipeline", "graph.yaml");
    ck_assert_str_eq(yg_graph_tool(g, "current_year")->parse, "json");
    ck_assert_int_eq(yg_graph_tool(g, "publish")->type, YG_TOOL_PYTHON);
    ck_assert_int_eq(yg_graph_node(g, "publish")->type, YG_NODE_TOOL_CALL);
    ck_assert_int_eq(yg_graph_node(g, "stamp")->type, YG_NODE_TOOL);
    ck_assert(yg_graph_node(g, "step")->in_loop);
    ck_assert_uint_eq(g->exports_count, 2);
    ck_assert(g->needs_python);
    yg_graph_destroy(&g);

    g = load_example("python-worker", "graph.yaml");
    ck_assert(g->needs_python);
    ck_assert_int_eq(yg_graph_node(g, "stats")->type, YG_NODE_PYTHON);
    yg_graph_destroy(&g);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("examples");
    TCase *tc = tcase_create("graphs");
    tcase_add_test(tc, test_every_example_loads_and_all_types_are_covered);
    tcase_add_test(tc, test_mock_scripts_match_their_graphs);
    tcase_add_test(tc, test_prompt_collection_sees_subgraph_and_map_prompts);
    tcase_add_test(tc, test_every_prompt_renders_with_its_node_variables);
    tcase_add_test(tc, test_prompts_render_as_documented);
    tcase_add_test(tc, test_examples_load_as_the_readme_describes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
