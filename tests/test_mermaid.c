/*
 * test_mermaid.c - Mermaid rendering: corpus graphs (reflexion, router, map)
 * through the loader, and a hand-built graph for ids, shapes and escaping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "yg_graph.h"
#include "yg_mermaid.h"

/* The rendered text must hold `line` as a whole line. */
static void expect_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++) {
        bool starts = p == text || p[-1] == '\n';
        bool ends = p[n] == '\n' || p[n] == '\0';
        if (starts && ends)
            return;
    }
    ck_abort_msg("line not found: [%s]\nin:\n%s", line, text);
}

/* Position of a whole line (for ordering checks); aborts when absent. */
static size_t line_pos(const char *text, const char *line)
{
    expect_line(text, line);
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return (size_t)(p - text);
    return 0;
}

static char *render_corpus(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", YG_CORPUS_DIR, rel);
    yg_error_t err = {0};
    yg_graph_t *g = yg_graph_load(path, &err);
    ck_assert_msg(g != NULL, "load %s: %s", rel, err.message);
    char *text = yg_mermaid_render(g, &err);
    ck_assert_msg(text != NULL, "render %s: %s", rel, err.message);
    /* Same input, same text. */
    char *again = yg_mermaid_render(g, &err);
    ck_assert_ptr_nonnull(again);
    ck_assert_str_eq(text, again);
    free(again);
    yg_graph_destroy(&g);
    /* Fence and header. */
    ck_assert(strncmp(text, "```mermaid\nflowchart TD\n", 24) == 0);
    size_t len = strlen(text);
    ck_assert(len > 4 && strcmp(text + len - 4, "```\n") == 0);
    return text;
}

START_TEST(test_reflexion)
{
    char *t = render_corpus("examples/demos/reflexion/graph.yaml");
    expect_line(t, "    __start__([\"__start__\"])");
    expect_line(t, "    __end__([\"__end__\"])");
    expect_line(t, "    draft[\"draft\"]");
    expect_line(t, "    critique[\"critique<br/>loop limit: 3\"]");
    expect_line(t, "    refine[\"refine\"]");
    expect_line(t, "    __start__ --> draft");
    expect_line(t, "    draft --> critique");
    expect_line(t, "    critique -.->|\"critique.score < 0.8\"| refine");
    expect_line(t, "    critique -.->|\"critique.score >= 0.8\"| __end__");
    expect_line(t, "    refine --> critique");
    expect_line(t, "    classDef loop fill:#fff4e5,stroke:#e8a33d");
    expect_line(t, "    class critique,refine loop");
    /* Nodes are declared before the edges, in YAML order. */
    ck_assert(line_pos(t, "    draft[\"draft\"]") < line_pos(t, "    refine[\"refine\"]"));
    ck_assert(line_pos(t, "    refine[\"refine\"]") < line_pos(t, "    __start__ --> draft"));
    free(t);
}
END_TEST

START_TEST(test_router)
{
    char *t = render_corpus("examples/demos/router/graph.yaml");
    expect_line(t, "    classify{\"classify\"}");
    expect_line(t, "    respond_positive[\"respond_positive\"]");
    expect_line(t, "    classify -.->|\"positive\"| respond_positive");
    expect_line(t, "    classify -.->|\"negative\"| respond_negative");
    expect_line(t, "    classify -.->|\"neutral\"| respond_neutral");
    expect_line(t, "    respond_neutral --> __end__");
    ck_assert_ptr_null(strstr(t, "classDef loop")); /* no cycle here */
    free(t);
}
END_TEST

START_TEST(test_map)
{
    char *t = render_corpus("examples/demos/map/graph.yaml");
    expect_line(t, "    expand[[\"expand<br/>map over ideas.ideas → expansions\"]]");
    expect_line(t, "    _map_expand_sub[\"expand: each idea<br/>prompt: expand_idea\"]");
    expect_line(t, "    expand -->|\"each idea\"| _map_expand_sub");
    expect_line(t, "    generate ==>|\"map over ideas.ideas\"| expand");
    expect_line(t, "    _map_expand_sub --> summarize");
    /* The map -> sub-node link follows the fan-out into the map. */
    ck_assert(line_pos(t, "    generate ==>|\"map over ideas.ideas\"| expand") <
              line_pos(t, "    expand -->|\"each idea\"| _map_expand_sub"));
    ck_assert(line_pos(t, "    expand -->|\"each idea\"| _map_expand_sub") <
              line_pos(t, "    _map_expand_sub --> summarize"));
    /* The sub-node is declared right after its map. */
    ck_assert(line_pos(t, "    expand[[\"expand<br/>map over ideas.ideas → expansions\"]]") <
              line_pos(t, "    _map_expand_sub[\"expand: each idea<br/>prompt: expand_idea\"]"));
    free(t);
}
END_TEST

START_TEST(test_interrupt_and_subgraph_corpus)
{
    char *t = render_corpus("examples/demos/subgraph/graph.yaml");
    expect_line(t, "    summarize[[\"summarize<br/>subgraph: subgraphs/summarizer.yaml\"]]");
    free(t);
    t = render_corpus("examples/demos/interview/graph.yaml");
    ck_assert_ptr_nonnull(strstr(t, "{{\"⏸ "));
    ck_assert_ptr_nonnull(strstr(t, "<br/>interrupt\"}}"));
    free(t);
}
END_TEST

/* ------------------------------------------------------------------------ */
/* Hand-built graph: ids that need care, escaping, every shape.              */

typedef struct {
    yg_graph_t g;
    yg_node_t nodes[8];
    yg_node_t *node_ptrs[8];
    yg_edge_t edges[8];
    char *to_names[8][2];
    size_t to_idx[8][2];
} fake_t;

static void fake_node(fake_t *f, size_t i, const char *name, yg_node_type_t type)
{
    yg_node_t *n = &f->nodes[i];
    memset(n, 0, sizeof *n);
    n->name = (char *)name;
    n->type = type;
    n->index = i;
    n->loop_limit = -1;
    f->node_ptrs[i] = n;
}

static void fake_edge(fake_t *f, size_t i, yg_edge_kind_t kind, size_t from, size_t to,
                      const char *to_name, const char *cond)
{
    yg_edge_t *e = &f->edges[i];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->from_index = from;
    f->to_idx[i][0] = to;
    f->to_names[i][0] = (char *)to_name;
    e->to = f->to_names[i];
    e->to_index = f->to_idx[i];
    e->to_count = 1;
    e->condition_src = (char *)cond;
}

START_TEST(test_ids_shapes_and_escaping)
{
    static fake_t f;
    memset(&f, 0, sizeof f);
    fake_node(&f, 0, "end", YG_NODE_PASSTHROUGH);
    fake_node(&f, 1, "a-b", YG_NODE_PYTHON);
    fake_node(&f, 2, "a_b", YG_NODE_INTERRUPT);
    fake_node(&f, 3, "9 lives \"quoted\"", YG_NODE_AGENT);
    fake_node(&f, 4, "sh", YG_NODE_TOOL);
    fake_node(&f, 5, "call", YG_NODE_TOOL_CALL);
    f.nodes[1].tool = "loader";
    f.nodes[3].tools_count = 2;
    f.nodes[4].tool = "date";
    f.nodes[0].in_loop = true;
    f.nodes[2].in_loop = true;
    f.g.name = "fake";
    f.g.nodes = f.node_ptrs;
    f.g.nodes_count = 6;
    f.g.top_nodes_count = 6;
    f.g.edges = f.edges;
    fake_edge(&f, 0, YG_EDGE_PLAIN, YG_START_INDEX, 0, "end", NULL);
    fake_edge(&f, 1, YG_EDGE_CONDITION, 0, 1, "a-b", "status == \"done\"");
    fake_edge(&f, 2, YG_EDGE_CONDITION, 0, 2, "a_b", "x <b>bold</b>");
    fake_edge(&f, 3, YG_EDGE_PLAIN, 2, 0, "end", NULL);
    fake_edge(&f, 4, YG_EDGE_PLAIN, 1, 3, "9 lives \"quoted\"", NULL);
    fake_edge(&f, 5, YG_EDGE_PLAIN, 3, 4, "sh", NULL);
    fake_edge(&f, 6, YG_EDGE_PLAIN, 4, 5, "call", NULL);
    fake_edge(&f, 7, YG_EDGE_PLAIN, 5, YG_END_INDEX, "END", NULL);
    f.g.edges_count = 8;

    yg_error_t err = {0};
    char *t = yg_mermaid_render(&f.g, &err);
    ck_assert_msg(t != NULL, "%s", err.message);
    expect_line(t, "    end_(\"end\")");                         /* keyword id gets a suffix */
    expect_line(t, "    a_b[/\"a-b<br/>python: loader\"/]");
    expect_line(t, "    a_b_2{{\"⏸ a_b<br/>interrupt\"}}");       /* clash gets _2 */
    expect_line(t, "    n_9_lives__quoted_>\"9 lives #quot;quoted#quot;<br/>agent, 2 tools\"]");
    expect_line(t, "    sh[\\\"sh<br/>tool: date\"\\]");
    expect_line(t, "    call_[/\"call<br/>tool_call\"\\]");
    expect_line(t, "    __start__ --> end_");
    expect_line(t, "    end_ -.->|\"status == #quot;done#quot;\"| a_b");
    expect_line(t, "    end_ -.->|\"x #lt;b>bold#lt;/b>\"| a_b_2");
    expect_line(t, "    call_ --> __end__");
    expect_line(t, "    class end_,a_b_2 loop");
    free(t);

    ck_assert_ptr_null(yg_mermaid_render(NULL, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
}
END_TEST

static Suite *mermaid_suite(void)
{
    Suite *s = suite_create("mermaid");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, test_reflexion);
    tcase_add_test(tc, test_router);
    tcase_add_test(tc, test_map);
    tcase_add_test(tc, test_interrupt_and_subgraph_corpus);
    tcase_add_test(tc, test_ids_shapes_and_escaping);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(mermaid_suite(), 30);
}
