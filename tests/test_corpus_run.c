/*
 * test_corpus_run.c - every corpus graph that needs no Python (INDEX.md,
 * "Runnable without Python") runs end to end with the mock provider: to
 * completion, or to its interrupt and through resume to completion.  The
 * node path (node_end events, in order, subgraph nodes included) and the
 * final state are asserted.  Mock reply scripts live in tests/mock/.
 * The working directory is the corpus root (graphs name prompt folders
 * relative to it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil_rt.h"

#define WAIT_MS 20000
#define MAX_STEPS 4

typedef struct step {
    const char *value;    /* resume value (JSON); NULL for the first run */
    yg_run_status_t status;
    const char *path;     /* JSON list of node names */
} step_t;

typedef struct corpus_case {
    const char *graph;
    const char *mock;     /* tests/mock/<file>, NULL = default mock replies */
    const char *input;    /* JSON map */
    const char *thread;
    const char *checkpointer; /* runtime checkpointer, NULL = the graph's */
    step_t steps[MAX_STEPS];
    const char *state;    /* JSON map: keys that must equal in the final state */
} corpus_case_t;

static const corpus_case_t CASES[] = {
    { "examples/demos/hello/graph.yaml", "hello.yaml", "{\"name\": \"Ada\", \"style\": \"warm\"}",
      NULL, NULL, { { NULL, YG_RUN_COMPLETED, "[\"greet\"]" } },
      "{\"greeting\": \"Hello Ada, in a warm style!\", \"_loop_counts\": {\"greet\": 1}}" },
    { "examples/cost-router/cost-router.yaml", "cost-router.yaml", "{\"query\": \"why?\"}", NULL,
      NULL, { { NULL, YG_RUN_COMPLETED, "[\"classify\", \"route_medium\", \"log_medium\"]" } },
      "{\"result\": \"A medium-sized answer.\", \"classification\": {\"complexity\": \"medium\","
      " \"reasoning\": \"needs some thought\"}, \"current_step\": \"log_medium\"}" },
    { "examples/demos/router/graph.yaml", "router.yaml", "{\"message\": \"this is awful\"}", NULL,
      NULL, { { NULL, YG_RUN_COMPLETED, "[\"classify\", \"respond_negative\"]" } },
      "{\"_route\": \"respond_negative\", \"response\": \"I am sorry to hear that.\"}" },
    { "examples/demos/reflexion/graph.yaml", "reflexion.yaml", "{\"topic\": \"graphs\"}", NULL,
      NULL, { { NULL, YG_RUN_COMPLETED, "[\"draft\", \"critique\", \"refine\", \"critique\"]" } },
      "{\"current_draft\": {\"content\": \"Refined draft.\", \"version\": 2},"
      " \"_loop_counts\": {\"draft\": 1, \"critique\": 2, \"refine\": 1}}" },
    { "examples/demos/map/graph.yaml", "map.yaml", "{\"topic\": \"cities\"}", NULL, NULL,
      { { NULL, YG_RUN_COMPLETED, "[\"generate\", \"expand\", \"expand\", \"expand\", \"summarize\"]" } },
      "{\"expansions\": [{\"_map_index\": 0, \"expansion\": \"expanded one\"},"
      " {\"_map_index\": 1, \"expansion\": \"expanded two\"},"
      " {\"_map_index\": 2, \"expansion\": \"expanded three\"}],"
      " \"summary\": \"All three ideas summarised.\"}" },
    { "examples/demos/subgraph/graph.yaml", "subgraph.yaml", "{\"raw_text\": \"long text\"}", NULL,
      NULL, { { NULL, YG_RUN_COMPLETED, "[\"prepare\", \"summarize\", \"summarize\", \"format\"]" } },
      "{\"prepared_text\": \"prepared text\", \"summary\": \"short summary\","
      " \"final_output\": \"formatted output\"}" },
    { "examples/demos/subgraph/subgraphs/summarizer.yaml", "summarizer.yaml",
      "{\"input_text\": \"text\"}", NULL, NULL,
      { { NULL, YG_RUN_COMPLETED, "[\"summarize\"]" } },
      "{\"output_summary\": \"A short summary.\"}" },
    { "examples/demos/yamlgraph/graph.yaml", "yamlgraph-demo.yaml",
      "{\"topic\": \"graphs\", \"style\": \"plain\", \"word_count\": \"50\"}", NULL, NULL,
      { { NULL, YG_RUN_COMPLETED, "[\"generate\", \"analyze\", \"summarize\"]" } },
      "{\"final_summary\": \"Graphs matter.\", \"analysis\": {\"summary\": \"About graphs.\","
      " \"key_points\": [\"ubiquity\"], \"sentiment\": \"positive\", \"confidence\": 0.8}}" },
    { "examples/demos/interview/graph.yaml", "interview.yaml", "{\"thread_id\": \"interview-1\"}", "interview-1", NULL,
      { { NULL, YG_RUN_INTERRUPTED, "[\"generate_welcome\", \"ask_name\"]" },
        { "\"Ada\"", YG_RUN_INTERRUPTED, "[\"ask_name\", \"ask_topic\"]" },
        { "\"C\"", YG_RUN_COMPLETED, "[\"ask_topic\", \"generate_response\"]" } },
      "{\"user_name\": \"Ada\", \"user_topic\": \"C\", \"name_question\": \"What is your name?\","
      " \"greeting\": \"Nice to meet you, Ada! Let's talk about C.\"}" },
    { "examples/demos/interrupt/interrupt-parent.yaml", NULL, "{\"user_input\": \"hello\"}",
      "parent-1", NULL,
      { { NULL, YG_RUN_INTERRUPTED, "[\"process\", \"ask_user\", \"run_child\"]" },
        { "\"my answer\"", YG_RUN_COMPLETED, "[\"ask_user\", \"finalize\", \"run_child\", \"done\"]" } },
      "{\"final_result\": \"all done\", \"child_phase\": \"processing\","
      " \"child_data\": \"partial result from child\"}" },
    { "examples/demos/subgraph/subgraphs/interrupt-child.yaml", NULL,
      "{\"input_message\": \"hi\"}", "child-1", "memory",
      { { NULL, YG_RUN_INTERRUPTED, "[\"process\", \"ask_user\"]" },
        { "\"forty-two\"", YG_RUN_COMPLETED, "[\"ask_user\", \"finalize\"]" } },
      "{\"phase\": \"complete\", \"user_answer\": \"forty-two\","
      " \"question\": \"What is your answer?\"}" },
    { "examples/demos/subgraph/subgraphs/interrupt-child-with-checkpointer.yaml", NULL,
      "{\"input_message\": \"hi\"}", "child-2", NULL,
      { { NULL, YG_RUN_INTERRUPTED, "[\"process\", \"ask_user\"]" },
        { "\"yes\"", YG_RUN_COMPLETED, "[\"ask_user\", \"finalize\"]" } },
      "{\"phase\": \"complete\", \"user_answer\": \"yes\"}" },
    { "examples/demos/code-analysis/graph.yaml", "code-analysis.yaml",
      "{\"path\": \".\", \"package\": \"none\"}", NULL, NULL,
      { { NULL, YG_RUN_COMPLETED, "[\"run_analysis\", \"generate_recommendations\"]" } },
      "{\"analysis_results\": \"No Python files; no TODOs.\", \"recommendations\": \"Add tests.\","
      " \"_agent_iterations\": 3}" },
    { "examples/demos/git-report/graph.yaml", "git-report.yaml", "{\"input\": \"what changed?\"}",
      NULL, NULL, { { NULL, YG_RUN_COMPLETED, "[\"analyze\", \"report\"]" } },
      "{\"analysis\": \"Recent activity is low.\", \"report\": {\"title\": \"Git Report\","
      " \"summary\": \"Low activity.\", \"key_findings\": [\"few commits\"],"
      " \"recommendations\": []}, \"_agent_iterations\": 2}" },
    { "examples/demos/memory/graph.yaml", "memory.yaml", "{\"input\": \"review please\"}", NULL,
      NULL, { { NULL, YG_RUN_COMPLETED, "[\"review\"]" } },
      "{\"response\": \"Review: looks fine.\", \"_agent_iterations\": 2}" },
    { "examples/npc/npc-creation.yaml", NULL, "{\"concept\": \"smith\", \"include_stats\": \"true\"}",
      NULL, NULL,
      { { NULL, YG_RUN_COMPLETED,
          "[\"identity\", \"personality\", \"knowledge\", \"behavior\", \"stats\"]" } },
      "{\"current_step\": \"stats\"}" },
    { "examples/npc/npc-creation.yaml", NULL, "{\"concept\": \"smith\", \"include_stats\": \"no\"}",
      NULL, NULL,
      { { NULL, YG_RUN_COMPLETED, "[\"identity\", \"personality\", \"knowledge\", \"behavior\"]" } },
      "{\"current_step\": \"behavior\"}" },
    { "examples/npc/encounter-turn.yaml", NULL, "{\"location\": \"tavern\", \"npc_name\": \"Bo\"}",
      NULL, NULL, { { NULL, YG_RUN_COMPLETED, "[\"perceive\", \"decide\", \"narrate\"]" } },
      "{\"narration\": \"mock reply for examples/npc/encounter_narrate\"}" },
};

#define CASES_COUNT (sizeof CASES / sizeof CASES[0])

typedef struct outcome {
    bool done;
    yg_result_t r;
    yg_value_t *path;
} outcome_t;

static void on_event(const yg_event_t *ev, void *arg)
{
    outcome_t *o = arg;
    if (strcmp(ev->kind, "node_end") == 0)
        yg_list_append(o->path, yg_value_ref(yg_map_get(ev->data, "node")));
}

static void on_done(const yg_result_t *r, void *arg)
{
    outcome_t *o = arg;
    o->r = *r;
    o->r.state = yg_value_ref(r->state);
    o->r.interrupts = yg_value_ref(r->interrupts);
    o->r.snapshot = NULL;
    o->r.history = NULL;
    o->done = true;
}

static void check_case(const corpus_case_t *cc)
{
    ck_assert_int_eq(chdir(YG_CORPUS_DIR), 0);
    char mock[1024];
    yg_runtime_opts_t opts;
    yg_runtime_opts_init(&opts);
    opts.provider = "mock";
    opts.log_level = YG_LOG_ERROR;
    opts.checkpointer = cc->checkpointer;
    if (cc->mock) {
        snprintf(mock, sizeof mock, "%s/tests/mock/%s", YG_SOURCE_DIR, cc->mock);
        opts.mock_file = mock;
    }
    yg_error_t err = { 0 };
    yg_runtime_t *rt = yg_runtime_new(&opts, &err);
    ck_assert_msg(rt != NULL, "%s: runtime: %s", cc->graph, err.message);
    yg_graph_t *g = NULL;
    ck_assert_msg(yg_runtime_load_graph(rt, cc->graph, &g, &err) == YG_OK, "%s: %s:%d: %s",
                  cc->graph, err.file, err.line, err.message);
    yg_client_t *client = yg_client_new(rt);
    yg_run_opts_t ropts = { .thread_id = cc->thread };
    yg_value_t *final_state = NULL;
    for (size_t s = 0; s < MAX_STEPS && cc->steps[s].path; s++) {
        const step_t *st = &cc->steps[s];
        outcome_t o = { .path = yg_list_new() };
        yg_value_t *arg = tu_json(s == 0 ? cc->input : st->value);
        int64_t req = s == 0 ? yg_stream_graph_async(client, g, arg, &ropts, on_event, &o, on_done, &o)
                             : yg_stream_resume_async(client, g, arg, &ropts, on_event, &o,
                                                      on_done, &o);
        yg_value_destroy(&arg);
        ck_assert_int_gt(req, 0);
        int64_t deadline = tu_now_ms() + WAIT_MS;
        while (!o.done && tu_now_ms() < deadline)
            ck_assert_int_ge(yg_client_wait(client, 100), 0);
        ck_assert_msg(o.done, "%s step %zu: no result", cc->graph, s);
        ck_assert_msg(o.r.status == st->status, "%s step %zu: status %s (%s)", cc->graph, s,
                      yg_run_status_name(o.r.status), o.r.error.message);
        yg_value_t *want = tu_json(st->path);
        char *got = yg_json_encode(o.path, false, NULL);
        ck_assert_msg(yg_value_equal(o.path, want), "%s step %zu: path %s, expected %s", cc->graph,
                      s, got, st->path);
        free(got);
        yg_value_destroy(&want);
        if (st->status == YG_RUN_INTERRUPTED)
            ck_assert_uint_ge(yg_list_size(o.r.interrupts), 1);
        yg_value_destroy(&final_state);
        final_state = yg_value_ref(o.r.state);
        yg_result_release(&o.r);
        yg_value_destroy(&o.path);
    }
    yg_value_t *want = tu_json(cc->state);
    for (size_t i = 0; i < yg_map_size(want); i++) {
        const char *k = yg_map_key_at(want, i);
        yg_value_t *got = yg_map_get(final_state, k);
        char *gs = yg_json_encode(got, false, NULL);
        ck_assert_msg(yg_value_equal(got, yg_map_value_at(want, i)), "%s: state.%s = %s",
                      cc->graph, k, gs ? gs : "(absent)");
        free(gs);
    }
    /* no undeclared key ever reaches the state, and no error records */
    ck_assert_msg(!yg_map_has(final_state, "errors") ||
                      yg_list_size(yg_map_get(final_state, "errors")) == 0,
                  "%s: unexpected error records", cc->graph);
    yg_value_destroy(&want);
    yg_value_destroy(&final_state);
    yg_client_destroy(&client);
    yg_runtime_destroy(&rt);
}

START_TEST(corpus_graph_runs)
{
    check_case(&CASES[_i]);
}
END_TEST

/* A tool result of the memory demo is exported as the graph says (spec 12.1). */
START_TEST(memory_demo_tool_results_recorded)
{
    const corpus_case_t *cc = NULL;
    for (size_t i = 0; i < CASES_COUNT; i++)
        if (strstr(CASES[i].graph, "memory"))
            cc = &CASES[i];
    ck_assert_ptr_nonnull(cc);
    check_case(cc); /* the run itself; _tool_results content checked below */
    ck_assert_int_eq(chdir(YG_CORPUS_DIR), 0);
    char mock[1024];
    snprintf(mock, sizeof mock, "%s/tests/mock/%s", YG_SOURCE_DIR, cc->mock);
    yg_runtime_opts_t opts;
    yg_runtime_opts_init(&opts);
    opts.provider = "mock";
    opts.mock_file = mock;
    opts.log_level = YG_LOG_ERROR;
    yg_runtime_t *rt = yg_runtime_new(&opts, NULL);
    yg_graph_t *g = NULL;
    ck_assert_int_eq(yg_runtime_load_graph(rt, cc->graph, &g, NULL), YG_OK);
    yg_client_t *client = yg_client_new(rt);
    yg_value_t *input = tu_json(cc->input);
    yg_result_t r;
    ck_assert_int_eq(yg_run_graph(client, g, input, NULL, WAIT_MS, &r), YG_OK);
    const yg_value_t *tr = yg_map_get(r.state, "_tool_results");
    ck_assert_uint_eq(yg_list_size(tr), 1);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(tr, 0), "tool")), "git_log");
    yg_result_release(&r);
    yg_value_destroy(&input);
    yg_client_destroy(&client);
    yg_runtime_destroy(&rt);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("corpus_run");
    TCase *tc = tcase_create("corpus_run");
    tcase_add_loop_test(tc, corpus_graph_runs, 0, (int)CASES_COUNT);
    tcase_add_test(tc, memory_demo_tool_results_recorded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
