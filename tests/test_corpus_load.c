/*
 * test_corpus_load.c - every corpus graph loads (with the corpus root as the
 * working directory, as its INDEX.md prescribes) and compiles to the facts
 * the spec and the corpus index describe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "yg_graph.h"
#include "yg_expr.h"
#include "yg_prompt.h"

typedef struct expect {
    const char *path;
    const char *name;
    size_t top_nodes; /* top-level nodes */
    size_t sub_nodes; /* hidden map sub-nodes */
    size_t edges;
} expect_t;

/* The 33 graphs that load (INDEX.md "Graphs", minus the two parents whose
 * subgraph files are missing). */
static const expect_t corpus[] = {
    {"examples/book_translator/graph.yaml", "book-translator", 9, 3, 11},
    {"examples/booking/graph.yaml", "booking-assistant", 7, 0, 8},
    {"examples/codegen/impl-agent.yaml", "implementation-agent", 5, 1, 6},
    {"examples/cost-router/cost-router.yaml", "cost-router", 7, 0, 10},
    {"examples/daily_digest/graph.yaml", "daily_digest", 7, 1, 8},
    {"examples/demos/code-analysis/graph.yaml", "code-analysis", 2, 0, 3},
    {"examples/demos/feature-brainstorm/graph.yaml", "feature-brainstorm", 4, 0, 5},
    {"examples/demos/git-report/graph.yaml", "git-report", 2, 0, 3},
    {"examples/demos/hello/graph.yaml", "hello-world", 1, 0, 2},
    {"examples/demos/interrupt/interrupt-parent.yaml", "interrupt-parent", 2, 0, 3},
    {"examples/demos/interrupt/subgraphs/interrupt-child.yaml", "interrupt-child", 3, 0, 4},
    {"examples/demos/interview/graph.yaml", "interview-demo", 4, 0, 5},
    {"examples/demos/map/graph.yaml", "map-demo", 3, 1, 4},
    {"examples/demos/memory/graph.yaml", "memory_demo", 1, 0, 2},
    {"examples/demos/reflexion/graph.yaml", "reflexion-demo", 3, 0, 5},
    {"examples/demos/router/graph.yaml", "tone-router-demo", 4, 0, 5},
    {"examples/demos/run-analyzer/graph.yaml", "run-analyzer", 3, 0, 4},
    {"examples/demos/subgraph/graph.yaml", "subgraph-demo", 3, 0, 4},
    {"examples/demos/subgraph/subgraphs/interrupt-child-with-checkpointer-redis.yaml",
     "interrupt-child-with-checkpointer-redis", 3, 0, 4},
    {"examples/demos/subgraph/subgraphs/interrupt-child-with-checkpointer.yaml",
     "interrupt-child-with-checkpointer", 3, 0, 4},
    {"examples/demos/subgraph/subgraphs/interrupt-child.yaml", "interrupt-child", 3, 0, 4},
    {"examples/demos/subgraph/subgraphs/summarizer.yaml", "summarizer", 1, 0, 2},
    {"examples/demos/web-research/graph.yaml", "web-research", 2, 0, 3},
    {"examples/demos/yamlgraph/graph.yaml", "yamlgraph-demo", 3, 0, 4},
    {"examples/npc/encounter-loop.yaml", "encounter-loop", 8, 0, 10},
    {"examples/npc/encounter-multi.yaml", "encounter-multi", 8, 3, 10},
    {"examples/npc/encounter-turn.yaml", "encounter-turn", 3, 0, 4},
    {"examples/npc/npc-creation.yaml", "npc-creation", 5, 0, 7},
    {"examples/rag/graph.yaml", "rag-example", 3, 0, 4},
    {"examples/storyboard/animated-character-graph.yaml", "animated-character-storyboard", 3, 1,
     4},
    {"examples/storyboard/character-graph.yaml", "character-storyboard", 2, 0, 3},
    {"examples/storyboard/graph.yaml", "storyboard", 2, 0, 3},
    {"examples/yamlgraph_gen/graph.yaml", "yamlgraph-generator", 12, 0, 13},
};
#define CORPUS_COUNT (sizeof corpus / sizeof corpus[0])

static void enter_corpus(void)
{
    ck_assert_int_eq(chdir(YG_CORPUS_DIR), 0);
}

static yg_graph_t *load_ok(const char *path)
{
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    if (!g) {
        char buf[2048];
        ck_abort_msg("%s failed: %s", path, yg_error_format(&err, buf, sizeof buf));
    }
    return g;
}

/* Resolved path relative to the corpus root, for comparisons. */
static const char *rel(const char *abs)
{
    static char root[4096];
    if (!root[0])
        ck_assert_ptr_nonnull(realpath(YG_CORPUS_DIR, root));
    size_t n = strlen(root);
    return strncmp(abs, root, n) == 0 && abs[n] == '/' ? abs + n + 1 : abs;
}

static yg_node_t *node(yg_graph_t *g, const char *name)
{
    yg_node_t *n = yg_graph_node(g, name);
    ck_assert_msg(n != NULL, "node %s missing", name);
    return n;
}

START_TEST(every_graph_loads)
{
    enter_corpus();
    const expect_t *e = &corpus[_i];
    yg_graph_t *g = load_ok(e->path);
    ck_assert_str_eq(g->name, e->name);
    ck_assert_uint_eq(g->top_nodes_count, e->top_nodes);
    ck_assert_uint_eq(g->nodes_count, e->top_nodes + e->sub_nodes);
    ck_assert_uint_eq(g->edges_count, e->edges);
    ck_assert_int_eq(g->refs, 1);
    ck_assert_uint_ge(g->start_edges_count, 1);
    ck_assert_uint_eq(strlen(g->hash_hex), 64);
    /* structural invariants of every compiled graph */
    for (size_t i = 0; i < g->nodes_count; i++) {
        yg_node_t *n = g->nodes[i];
        ck_assert_uint_eq(n->index, i);
        ck_assert(n->is_map_sub == (i >= g->top_nodes_count));
        if (n->type == YG_NODE_MAP) {
            ck_assert_ptr_nonnull(n->sub);
            ck_assert(n->sub->is_map_sub);
            ck_assert(yg_map_has(n->sub->variables, n->as) ||
                      n->sub->type == YG_NODE_TOOL_CALL);
            const yg_state_key_t *k = yg_graph_key(g, n->collect);
            ck_assert_ptr_nonnull(k);
            ck_assert_int_eq(k->reducer, YG_REDUCER_COLLECT);
        }
        if (n->type == YG_NODE_LLM || n->type == YG_NODE_ROUTER)
            ck_assert_ptr_nonnull(n->prompt);
    }
    for (size_t i = 0; i < g->edges_count; i++) {
        const yg_edge_t *ed = &g->edges[i];
        ck_assert(ed->from_index == YG_START_INDEX || ed->from_index < g->top_nodes_count);
        for (size_t j = 0; j < ed->to_count; j++)
            ck_assert(ed->to_index[j] == YG_END_INDEX || ed->to_index[j] < g->top_nodes_count);
        if (ed->kind == YG_EDGE_CONDITION)
            ck_assert_ptr_nonnull(ed->condition);
    }
    /* the hash is stable across loads */
    yg_graph_t *again = load_ok(e->path);
    ck_assert_str_eq(g->hash_hex, again->hash_hex);
    yg_graph_destroy(&again);
    yg_graph_destroy(&g);
    ck_assert_ptr_null(g);
}
END_TEST

START_TEST(missing_subgraph_files_fail)
{
    enter_corpus();
    static const char *const cases[][2] = {
        {"examples/demos/interrupt/interrupt-parent-redis.yaml",
         "interrupt-child-with-checkpointer-redis.yaml"},
        {"examples/demos/interrupt/interrupt-parent-with-checkpointer-child.yaml",
         "interrupt-child-with-checkpointer.yaml"},
    };
    for (size_t i = 0; i < 2; i++) {
        yg_error_t err = {0};
        ck_assert_ptr_null(yg_graph_load(cases[i][0], &err));
        ck_assert_int_eq(err.code, YG_ENOTFOUND);
        ck_assert_ptr_nonnull(strstr(err.message, cases[i][1]));
        ck_assert_ptr_nonnull(strstr(err.message, "not found"));
        ck_assert_str_eq(err.file, cases[i][0]);
        ck_assert_int_gt(err.line, 0);
        ck_assert_int_gt(err.column, 0);
    }
}
END_TEST

START_TEST(reflexion_loop)
{
    enter_corpus();
    yg_graph_t *g = load_ok("examples/demos/reflexion/graph.yaml");
    ck_assert(!node(g, "draft")->in_loop);
    ck_assert(node(g, "critique")->in_loop);
    ck_assert(node(g, "refine")->in_loop);
    ck_assert(node(g, "draft")->skip_if_exists);
    ck_assert(!node(g, "critique")->skip_if_exists);
    ck_assert(!node(g, "refine")->skip_if_exists);
    ck_assert_int_eq(node(g, "critique")->loop_limit, 3);
    ck_assert_int_eq(node(g, "draft")->loop_limit, -1);
    yg_node_t *c = node(g, "critique");
    ck_assert_uint_eq(c->out_edges_count, 2);
    ck_assert_int_eq(g->edges[c->out_edges[0]].kind, YG_EDGE_CONDITION);
    ck_assert_str_eq(g->edges[c->out_edges[0]].condition_src, "critique.score < 0.8");
    ck_assert_uint_eq(g->edges[c->out_edges[1]].to_index[0], YG_END_INDEX);
    ck_assert_str_eq(c->provider, "mistral");
    ck_assert_double_eq(c->temperature, 0.7);
    ck_assert_str_eq(rel(c->prompt->path), "examples/demos/reflexion/prompts/critique.yaml");
    /* the schema was converted to JSON Schema */
    ck_assert_str_eq(c->prompt->schema_name, "Critique");
    yg_value_t *props = yg_map_get(c->prompt->schema, "properties");
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_map_get(props, "score"), "type")), "number");
    ck_assert_double_eq(yg_value_float(yg_map_get(yg_map_get(props, "score"), "maximum")), 1.0);
    /* read set of a node with variables: its variable roots + bookkeeping */
    ck_assert(!c->reads_all);
    bool reads_draft = false;
    for (size_t i = 0; i < c->reads_count; i++)
        reads_draft |= strcmp(c->reads[i], "current_draft") == 0;
    ck_assert(reads_draft);
    ck_assert(node(g, "critique")->state_key_explicit);
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(router_graph)
{
    enter_corpus();
    yg_graph_t *g = load_ok("examples/demos/router/graph.yaml");
    yg_node_t *c = node(g, "classify");
    ck_assert_int_eq(c->type, YG_NODE_ROUTER);
    ck_assert_uint_eq(yg_map_size(c->routes), 3);
    ck_assert_str_eq(c->default_route, "respond_neutral");
    ck_assert_str_eq(c->provider, "xai");
    ck_assert_uint_eq(c->out_edges_count, 1);
    const yg_edge_t *e = &g->edges[c->out_edges[0]];
    ck_assert_int_eq(e->kind, YG_EDGE_ROUTER);
    ck_assert_uint_eq(e->to_count, 3);
    ck_assert_uint_eq(e->to_index[1], node(g, "respond_negative")->index);
    ck_assert_ptr_nonnull(yg_graph_key(g, "_route"));
    ck_assert_ptr_null(yg_graph_key(g, "_tool_results"));
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(map_graphs)
{
    enter_corpus();
    yg_graph_t *g = load_ok("examples/demos/map/graph.yaml");
    yg_node_t *m = node(g, "expand");
    ck_assert_int_eq(m->type, YG_NODE_MAP);
    ck_assert_str_eq(m->over_path, "ideas.ideas");
    yg_node_t *sub = node(g, "_map_expand_sub");
    ck_assert_ptr_eq(m->sub, sub);
    ck_assert_int_eq(sub->type, YG_NODE_LLM);
    ck_assert_str_eq(yg_value_str(yg_map_get(sub->variables, m->as)), "{state.idea}");
    ck_assert(sub->skip_if_exists);
    ck_assert_str_eq(sub->provider, "mistral");
    size_t fanouts = 0;
    for (size_t i = 0; i < g->edges_count; i++)
        if (g->edges[i].kind == YG_EDGE_FANOUT) {
            fanouts++;
            ck_assert_uint_eq(g->edges[i].to_index[0], m->index);
        }
    ck_assert_uint_eq(fanouts, 1);
    ck_assert_uint_eq(g->edges[m->out_edges[0]].from_index, m->index);
    ck_assert_ptr_null(yg_graph_node(g, "_map_nope_sub"));
    yg_graph_destroy(&g);

    g = load_ok("examples/codegen/impl-agent.yaml");
    sub = node(g, "_map_execute_discovery_sub");
    ck_assert_int_eq(sub->type, YG_NODE_TOOL_CALL);
    ck_assert_str_eq(sub->state_key, "discovery_result");
    ck_assert(!yg_vexpr_is_constant(sub->tool_expr));
    ck_assert(g->needs_python);
    yg_graph_destroy(&g);

    /* map -> map: a fan-out leaving the first map once it has collected */
    g = load_ok("examples/book_translator/graph.yaml");
    yg_node_t *t = node(g, "translate_all");
    ck_assert_uint_eq(t->out_edges_count, 1);
    const yg_edge_t *e = &g->edges[t->out_edges[0]];
    ck_assert_int_eq(e->kind, YG_EDGE_FANOUT);
    ck_assert_uint_eq(e->to_index[0], node(g, "proofread_all")->index);
    ck_assert_str_eq(node(g, "_map_translate_all_sub")->name, "_map_translate_all_sub");
    ck_assert(!node(g, "_map_translate_all_sub")->state_key_explicit);
    ck_assert_str_eq(node(g, "_map_translate_all_sub")->state_key, "_map_translate_all_sub");
    ck_assert_double_eq(node(g, "identify_chapters")->temperature, 0.3);
    ck_assert_str_eq(node(g, "identify_chapters")->provider, "anthropic");
    ck_assert(g->prompts_relative);
    ck_assert_str_eq(g->prompts_dir, "prompts");
    ck_assert_str_eq(rel(node(g, "_map_extract_glossary_sub")->prompt->path),
                     "examples/book_translator/prompts/extract_terms.yaml");
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_SQLITE);
    ck_assert_str_eq(g->checkpointer.path, ":memory:");
    ck_assert(g->needs_python);
    ck_assert_str_eq(yg_graph_key(g, "needs_review")->type, "bool");
    ck_assert_int_eq(node(g, "human_review")->type, YG_NODE_INTERRUPT);
    ck_assert_str_eq(node(g, "human_review")->resume_key, "reviewed_chunks");
    ck_assert_str_eq(node(g, "human_review")->state_key, "interrupt_message");
    ck_assert_ptr_eq(node(g, "split_book")->tool_def, yg_graph_tool(g, "split_by_markers"));
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(state_keys_and_reducers)
{
    enter_corpus();
    yg_graph_t *g = load_ok("examples/demos/memory/graph.yaml");
    ck_assert_int_eq(yg_graph_key(g, "messages")->reducer, YG_REDUCER_APPEND);
    ck_assert_int_eq(yg_graph_key(g, "errors")->reducer, YG_REDUCER_APPEND);
    ck_assert_int_eq(yg_graph_key(g, "response")->reducer, YG_REDUCER_REPLACE);
    ck_assert_ptr_nonnull(yg_graph_key(g, "_tool_results")); /* agent */
    ck_assert_ptr_nonnull(yg_graph_key(g, "thread_id"));
    ck_assert_ptr_nonnull(yg_graph_key(g, "word_count"));
    ck_assert_ptr_null(yg_graph_key(g, "_route"));
    ck_assert_ptr_null(yg_graph_key(g, "review")); /* node name, not its state_key */
    yg_node_t *a = node(g, "review");
    ck_assert_int_eq(a->type, YG_NODE_AGENT);
    ck_assert_uint_eq(a->tools_count, 3);
    ck_assert_int_eq(a->max_iterations, 5);
    ck_assert_str_eq(a->tool_results_key, "_tool_results");
    ck_assert(a->reads_all);
    const yg_tool_t *t = yg_graph_tool(g, "git_log");
    ck_assert_int_eq(t->type, YG_TOOL_SHELL);
    ck_assert_uint_eq(t->placeholders_count, 1);
    ck_assert_str_eq(t->placeholders[0], "count");
    ck_assert_str_eq(t->parse, "text");
    ck_assert_double_eq(t->timeout_s, 30.0);
    ck_assert_uint_eq(t->success_codes_count, 1);
    ck_assert_int_eq(t->success_codes[0], 0);
    ck_assert_uint_eq(g->exports_count, 2);
    ck_assert_str_eq(g->exports[0].key, "response");
    ck_assert_str_eq(g->exports[0].format, "markdown");
    ck_assert_str_eq(g->exports[1].filename, "tool_outputs.json");
    ck_assert(!g->needs_python);
    ck_assert(!g->has_checkpointer);
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_NONE);
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(subgraphs_and_checkpointers)
{
    enter_corpus();
    yg_graph_t *g = load_ok("examples/demos/interrupt/interrupt-parent.yaml");
    yg_node_t *s = node(g, "run_child");
    ck_assert_int_eq(s->type, YG_NODE_SUBGRAPH);
    ck_assert_ptr_nonnull(s->child);
    ck_assert_str_eq(s->child->name, "interrupt-child");
    ck_assert_int_eq(s->input_mapping.kind, YG_MAPPING_MAP);
    ck_assert_str_eq(yg_value_str(yg_map_get(s->input_mapping.map, "user_input")),
                     "input_message");
    ck_assert_int_eq(s->interrupt_output_mapping.kind, YG_MAPPING_MAP);
    ck_assert(!s->mode_direct);
    ck_assert(!s->reads_all);
    ck_assert_uint_eq(s->reads_count, 1);
    ck_assert_str_eq(s->reads[0], "user_input");
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_MEMORY);
    yg_graph_t *standalone = load_ok("examples/demos/interrupt/subgraphs/interrupt-child.yaml");
    /* the parent hash covers the child, so the two differ */
    ck_assert_str_ne(g->hash_hex, standalone->hash_hex);
    ck_assert_str_eq(s->child->hash_hex, standalone->hash_hex);
    yg_graph_destroy(&standalone);
    yg_graph_destroy(&g);

    g = load_ok("examples/demos/subgraph/graph.yaml");
    s = node(g, "summarize");
    ck_assert_str_eq(rel(node(s->child, "summarize")->prompt->path),
                     "examples/demos/subgraph/subgraphs/prompts/summarize.yaml");
    ck_assert_double_eq(node(s->child, "summarize")->temperature, 0.3);
    yg_graph_destroy(&g);

    unsetenv("REDIS_URL");
    g = load_ok("examples/demos/subgraph/subgraphs/interrupt-child-with-checkpointer-redis.yaml");
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_REDIS_SIMPLE);
    ck_assert_str_eq(g->checkpointer.url, "${REDIS_URL}");
    ck_assert_str_eq(g->checkpointer.key_prefix, "test-fr006-child:");
    ck_assert_int_eq(g->checkpointer.ttl, -1);
    yg_graph_destroy(&g);
    setenv("REDIS_URL", "redis://127.0.0.1:6390", 1);
    g = load_ok("examples/demos/subgraph/subgraphs/interrupt-child-with-checkpointer-redis.yaml");
    ck_assert_str_eq(g->checkpointer.url, "redis://127.0.0.1:6390");
    yg_graph_destroy(&g);
    unsetenv("REDIS_URL");

    unsetenv("DATABASE_PATH");
    g = load_ok("examples/daily_digest/graph.yaml");
    ck_assert_str_eq(g->checkpointer.path, "digest.db");
    yg_graph_destroy(&g);
    setenv("DATABASE_PATH", "/tmp/x.db", 1);
    g = load_ok("examples/daily_digest/graph.yaml");
    ck_assert_str_eq(g->checkpointer.path, "/tmp/x.db");
    yg_graph_destroy(&g);
    unsetenv("DATABASE_PATH");

    g = load_ok("examples/demos/interview/graph.yaml");
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_SQLITE);
    ck_assert_str_eq(g->checkpointer.path, ":memory:");
    yg_node_t *ask = node(g, "ask_name");
    ck_assert_int_eq(ask->type, YG_NODE_INTERRUPT);
    ck_assert_ptr_nonnull(ask->prompt);
    ck_assert(ask->reads_all);
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(prompt_lookup_variants)
{
    enter_corpus();
    /* cost-router: prompts_dir relative to the working directory */
    yg_graph_t *g = load_ok("examples/cost-router/cost-router.yaml");
    yg_node_t *c = node(g, "classify");
    ck_assert_str_eq(rel(c->prompt->path),
                     "examples/cost-router/prompts/classify_complexity.yaml");
    ck_assert(c->parse_json);
    ck_assert_str_eq(c->provider, "replicate");
    ck_assert_double_eq(c->temperature, 0.3);
    ck_assert_ptr_null(node(g, "log_simple")->output); /* `set:` is not read */
    ck_assert_uint_eq(g->prompts_count, 2);            /* execute_query shared by three */
    ck_assert_ptr_eq(node(g, "route_simple")->prompt, node(g, "route_complex")->prompt);
    ck_assert_uint_eq(node(g, "classify")->out_edges_count, 3);
    yg_graph_destroy(&g);

    /* the same graph from another working directory: the ancestor search */
    ck_assert_int_eq(chdir("/"), 0);
    g = load_ok(YG_CORPUS_DIR "/examples/cost-router/cost-router.yaml");
    ck_assert_str_eq(rel(node(g, "classify")->prompt->path),
                     "examples/cost-router/prompts/classify_complexity.yaml");
    yg_graph_destroy(&g);

    /* yamlgraph_gen: router loop with an interrupt */
    enter_corpus();
    g = load_ok("examples/yamlgraph_gen/graph.yaml");
    ck_assert(node(g, "classify_patterns")->in_loop);
    ck_assert(node(g, "clarify_request")->in_loop);
    ck_assert(!node(g, "select_snippets")->in_loop);
    ck_assert(!node(g, "classify_patterns")->skip_if_exists);
    ck_assert_str_eq(node(g, "clarify_request")->resume_key, "clarification");
    ck_assert_ptr_nonnull(node(g, "clarify_request")->prompt);
    ck_assert_str_eq(node(g, "classify_patterns")->provider, "anthropic");
    yg_graph_destroy(&g);

    /* encounter-loop: an eight-node cycle, every member marked */
    g = load_ok("examples/npc/encounter-loop.yaml");
    for (size_t i = 0; i < g->top_nodes_count; i++)
        ck_assert_msg(g->nodes[i]->in_loop, "%s not in loop", g->nodes[i]->name);
    ck_assert_ptr_nonnull(node(g, "await_dm")->message_tmpl);
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(hashes_differ_between_graphs)
{
    enter_corpus();
    char seen[CORPUS_COUNT][65];
    for (size_t i = 0; i < CORPUS_COUNT; i++) {
        yg_graph_t *g = load_ok(corpus[i].path);
        memcpy(seen[i], g->hash_hex, 65);
        yg_graph_destroy(&g);
    }
    /* the two byte-identical interrupt-child files share a hash; all else differ */
    for (size_t i = 0; i < CORPUS_COUNT; i++)
        for (size_t j = i + 1; j < CORPUS_COUNT; j++) {
            bool same_file = strcmp(corpus[i].name, "interrupt-child") == 0 &&
                             strcmp(corpus[j].name, "interrupt-child") == 0;
            ck_assert_msg(same_file == (strcmp(seen[i], seen[j]) == 0), "%s vs %s",
                          corpus[i].path, corpus[j].path);
        }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("corpus_load");
    TCase *tc = tcase_create("corpus");
    tcase_add_loop_test(tc, every_graph_loads, 0, (int)CORPUS_COUNT);
    tcase_add_test(tc, missing_subgraph_files_fail);
    tcase_add_test(tc, reflexion_loop);
    tcase_add_test(tc, router_graph);
    tcase_add_test(tc, map_graphs);
    tcase_add_test(tc, state_keys_and_reducers);
    tcase_add_test(tc, subgraphs_and_checkpointers);
    tcase_add_test(tc, prompt_lookup_variants);
    tcase_add_test(tc, hashes_differ_between_graphs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 60);
}
