/*
 * test_graph.c - graph loading behaviours from spec section 15: router
 * validation (15), on_error (25), subgraph cycles and diamonds (51), loop
 * detection (53), state keys (54), prompt lookup (57), checkpointer
 * configuration (58); plus defaults, read sets and the bench dialect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "yg_graph.h"
#include "yg_expr.h"
#include "yg_prompt.h"

/* Write `text` to <tmp>/<name> and return a private copy of the path. */
static char *write_file(const char *name, const char *text)
{
    const char *p = testutil_write_temp(name, text);
    ck_assert_ptr_nonnull(p);
    return strdup(p);
}

static yg_graph_t *load_text(const char *name, const char *text, yg_error_t *err)
{
    char *path = write_file(name, text);
    yg_graph_t *g = yg_graph_load(path, err);
    free(path);
    return g;
}

static yg_graph_t *load_ok(const char *name, const char *text)
{
    yg_error_t err = {0};
    yg_graph_t *g = load_text(name, text, &err);
    if (!g) {
        char buf[2048];
        ck_abort_msg("%s: %s", name, yg_error_format(&err, buf, sizeof buf));
    }
    return g;
}

static void load_fails(const char *name, const char *text, const char *substring, int line)
{
    yg_error_t err = {0};
    yg_graph_t *g = load_text(name, text, &err);
    ck_assert_msg(g == NULL, "%s should not load", name);
    ck_assert_msg(strstr(err.message, substring) != NULL, "%s: '%s' not in '%s'", name, substring,
                  err.message);
    if (line)
        ck_assert_int_eq(err.line, line);
}

static bool in_loop(yg_graph_t *g, const char *name)
{
    yg_node_t *n = yg_graph_node(g, name);
    ck_assert_ptr_nonnull(n);
    return n->in_loop;
}

#define PT " {type: passthrough}\n"

/* ------------------------------------------------------------ 15, 25 */

START_TEST(router_validation_15)
{
    testutil_write_temp("p15/prompts/cls.yaml", "system: s\nuser: \"{message}\"\n");
    load_fails("p15/no_routes.yaml",
               "prompts_relative: true\nprompts_dir: prompts\nnodes:\n  r: {type: router, "
               "prompt: cls}\nedges:\n  - {from: START, to: r}\n",
               "routes", 4);
    load_fails("p15/bad_route.yaml",
               "prompts_relative: true\nprompts_dir: prompts\nnodes:\n  r:\n    type: router\n"
               "    prompt: cls\n    routes: {x: ghost_node}\nedges:\n  - {from: START, to: r}\n",
               "ghost_node", 7);
    yg_graph_t *g = load_ok("p15/ok.yaml",
                            "prompts_relative: true\nprompts_dir: prompts\nnodes:\n  r:\n"
                            "    type: router\n    prompt: cls\n    routes: {x: a}\n  a:" PT
                            "edges:\n  - {from: START, to: r}\n  - {from: r, to: [a], type: "
                            "conditional}\n");
    ck_assert_int_eq(yg_graph_node(g, "r")->type, YG_NODE_ROUTER);
    ck_assert_int_eq(g->edges[1].kind, YG_EDGE_ROUTER);
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(on_error_25)
{
    testutil_write_temp("p25/p.yaml", "user: hi\n");
    load_fails("p25/bad.yaml",
               "prompts_relative: true\nnodes:\n  a: {prompt: p, on_error: invalid_value}\n"
               "edges:\n  - {from: START, to: a}\n",
               "on_error", 3);
    static const char *const modes[] = {"skip", "retry", "fail", "fallback"};
    static const yg_on_error_t want[] = {YG_ON_ERROR_SKIP, YG_ON_ERROR_RETRY, YG_ON_ERROR_FAIL,
                                         YG_ON_ERROR_FALLBACK};
    for (int i = 0; i < 4; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 "prompts_relative: true\nnodes:\n  a: {prompt: p, on_error: %s, max_retries: 2, "
                 "fallback: {provider: anthropic}}\nedges:\n  - {from: START, to: a}\n",
                 modes[i]);
        yg_graph_t *g = load_ok("p25/ok.yaml", text);
        yg_node_t *a = yg_graph_node(g, "a");
        ck_assert_int_eq(a->on_error, want[i]);
        ck_assert_int_eq(a->max_retries, 2);
        ck_assert_str_eq(a->fallback_provider, "anthropic");
        yg_graph_destroy(&g);
    }
}
END_TEST

/* ------------------------------------------------------------ 51 */

START_TEST(subgraph_cycles_and_diamonds_51)
{
    const char *leaf = "nodes:\n  w:" PT "edges:\n  - {from: START, to: w}\n";
    load_fails("p51/self.yaml",
               "nodes:\n  s: {type: subgraph, graph: self.yaml}\nedges:\n  - {from: START, to: "
               "s}\n",
               "circular subgraph reference", 2);
    testutil_write_temp("p51/b.yaml", "nodes:\n  back: {type: subgraph, graph: a.yaml}\nedges:\n"
                             "  - {from: START, to: back}\n");
    yg_error_t err = {0};
    char *a = write_file("p51/a.yaml", "nodes:\n  fwd: {type: subgraph, graph: b.yaml}\nedges:\n"
                                       "  - {from: START, to: fwd}\n");
    ck_assert_ptr_null(yg_graph_load(a, &err));
    ck_assert_ptr_nonnull(strstr(err.message, "circular subgraph reference"));
    ck_assert_ptr_nonnull(strstr(err.message, "a.yaml -> "));
    ck_assert_ptr_nonnull(strstr(err.message, "b.yaml -> "));
    ck_assert(strstr(err.file, "b.yaml") != NULL); /* reported where the cycle closes */
    free(a);

    /* diamond: two nodes (and a nested path) share one compiled child */
    testutil_write_temp("p51/d/leaf.yaml", leaf);
    testutil_write_temp("p51/d/mid.yaml", "nodes:\n  m: {type: subgraph, graph: leaf.yaml}\nedges:\n"
                                 "  - {from: START, to: m}\n");
    yg_graph_t *g = load_ok("p51/d/top.yaml",
                            "nodes:\n  x: {type: subgraph, graph: leaf.yaml}\n"
                            "  y: {type: subgraph, graph: ./leaf.yaml}\n"
                            "  z: {type: subgraph, graph: mid.yaml}\n"
                            "edges:\n  - {from: START, to: x}\n  - {from: x, to: y}\n"
                            "  - {from: y, to: z}\n");
    yg_graph_t *cx = yg_graph_node(g, "x")->child;
    ck_assert_ptr_eq(cx, yg_graph_node(g, "y")->child);
    ck_assert_ptr_eq(cx, yg_graph_node(yg_graph_node(g, "z")->child, "m")->child);
    ck_assert_int_eq(cx->refs, 3);
    ck_assert_str_eq(cx->name, "unnamed");
    yg_graph_destroy(&g);
}
END_TEST

/* ------------------------------------------------------------ 53 */

START_TEST(loop_detection_53)
{
    yg_graph_t *g = load_ok("p53/two.yaml", "nodes:\n  A:" PT "  B:" PT
                                            "edges:\n  - {from: START, to: A}\n  - {from: A, to: B}"
                                            "\n  - {from: B, to: A}\n");
    ck_assert(in_loop(g, "A") && in_loop(g, "B"));
    ck_assert(!yg_graph_node(g, "A")->skip_if_exists);
    yg_graph_destroy(&g);

    g = load_ok("p53/chain.yaml", "nodes:\n  A:" PT "  B:" PT "  C:" PT
                                  "edges:\n  - {from: START, to: A}\n  - {from: A, to: B}\n"
                                  "  - {from: B, to: C}\n  - {from: C, to: END}\n");
    ck_assert(!in_loop(g, "A") && !in_loop(g, "B") && !in_loop(g, "C"));
    yg_graph_destroy(&g);

    g = load_ok("p53/self.yaml", "nodes:\n  A:" PT "  B:" PT
                                 "edges:\n  - {from: START, to: A}\n  - {from: A, to: A}\n"
                                 "  - {from: A, to: B}\n");
    ck_assert(in_loop(g, "A") && !in_loop(g, "B"));
    yg_graph_destroy(&g);

    g = load_ok("p53/three.yaml", "nodes:\n  A:" PT "  B:" PT "  C:" PT "  D:" PT
                                  "edges:\n  - {from: START, to: D}\n  - {from: D, to: A}\n"
                                  "  - {from: A, to: B}\n  - {from: B, to: C}\n"
                                  "  - {from: C, to: A}\n");
    ck_assert(in_loop(g, "A") && in_loop(g, "B") && in_loop(g, "C"));
    ck_assert(!in_loop(g, "D")); /* leads into the cycle: not marked ([C] SCC rule) */
    yg_graph_destroy(&g);

    /* list targets and conditional arcs count; C only leaves */
    g = load_ok("p53/router.yaml",
                "nodes:\n  A:" PT "  B:" PT "  C:" PT
                "edges:\n  - {from: START, to: A}\n  - {from: A, to: [B, C], type: conditional}\n"
                "  - {from: B, to: A, condition: \"x < 3\"}\n  - {from: C, to: END}\n");
    ck_assert(in_loop(g, "A") && in_loop(g, "B") && !in_loop(g, "C"));
    yg_graph_destroy(&g);

    g = load_ok("p53/none.yaml", "nodes:\n  A:" PT "edges:\n  - {from: START, to: A}\n");
    ck_assert(!in_loop(g, "A"));
    yg_graph_destroy(&g);

    /* explicit skip_if_exists (either value) is preserved */
    testutil_write_temp("p53/p.yaml", "user: hi\n");
    g = load_ok("p53/explicit.yaml",
                "prompts_relative: true\nnodes:\n"
                "  A: {prompt: p, skip_if_exists: true}\n  B: {prompt: p}\n"
                "  C: {prompt: p, skip_if_exists: false}\n"
                "edges:\n  - {from: START, to: A}\n  - {from: A, to: B}\n  - {from: B, to: A}\n"
                "  - {from: B, to: C}\n");
    ck_assert(yg_graph_node(g, "A")->in_loop && yg_graph_node(g, "A")->skip_if_exists);
    ck_assert(yg_graph_node(g, "B")->in_loop && !yg_graph_node(g, "B")->skip_if_exists);
    ck_assert(!yg_graph_node(g, "C")->in_loop && !yg_graph_node(g, "C")->skip_if_exists);
    yg_graph_destroy(&g);
}
END_TEST

/* ------------------------------------------------------------ 54 */

static void expect_key(yg_graph_t *g, const char *name, yg_reducer_t reducer)
{
    const yg_state_key_t *k = yg_graph_key(g, name);
    ck_assert_msg(k != NULL, "key %s not declared", name);
    ck_assert_msg(k->reducer == reducer, "key %s reducer %d", name, (int)k->reducer);
}

START_TEST(state_keys_54)
{
    testutil_write_temp("p54/p.yaml", "user: hi\n");
    yg_graph_t *g = load_ok("p54/plain.yaml", "nodes:\n  a:" PT "edges:\n  - {from: START, to: a}\n");
    static const char *const base[] = {"thread_id", "current_step", "error", "_loop_counts",
                                       "_loop_limit_reached", "_agent_iterations",
                                       "_agent_limit_reached", "started_at", "completed_at",
                                       "input", "topic", "style", "word_count", "message"};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        expect_key(g, base[i], YG_REDUCER_REPLACE);
    expect_key(g, "errors", YG_REDUCER_APPEND);
    expect_key(g, "messages", YG_REDUCER_APPEND);
    ck_assert_ptr_null(yg_graph_key(g, "_route"));
    ck_assert_ptr_null(yg_graph_key(g, "_tool_results"));
    ck_assert_ptr_null(yg_graph_key(g, "a"));
    ck_assert_uint_eq(g->keys_count, 16);
    yg_graph_destroy(&g);

    g = load_ok("p54/all.yaml",
                "prompts_relative: true\n"
                "state:\n  messages: list\n  story: STRING\n  score: float\n  odd: 42\n"
                "  items: list\n  results: list\n"
                "tools:\n  t: {command: echo}\n"
                "nodes:\n"
                "  r: {type: router, prompt: p, routes: {x: ag}, state_key: cls}\n"
                "  ag: {type: agent, prompt: p, tools: [t]}\n"
                "  m: {type: map, over: \"{state.items}\", as: it, node: {prompt: p}, "
                "collect: results}\n"
                "  m2: {type: map, over: \"{items}\", as: it, node: {prompt: p, state_key: sub_out}, "
                "collect: more}\n"
                "edges:\n  - {from: START, to: r}\n  - {from: r, to: [ag], type: conditional}\n"
                "  - {from: ag, to: m}\n  - {from: m, to: m2}\n");
    expect_key(g, "messages", YG_REDUCER_REPLACE); /* redeclared: the append is gone */
    expect_key(g, "errors", YG_REDUCER_APPEND);
    expect_key(g, "cls", YG_REDUCER_REPLACE);
    expect_key(g, "_route", YG_REDUCER_REPLACE);
    expect_key(g, "_tool_results", YG_REDUCER_REPLACE);
    expect_key(g, "results", YG_REDUCER_COLLECT); /* collect wins over `state:` */
    expect_key(g, "more", YG_REDUCER_COLLECT);
    ck_assert_ptr_null(yg_graph_key(g, "sub_out")); /* map sub-nodes add nothing */
    ck_assert_ptr_null(yg_graph_key(g, "ag"));      /* default state_key is not declared */
    ck_assert_str_eq(yg_graph_key(g, "story")->type, "str");
    ck_assert_str_eq(yg_graph_key(g, "score")->type, "float");
    ck_assert_str_eq(yg_graph_key(g, "odd")->type, "any");
    ck_assert_str_eq(yg_graph_node(g, "m2")->over_path, "items");
    ck_assert(!g->needs_python);
    yg_graph_destroy(&g);
}
END_TEST

/* ------------------------------------------------------------ 57 */

START_TEST(prompt_lookup_57)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/p57", testutil_temp_dir());
    testutil_write_temp("p57/g/greet.yaml", "user: local\n");
    testutil_write_temp("p57/g/nested/deep.yaml", "user: nested\n");
    testutil_write_temp("p57/g/pd/greet.yaml", "user: in prompts_dir\n");
    testutil_write_temp("p57/abs/greet.yaml", "user: absolute\n");
    testutil_write_temp("p57/cwd/prompts/only_cwd.yaml", "user: cwd default\n");
    testutil_write_temp("p57/cwd/lib/prompts/b.yaml", "user: split fallback\n");
    testutil_write_temp("p57/proj/prompts/anc.yaml", "user: ancestor\n");
    testutil_write_temp("p57/proj/graphs/deeper/x.txt", "");

    char g_dir[600], abs_dir[600], cwd[600], proj_graphs[600];
    snprintf(g_dir, sizeof g_dir, "%s/g", dir);
    snprintf(abs_dir, sizeof abs_dir, "%s/abs", dir);
    snprintf(cwd, sizeof cwd, "%s/cwd", dir);
    snprintf(proj_graphs, sizeof proj_graphs, "%s/proj/graphs/deeper", dir);
    ck_assert_int_eq(chdir(cwd), 0);

    yg_error_t err = {0};
    yg_prompt_lookup_t lk = {.graph_dir = g_dir, .prompts_relative = true};
    char *p = yg_prompt_resolve("greet", &lk, &err);
    ck_assert_ptr_nonnull(strstr(p, "/p57/g/greet.yaml"));
    free(p);
    p = yg_prompt_resolve("nested/deep", &lk, &err);
    ck_assert_ptr_nonnull(strstr(p, "/p57/g/nested/deep.yaml"));
    free(p);
    /* relative + relative prompts_dir: <graph dir>/<prompts_dir>/<name>.yaml */
    lk.prompts_dir = "pd";
    p = yg_prompt_resolve("greet", &lk, &err);
    ck_assert_ptr_nonnull(strstr(p, "/p57/g/pd/greet.yaml"));
    free(p);
    /* an absolute prompts_dir wins over a graph-local copy */
    lk.prompts_dir = abs_dir;
    p = yg_prompt_resolve("greet", &lk, &err);
    ck_assert_ptr_nonnull(strstr(p, "/p57/abs/greet.yaml"));
    free(p);
    /* prompts_relative without a graph path and without prompts_dir */
    yg_prompt_lookup_t none = {.prompts_relative = true};
    ck_assert_ptr_null(yg_prompt_resolve("greet", &none, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.message, "prompts_relative"));
    /* default directory under the working directory, and the a/b fallback */
    yg_prompt_lookup_t plain = {0};
    p = yg_prompt_resolve("only_cwd", &plain, &err);
    ck_assert_ptr_nonnull(strstr(p, "/p57/cwd/prompts/only_cwd.yaml"));
    free(p);
    p = yg_prompt_resolve("lib/b", &plain, &err);
    ck_assert_ptr_nonnull(strstr(p, "/p57/cwd/lib/prompts/b.yaml"));
    free(p);
    /* nothing: a not-found error listing what was tried */
    ck_assert_ptr_null(yg_prompt_resolve("missing", &lk, &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.message, "prompt 'missing' not found"));
    ck_assert_ptr_nonnull(strstr(err.message, "/p57/abs/missing.yaml"));
    /* extension: an ancestor of the graph dir as project root */
    yg_prompt_lookup_t anc = {.graph_dir = proj_graphs};
    ck_assert_ptr_null(yg_prompt_resolve("anc", &anc, &err));
    anc.search_ancestors = true;
    p = yg_prompt_resolve("anc", &anc, &err);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(strstr(p, "/p57/proj/prompts/anc.yaml"));
    free(p);
    /* a name with .yaml is never found; the error says why */
    ck_assert_ptr_null(yg_prompt_resolve("greet.yaml", &lk, &err));
    ck_assert_ptr_nonnull(strstr(err.message, "without the .yaml extension"));

    /* through the loader: the node's prompt is the resolved file */
    yg_graph_t *g = load_ok("p57/g/graph.yaml",
                            "prompts_relative: true\nnodes:\n  a: {prompt: greet}\n"
                            "  b: {prompt: nested/deep}\nedges:\n  - {from: START, to: a}\n"
                            "  - {from: a, to: b}\n");
    ck_assert_str_eq(yg_graph_node(g, "a")->prompt->user_src, "local");
    ck_assert_str_eq(yg_graph_node(g, "b")->prompt->user_src, "nested");
    ck_assert_str_eq(yg_graph_node(g, "b")->prompt_name, "nested/deep");
    yg_graph_destroy(&g);
    /* top-level prompts_dir wins over defaults.prompts_dir */
    g = load_ok("p57/g/graph2.yaml",
                "prompts_relative: true\nprompts_dir: pd\ndefaults: {prompts_dir: nowhere}\n"
                "nodes:\n  a: {prompt: greet}\nedges:\n  - {from: START, to: a}\n");
    ck_assert_str_eq(yg_graph_node(g, "a")->prompt->user_src, "in prompts_dir");
    yg_graph_destroy(&g);
}
END_TEST

/* ------------------------------------------------------------ 58 */

START_TEST(checkpointer_config_58)
{
    const char *tail = "nodes:\n  a:" PT "edges:\n  - {from: START, to: a}\n";
    char text[1024];
    setenv("YG_T_HOST", "localhost", 1);
    setenv("YG_T_PORT", "6379", 1);
    unsetenv("YG_T_MISSING");
    unsetenv("YG_T_EMPTY_DEFAULT");
    snprintf(text, sizeof text,
             "checkpointer:\n  type: redis\n  url: \"redis://${YG_T_HOST}:${YG_T_PORT}/0\"\n%s",
             tail);
    yg_graph_t *g = load_ok("p58/two.yaml", text);
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_REDIS);
    ck_assert_str_eq(g->checkpointer.url, "redis://localhost:6379/0");
    ck_assert_int_eq(g->checkpointer.ttl, 60); /* minutes */
    ck_assert_str_eq(g->checkpointer.type_name, "redis");
    ck_assert(g->has_checkpointer);
    yg_graph_destroy(&g);

    snprintf(text, sizeof text,
             "checkpointer:\n  type: sqlite\n  path: \"${YG_T_MISSING}/x.db\"\n%s", tail);
    g = load_ok("p58/missing.yaml", text);
    ck_assert_str_eq(g->checkpointer.path, "${YG_T_MISSING}/x.db");
    yg_graph_destroy(&g);

    snprintf(text, sizeof text,
             "checkpointer:\n  type: sqlite\n  path: ${YG_T_EMPTY_DEFAULT:-fallback.db}\n%s",
             tail);
    g = load_ok("p58/default.yaml", text);
    ck_assert_str_eq(g->checkpointer.path, "fallback.db");
    yg_graph_destroy(&g);

    snprintf(text, sizeof text, "checkpointer: {}\n%s", tail);
    g = load_ok("p58/empty.yaml", text);
    ck_assert(!g->has_checkpointer);
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_NONE);
    yg_graph_destroy(&g);

    g = load_ok("p58/absent.yaml", tail);
    ck_assert(!g->has_checkpointer);
    yg_graph_destroy(&g);

    snprintf(text, sizeof text, "checkpointer:\n  path: x.db\n%s", tail);
    g = load_ok("p58/notype.yaml", text);
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_MEMORY);
    yg_graph_destroy(&g);

    snprintf(text, sizeof text, "checkpointer:\n  type: sqlite\n%s", tail);
    g = load_ok("p58/sqlite.yaml", text);
    ck_assert_str_eq(g->checkpointer.path, ":memory:");
    yg_graph_destroy(&g);

    snprintf(text, sizeof text, "checkpointer:\n  type: redis-simple\n  url: redis://h\n%s", tail);
    g = load_ok("p58/simple.yaml", text);
    ck_assert_int_eq(g->checkpointer.type, YG_CKPT_REDIS_SIMPLE);
    ck_assert_str_eq(g->checkpointer.key_prefix, "lg:");
    ck_assert_int_eq(g->checkpointer.ttl, -1);
    yg_graph_destroy(&g);

    snprintf(text, sizeof text,
             "checkpointer:\n  type: redis-simple\n  key_prefix: \"test:\"\n  ttl: 30\n%s", tail);
    g = load_ok("p58/simple2.yaml", text);
    ck_assert_str_eq(g->checkpointer.key_prefix, "test:");
    ck_assert_int_eq(g->checkpointer.ttl, 30);
    ck_assert_str_eq(g->checkpointer.url, "");
    yg_graph_destroy(&g);

    snprintf(text, sizeof text, "checkpointer:\n  type: mongo\n%s", tail);
    load_fails("p58/unknown.yaml", text, "Unknown checkpointer type: mongo", 2);

    /* the expander itself */
    char *s = yg_graph_env_expand("${YG_T_HOST}-${YG_T_HOST}");
    ck_assert_str_eq(s, "localhost-localhost");
    free(s);
    s = yg_graph_env_expand("$YG_T_HOST ${ unterminated");
    ck_assert_str_eq(s, "$YG_T_HOST ${ unterminated");
    free(s);
    setenv("YG_T_SET", "", 1);
    s = yg_graph_env_expand("${YG_T_SET:-d}|${YG_T_SET}|${YG_T_PORT:-d}");
    ck_assert_str_eq(s, "d||6379");
    free(s);
}
END_TEST

/* ------------------------------------------------------------ defaults, reads */

START_TEST(node_defaults_and_reads)
{
    testutil_write_temp("pd/p.yaml", "user: \"{x}\"\nprovider: openai\n");
    testutil_write_temp("pd/q.yaml", "user: \"{x}\"\n");
    yg_graph_t *g = load_ok(
        "pd/g.yaml",
        "prompts_relative: true\n"
        "tools:\n  sh: {command: \"ls {dir} {dir} {{x}}\", timeout: 5, env: {A: b}, "
        "success_codes: [0, 1]}\n"
        "  py: {type: python, module: m, function: f}\n"
        "nodes:\n"
        "  l1: {prompt: p}\n"
        "  l2: {prompt: q, temperature: 0.2, variables: {v: \"{state.doc.title}\"}, "
        "requires: [doc], state_key: out}\n"
        "  i: {type: interrupt, message: \"Hi {name}\"}\n"
        "  i2: {type: interrupt, message: {question: q}}\n"
        "  pt: {type: passthrough, output: {n: \"{state.n + 1}\", lit: done}}\n"
        "  tc: {type: tool_call, tool: py, args: {a: 1}}\n"
        "  sh: {type: tool, tool: sh, variables: {dir: \"{state.path}\"}}\n"
        "  py: {type: python, function: py}\n"
        "edges:\n  - {from: START, to: l1}\n  - {from: l1, to: l2}\n  - {from: l2, to: i}\n"
        "  - {from: i, to: i2}\n  - {from: i2, to: pt}\n  - {from: pt, to: tc}\n"
        "  - {from: tc, to: sh}\n  - {from: sh, to: py}\n  - {from: py, to: END}\n");
    yg_node_t *l1 = yg_graph_node(g, "l1"), *l2 = yg_graph_node(g, "l2");
    ck_assert_str_eq(l1->state_key, "l1");
    ck_assert(!l1->state_key_explicit);
    ck_assert(l1->skip_if_exists);
    ck_assert_double_eq(l1->temperature, 0.7);
    ck_assert_str_eq(l1->provider, "openai"); /* from the prompt file */
    ck_assert_int_eq(l1->max_retries, 3);
    ck_assert_int_eq(l1->loop_limit, -1);
    ck_assert(l1->reads_all);
    ck_assert_double_eq(l2->temperature, 0.2);
    ck_assert_ptr_null(l2->provider);
    ck_assert(!l2->reads_all);
    static const char *const l2_reads[] = {"doc", "out", "_loop_counts"};
    ck_assert_uint_eq(l2->reads_count, 3);
    for (size_t k = 0; k < 3; k++)
        ck_assert_str_eq(l2->reads[k], l2_reads[k]);

    yg_node_t *i = yg_graph_node(g, "i");
    ck_assert_str_eq(i->state_key, "interrupt_message");
    ck_assert_str_eq(i->resume_key, "user_input");
    ck_assert_ptr_nonnull(i->message_tmpl);
    ck_assert_ptr_null(yg_graph_node(g, "i2")->message_tmpl);
    ck_assert_int_eq(yg_value_type(yg_graph_node(g, "i2")->message), YG_MAP);

    yg_node_t *pt = yg_graph_node(g, "pt");
    ck_assert_uint_eq(yg_map_size(pt->output), 2);
    ck_assert_ptr_nonnull(pt->output_exprs[0]);
    ck_assert(yg_vexpr_is_constant(pt->output_exprs[1]));
    ck_assert_uint_eq(pt->reads_count, 2); /* n (read and written back), lit */
    ck_assert_str_eq(pt->reads[0], "n");

    yg_node_t *tc = yg_graph_node(g, "tc");
    ck_assert_str_eq(tc->state_key, "result");
    ck_assert_str_eq(tc->tool, "py");

    yg_node_t *sh = yg_graph_node(g, "sh");
    ck_assert_ptr_eq(sh->tool_def, yg_graph_tool(g, "sh"));
    ck_assert_uint_eq(sh->reads_count, 1);
    ck_assert_str_eq(sh->reads[0], "path");
    const yg_tool_t *t = yg_graph_tool(g, "sh");
    /* the original's regex scan also sees the inside of "{{x}}" (spec 4.11) */
    ck_assert_uint_eq(t->placeholders_count, 2);
    ck_assert_str_eq(t->placeholders[0], "dir");
    ck_assert_str_eq(t->placeholders[1], "x");
    ck_assert_double_eq(t->timeout_s, 5.0);
    ck_assert_str_eq(yg_value_str(yg_map_get(t->env, "A")), "b");
    ck_assert_uint_eq(t->success_codes_count, 2);
    ck_assert_str_eq(t->working_dir, ".");

    yg_node_t *py = yg_graph_node(g, "py");
    ck_assert_str_eq(py->tool, "py");
    ck_assert(py->reads_all);
    ck_assert(g->needs_python);
    ck_assert_int_eq(g->recursion_limit, 25);
    ck_assert_int_eq(g->max_map_items, -1);
    ck_assert_str_eq(g->name, "unnamed");
    ck_assert_str_eq(g->version, "1.0");
    yg_graph_destroy(&g);
}
END_TEST

/* The bench workloads' dialect (WORKLOADS.md): config, passthrough map sub-nodes. */
START_TEST(bench_dialect)
{
    yg_graph_t *g = load_ok("bench/w2.yaml",
                            "version: \"1.0\"\nname: w2-router-loop\n"
                            "config: {recursion_limit: 1000}\n"
                            "nodes:\n  inc: {type: passthrough, output: {i: \"{state.i + 1}\"}}\n"
                            "edges:\n  - {from: START, to: inc}\n"
                            "  - {from: inc, to: inc, condition: \"i < 100\"}\n"
                            "  - {from: inc, to: END, condition: \"i >= 100\"}\n");
    ck_assert_int_eq(g->recursion_limit, 1000);
    ck_assert(yg_graph_node(g, "inc")->in_loop);
    ck_assert_int_eq(g->edges[1].kind, YG_EDGE_CONDITION);
    yg_graph_destroy(&g);

    g = load_ok("bench/w3.yaml",
                "name: w3-map\nconfig: {max_map_items: 1000}\n"
                "tools:\n  make_items: {type: python, module: builtin, function: range}\n"
                "nodes:\n  produce: {type: python, tool: make_items, state_key: items}\n"
                "  fan:\n    type: map\n    over: \"{state.items}\"\n    as: item\n"
                "    max_items: 1000\n"
                "    node: {type: passthrough, output: {doubled: \"{state.item * 2}\"}}\n"
                "    collect: results\n"
                "edges:\n  - {from: START, to: produce}\n  - {from: produce, to: fan}\n"
                "  - {from: fan, to: END}\n");
    ck_assert_int_eq(g->max_map_items, 1000);
    yg_node_t *fan = yg_graph_node(g, "fan");
    ck_assert_int_eq(fan->max_items, 1000);
    ck_assert_int_eq(fan->sub->type, YG_NODE_PASSTHROUGH);
    ck_assert_int_eq(g->edges[1].kind, YG_EDGE_FANOUT);
    ck_assert_int_eq(yg_graph_key(g, "results")->reducer, YG_REDUCER_COLLECT);
    yg_graph_destroy(&g);
}
END_TEST

START_TEST(hash_tracks_every_file)
{
    testutil_write_temp("ph/p.yaml", "user: one\n");
    const char *graph = "prompts_relative: true\nnodes:\n  a: {prompt: p}\n"
                        "edges:\n  - {from: START, to: a}\n";
    yg_graph_t *g1 = load_ok("ph/g.yaml", graph);
    testutil_write_temp("ph/p.yaml", "user: two\n");
    yg_graph_t *g2 = load_ok("ph/g.yaml", graph);
    ck_assert_str_ne(g1->hash_hex, g2->hash_hex); /* a prompt change changes the hash */
    testutil_write_temp("ph/p.yaml", "user: one\n");
    yg_graph_t *g3 = load_ok("ph/g.yaml", graph);
    ck_assert_str_eq(g1->hash_hex, g3->hash_hex);
    yg_graph_destroy(&g1);
    yg_graph_destroy(&g2);
    yg_graph_destroy(&g3);
}
END_TEST

START_TEST(load_argument_errors)
{
    yg_error_t err = {0};
    ck_assert_ptr_null(yg_graph_load(NULL, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    ck_assert_ptr_null(yg_graph_load("/nonexistent/graph.yaml", &err));
    ck_assert_int_eq(err.code, YG_ENOTFOUND);
    ck_assert_str_eq(err.file, "/nonexistent/graph.yaml");
    ck_assert_ptr_null(yg_graph_load(testutil_temp_dir(), &err)); /* a directory */
    ck_assert_int_ne(err.code, YG_OK);
    yg_graph_destroy(NULL);
    ck_assert_str_eq(yg_node_type_name(YG_NODE_TOOL_CALL), "tool_call");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("graph");
    TCase *tc = tcase_create("graph");
    tcase_add_test(tc, router_validation_15);
    tcase_add_test(tc, on_error_25);
    tcase_add_test(tc, subgraph_cycles_and_diamonds_51);
    tcase_add_test(tc, loop_detection_53);
    tcase_add_test(tc, state_keys_54);
    tcase_add_test(tc, prompt_lookup_57);
    tcase_add_test(tc, checkpointer_config_58);
    tcase_add_test(tc, node_defaults_and_reads);
    tcase_add_test(tc, bench_dialect);
    tcase_add_test(tc, hash_tracks_every_file);
    tcase_add_test(tc, load_argument_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
