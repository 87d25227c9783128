/*
 * test_semantics.c - execution semantics end to end: runtime, coordinator,
 * node actors and the mock provider, on small graphs written to a temp
 * dir (spec 3, 4.5, 4.6, 4.12, 5, 9; conformance items 8-12, 16-17, 37,
 * 40-43, 48-52).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil_rt.h"

#define WAIT_MS 20000

static yg_runtime_t *start(const char *mock_yaml, const char *checkpointer)
{
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    o.checkpointer = checkpointer;
    return tu_mock_runtime(mock_yaml, &o);
}

static const yg_value_t *S(const tu_outcome_t *o, const char *key)
{
    return yg_map_get(o->r.state, key);
}

/* ---- routing (items 8-12) ---------------------------------------------------- */

static const char *CONDITION_GRAPH =
    "name: cond\n"
    "state: {score: float, picked: str}\n"
    "nodes:\n"
    "  set: {type: passthrough, output: {score: '{state.score}'}}\n"
    "  half: {type: passthrough, output: {picked: half}}\n"
    "  high: {type: passthrough, output: {picked: high}}\n"
    "  a: {type: passthrough, output: {picked: a}}\n"
    "  b: {type: passthrough, output: {picked: b}}\n"
    "edges:\n"
    "  - {from: START, to: set}\n"
    "  - {from: set, to: half, condition: 'score >= 0.5'}\n"
    "  - {from: set, to: high, condition: 'score >= 0.8'}\n"
    "  - {from: half, to: END}\n"
    "  - {from: high, to: END}\n";

START_TEST(condition_group_first_true_wins)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "cond.yaml", CONDITION_GRAPH);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"score\": 0.9}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o, "picked")), "half"); /* item 8 */
    tu_assert_json(o.path, "[\"set\", \"half\"]");
    tu_outcome_release(&o);
    /* item 9 shape: no condition true -> END */
    tu_run(c, g, "{\"score\": 0.2}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_ptr_null(S(&o, "picked"));
    tu_assert_json(o.path, "[\"set\"]");
    tu_outcome_release(&o);
    /* item 10: _loop_limit_reached -> END before any condition */
    tu_run(c, g, "{\"score\": 0.9, \"_loop_limit_reached\": true}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_ptr_null(S(&o, "picked"));
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(router_edge_uses_route_or_first_target)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "route.yaml",
                         "name: route\n"
                         "state: {want: str, _route: str, picked: str}\n"
                         "nodes:\n"
                         "  pick: {type: passthrough, output: {_route: '{state.want}'}}\n"
                         "  positive: {type: passthrough, output: {picked: positive}}\n"
                         "  negative: {type: passthrough, output: {picked: negative}}\n"
                         "  neutral: {type: passthrough, output: {picked: neutral}}\n"
                         "edges:\n"
                         "  - {from: START, to: pick}\n"
                         "  - {from: pick, to: [positive, negative, neutral], type: conditional}\n");
    yg_client_t *c = yg_client_new(rt);
    const char *inputs[][2] = { { "{\"want\": \"negative\"}", "negative" },
                                { "{\"want\": \"unknown\"}", "positive" },
                                { "{}", "positive" } };
    for (size_t i = 0; i < 3; i++) {
        tu_outcome_t o;
        tu_run(c, g, inputs[i][0], NULL, 0, &o);
        tu_assert_status(&o, YG_RUN_COMPLETED);
        ck_assert_str_eq(yg_value_str(S(&o, "picked")), inputs[i][1]);
        tu_outcome_release(&o);
    }
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- loop limits with reflexion (items 16-17, spec 5.7) ------------------------ */

START_TEST(reflexion_loop_limit_ends_run)
{
    testutil_write_temp("prompts/draft.yaml", "system: s\nuser: 'draft {topic}'\n");
    testutil_write_temp("prompts/critique.yaml", "system: s\nuser: 'critique {draft}'\n");
    testutil_write_temp("prompts/refine.yaml", "system: s\nuser: 'refine {draft}'\n");
    yg_runtime_t *rt = start("draft: first draft\n"
                             "critique: '{\"score\": 0.5}'\n"
                             "refine: better draft\n",
                             NULL);
    yg_graph_t *g = tu_load_graph(rt, "reflexion.yaml",
                         "name: reflexion\n"
                         "prompts_relative: true\n"
                         "prompts_dir: prompts\n"
                         "state: {topic: str, draft: str, critique: any}\n"
                         "nodes:\n"
                         "  draft: {prompt: draft, variables: {topic: '{state.topic}'}, state_key: draft}\n"
                         "  critique: {prompt: critique, variables: {draft: '{state.draft}'},\n"
                         "             state_key: critique, parse_json: true}\n"
                         "  refine: {prompt: refine, variables: {draft: '{state.draft}'}, state_key: draft}\n"
                         "loop_limits: {critique: 3}\n"
                         "edges:\n"
                         "  - {from: START, to: draft}\n"
                         "  - {from: draft, to: critique}\n"
                         "  - {from: critique, to: refine, condition: 'critique.score < 0.8'}\n"
                         "  - {from: critique, to: END, condition: 'critique.score >= 0.8'}\n"
                         "  - {from: refine, to: critique}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"topic\": \"t\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    /* critique runs 3 times, refine 3 times, the 4th critique hits the limit */
    ck_assert_uint_eq(tu_count_in_path(&o, "critique"), 4);
    ck_assert_uint_eq(tu_count_in_path(&o, "refine"), 3);
    ck_assert(yg_value_bool(S(&o, "_loop_limit_reached")));
    ck_assert_int_eq(yg_value_int(yg_map_get(S(&o, "_loop_counts"), "critique")), 3);
    tu_assert_json(S(&o, "critique"), "{\"score\": 0.5}");
    ck_assert_str_eq(yg_value_str(S(&o, "draft")), "better draft");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- map fan-out (item 37, spec 4.5) ----------------------------------------- */

static const char *MAP_GRAPH =
    "name: mapg\n"
    "prompts_relative: true\n"
    "prompts_dir: prompts\n"
    "state: {items: any, results: list, after_ran: str}\n"
    "nodes:\n"
    "  make: {type: passthrough, output: {items: '{state.items}'}}\n"
    "  expand:\n"
    "    type: map\n"
    "    over: '{state.items}'\n"
    "    as: item\n"
    "    collect: results\n"
    "    node: {prompt: expand, variables: {item: '{state.item}'}, state_key: out}\n"
    "  after: {type: passthrough, output: {after_ran: yes}}\n"
    "edges:\n"
    "  - {from: START, to: make}\n"
    "  - {from: make, to: expand}\n"
    "  - {from: expand, to: after}\n"
    "  - {from: after, to: END}\n";

START_TEST(map_collects_in_index_order)
{
    testutil_write_temp("prompts/expand.yaml", "system: s\nuser: 'expand {item}'\n");
    /* item 0 finishes last, item 1 first */
    yg_runtime_t *rt = start("expand:\n"
                             "  - {delay_ms: 300, reply: A}\n"
                             "  - {delay_ms: 10, reply: B}\n"
                             "  - {delay_ms: 120, reply: C}\n",
                             NULL);
    yg_graph_t *g = tu_load_graph(rt, "map.yaml", MAP_GRAPH);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"items\": [\"a\", \"b\", \"c\"]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(S(&o, "results"), "[{\"_map_index\": 0, \"value\": \"A\"},"
                                  " {\"_map_index\": 1, \"value\": \"B\"},"
                                  " {\"_map_index\": 2, \"value\": \"C\"}]");
    /* they really finished out of order */
    tu_assert_json(o.indexes, "[1, 2, 0]");
    /* the edge leaving the map fired once, after all items */
    ck_assert_uint_eq(tu_count_in_path(&o, "after"), 1);
    tu_assert_json(o.path, "[\"make\", \"expand\", \"expand\", \"expand\", \"after\"]");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(map_empty_list_ends_run_and_string_is_error)
{
    testutil_write_temp("prompts/expand.yaml", "system: s\nuser: 'expand {item}'\n");
    yg_runtime_t *rt = start("expand: X\n", NULL);
    yg_graph_t *g = tu_load_graph(rt, "map2.yaml", MAP_GRAPH);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"items\": []}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(o.path, "[\"make\"]");
    ck_assert_ptr_null(S(&o, "after_ran"));
    tu_outcome_release(&o);
    tu_run(c, g, "{\"items\": \"abc\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_ptr_nonnull(strstr(o.r.error.message, "must resolve to list"));
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(map_max_items_enforced)
{
    testutil_write_temp("prompts/expand.yaml", "system: s\nuser: 'expand {item}'\n");
    yg_runtime_t *rt = start("expand: X\n", NULL);
    char *yaml = malloc(strlen(MAP_GRAPH) + 64);
    sprintf(yaml, "config: {max_map_items: 2}\n%s", MAP_GRAPH);
    yg_graph_t *g = tu_load_graph(rt, "map3.yaml", yaml);
    free(yaml);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"items\": [1, 2, 3]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_ELIMIT);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- interrupts (items 40-43, spec 9.4) --------------------------------------- */

START_TEST(interrupt_pauses_and_resumes)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "ask.yaml",
                         "name: ask\n"
                         "checkpointer: {type: memory}\n"
                         "state: {user_input: str, interrupt_message: str, pending_question: any,\n"
                         "        color_choice: str, done: str}\n"
                         "nodes:\n"
                         "  ask: {type: interrupt, message: 'What is your name?'}\n"
                         "  pick: {type: interrupt, message: {question: 'Pick A or B', options: [A, B]},\n"
                         "         state_key: pending_question, resume_key: color_choice}\n"
                         "  fin: {type: passthrough, output: {done: yes}}\n"
                         "edges:\n"
                         "  - {from: START, to: ask}\n"
                         "  - {from: ask, to: pick}\n"
                         "  - {from: pick, to: fin}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    /* (non-empty input: the memory store refuses an empty first state, see report) */
    tu_run(c, g, "{\"done\": \"no\"}", "t-ask", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    ck_assert_uint_eq(yg_list_size(o.r.interrupts), 1);
    const yg_value_t *in = yg_list_get(o.r.interrupts, 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(in, "value")), "What is your name?");
    ck_assert_str_eq(yg_value_str(yg_map_get(in, "node")), "ask");
    ck_assert_ptr_nonnull(yg_value_str(yg_map_get(in, "id")));
    ck_assert_str_eq(o.r.thread_id, "t-ask");
    /* the compatibility view carries __interrupt__ */
    char *compat = yg_result_compat_json(&o.r, false);
    ck_assert_ptr_nonnull(strstr(compat, "\"__interrupt__\""));
    ck_assert_ptr_nonnull(strstr(compat, "What is your name?"));
    free(compat);
    tu_outcome_release(&o);

    tu_resume(c, g, "\"Alice\"", "t-ask", &o); /* item 40 */
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    ck_assert_str_eq(yg_value_str(S(&o, "user_input")), "Alice");
    ck_assert_str_eq(yg_value_str(S(&o, "interrupt_message")), "What is your name?");
    /* item 43: a map payload passes unchanged */
    tu_assert_json(yg_map_get(yg_list_get(o.r.interrupts, 0), "value"),
                "{\"question\": \"Pick A or B\", \"options\": [\"A\", \"B\"]}");
    tu_outcome_release(&o);

    tu_resume(c, g, "\"B\"", "t-ask", &o); /* item 41 */
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o, "color_choice")), "B");
    tu_assert_json(S(&o, "pending_question"),
                "{\"question\": \"Pick A or B\", \"options\": [\"A\", \"B\"]}");
    ck_assert_str_eq(yg_value_str(S(&o, "done")), "yes");
    tu_outcome_release(&o);

    /* the thread's state is in the store */
    yg_result_t st;
    ck_assert_int_eq(yg_get_state(c, g, "t-ask", WAIT_MS, &st), YG_OK);
    ck_assert_int_eq(st.status, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(yg_map_get(st.state, "done")), "yes");
    ck_assert_uint_eq(yg_list_size(yg_map_get(st.snapshot, "tasks")), 0);
    yg_result_release(&st);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(several_interrupts_need_an_id_map)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "two.yaml",
                         "name: two\n"
                         "checkpointer: {type: memory}\n"
                         "state: {q1: str, q2: str, a1: str, a2: str}\n"
                         "nodes:\n"
                         "  one: {type: interrupt, message: first, state_key: q1, resume_key: a1}\n"
                         "  two: {type: interrupt, message: second, state_key: q2, resume_key: a2}\n"
                         "edges:\n"
                         "  - {from: START, to: one}\n"
                         "  - {from: START, to: two}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"q1\": null}", "t2", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    ck_assert_uint_eq(yg_list_size(o.r.interrupts), 2);
    char id1[256], id2[256];
    snprintf(id1, sizeof id1, "%s", yg_value_str(yg_map_get(yg_list_get(o.r.interrupts, 0), "id")));
    snprintf(id2, sizeof id2, "%s", yg_value_str(yg_map_get(yg_list_get(o.r.interrupts, 1), "id")));
    ck_assert_str_ne(id1, id2);
    tu_outcome_release(&o);
    /* a plain value while two are pending: an error, not a guess */
    tu_resume(c, g, "\"x\"", "t2", &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_EINVAL);
    ck_assert_ptr_nonnull(strstr(o.r.error.message, "2 interrupts"));
    tu_outcome_release(&o);
    char value[700];
    snprintf(value, sizeof value, "{\"%s\": \"ans1\", \"%s\": \"ans2\"}", id1, id2);
    tu_resume(c, g, value, "t2", &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o, "a1")), "ans1");
    ck_assert_str_eq(yg_value_str(S(&o, "a2")), "ans2");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(resume_refused_after_graph_change)
{
    char store[512];
    snprintf(store, sizeof store, "%s/changed.ckpt", testutil_temp_dir());
    remove(store);
    const char *v1 = "name: changing\n"
                     "state: {answer: str}\n"
                     "nodes:\n"
                     "  ask: {type: interrupt, message: q, resume_key: answer}\n"
                     "edges:\n"
                     "  - {from: START, to: ask}\n";
    yg_runtime_t *rt = start(NULL, store);
    yg_graph_t *g = tu_load_graph(rt, "changing.yaml", v1);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{}", "tc", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);

    /* same file, different content: a new graph hash */
    rt = start(NULL, store);
    char *v2 = malloc(strlen(v1) + 32);
    sprintf(v2, "%sdescription: changed\n", v1);
    g = tu_load_graph(rt, "changing.yaml", v2);
    free(v2);
    c = yg_client_new(rt);
    tu_resume(c, g, "\"a\"", "tc", &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_ptr_nonnull(strstr(o.r.error.message, "graph changed"));
    tu_outcome_release(&o);
    /* force resumes anyway */
    tu_outcome_init(&o);
    yg_value_t *val = yg_str_new("forced");
    yg_run_opts_t opts = { .thread_id = "tc", .force = true };
    ck_assert_int_gt(yg_resume_async(c, g, val, &opts, tu_on_done, &o), 0);
    yg_value_destroy(&val);
    tu_wait_outcome(c, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o, "answer")), "forced");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- subgraphs (items 48-52) --------------------------------------------------- */

START_TEST(subgraph_mappings)
{
    testutil_write_temp("sub/child.yaml",
                        "name: child\n"
                        "state: {input_text: str, output_text: str}\n"
                        "nodes:\n"
                        "  work: {type: passthrough, output: {output_text: '{state.input_text + \" done\"}'}}\n"
                        "edges:\n"
                        "  - {from: START, to: work}\n");
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "parent.yaml",
                         "name: parent\n"
                         "state: {raw: str, prepared: str, processed: str, final: str}\n"
                         "nodes:\n"
                         "  prepare: {type: passthrough, output: {prepared: '{state.raw}'}}\n"
                         "  process:\n"
                         "    type: subgraph\n"
                         "    graph: sub/child.yaml\n"
                         "    input_mapping: {prepared: input_text}\n"
                         "    output_mapping: {processed: output_text}\n"
                         "  finalize: {type: passthrough, output: {final: '{state.processed}'}}\n"
                         "edges:\n"
                         "  - {from: START, to: prepare}\n"
                         "  - {from: prepare, to: process}\n"
                         "  - {from: process, to: finalize}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"raw\": \"text\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o, "processed")), "text done");
    ck_assert_str_eq(yg_value_str(S(&o, "final")), "text done");
    /* the child's events arrive on the parent's stream */
    ck_assert_uint_eq(tu_count_in_path(&o, "work"), 1);
    ck_assert_uint_eq(tu_count_in_path(&o, "process"), 1);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(subgraph_interrupt_pauses_parent)
{
    testutil_write_temp("sub/ichild.yaml",
                        "name: ichild\n"
                        "state: {phase: str, user_answer: str, result: str, interrupt_message: str}\n"
                        "nodes:\n"
                        "  start: {type: passthrough, output: {phase: probing}}\n"
                        "  ask: {type: interrupt, message: 'What is your answer?', resume_key: user_answer}\n"
                        "  end: {type: passthrough, output: {result: '{state.user_answer}'}}\n"
                        "edges:\n"
                        "  - {from: START, to: start}\n"
                        "  - {from: start, to: ask}\n"
                        "  - {from: ask, to: end}\n");
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "iparent.yaml",
                         "name: iparent\n"
                         "checkpointer: {type: memory}\n"
                         "state: {child_phase: str, child_result: str, final_result: str}\n"
                         "nodes:\n"
                         "  run_child:\n"
                         "    type: subgraph\n"
                         "    graph: sub/ichild.yaml\n"
                         "    input_mapping: {child_phase: phase}\n"
                         "    output_mapping: {child_result: result}\n"
                         "    interrupt_output_mapping: {child_phase: phase}\n"
                         "  finish: {type: passthrough, output: {final_result: all done}}\n"
                         "edges:\n"
                         "  - {from: START, to: run_child}\n"
                         "  - {from: run_child, to: finish}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"child_phase\": \"none\"}", "main-123", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(o.r.interrupts, 0), "value")),
                     "What is your answer?");
    /* [C] 9.5: interrupt_output_mapping values are committed with the pause */
    ck_assert_str_eq(yg_value_str(S(&o, "child_phase")), "probing");
    tu_outcome_release(&o);
    /* the child ran on thread <parent>:<node> (item 48) */
    yg_result_t st;
    ck_assert_int_eq(yg_get_history(c, g, "main-123:run_child", 0, WAIT_MS, &st), YG_OK);
    ck_assert_int_eq(st.status, YG_RUN_COMPLETED);
    ck_assert_uint_gt(yg_list_size(st.history), 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(st.history, 0), "thread_id")),
                     "main-123:run_child");
    yg_result_release(&st);
    tu_resume(c, g, "\"my answer\"", "main-123", &o); /* item 52 */
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o, "final_result")), "all done");
    ck_assert_str_eq(yg_value_str(S(&o, "child_result")), "my answer");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- step limit, fan-in, concurrent writes ------------------------------------- */

static const char *LOOP_GRAPH_BODY =
    "name: forever\n"
    "nodes:\n"
    "  a: {type: passthrough}\n"
    "  b: {type: passthrough}\n"
    "edges:\n"
    "  - {from: START, to: a}\n"
    "  - {from: a, to: b}\n"
    "  - {from: b, to: a}\n";

START_TEST(step_limit_default_and_override)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "forever.yaml", LOOP_GRAPH_BODY);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_ESTEPLIMIT);
    ck_assert_uint_eq(yg_list_size(o.path), YG_DEFAULT_STEP_LIMIT);
    tu_outcome_release(&o);
    tu_run(c, g, "{}", NULL, 5, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_ESTEPLIMIT);
    ck_assert_uint_eq(yg_list_size(o.path), 5);
    tu_outcome_release(&o);
    /* config.recursion_limit */
    char *yaml = malloc(strlen(LOOP_GRAPH_BODY) + 64);
    sprintf(yaml, "config: {recursion_limit: 7}\n%s", LOOP_GRAPH_BODY);
    yg_graph_t *g7 = tu_load_graph(rt, "forever7.yaml", yaml);
    free(yaml);
    tu_run(c, g7, "{}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_uint_eq(yg_list_size(o.path), 7);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(fan_in_runs_once_per_step_with_predecessors)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "fanin.yaml",
                         "name: fanin\n"
                         "state: {count: int, xa: str, xb: str}\n"
                         "nodes:\n"
                         "  a: {type: passthrough, output: {xa: a}}\n"
                         "  b1: {type: passthrough, output: {xb: b1}}\n"
                         "  b2: {type: passthrough, output: {xb: b2}}\n"
                         "  join: {type: passthrough, output: {count: '{state.count + 1}'}}\n"
                         "edges:\n"
                         "  - {from: START, to: a}\n"
                         "  - {from: START, to: b1}\n"
                         "  - {from: b1, to: b2}\n"
                         "  - {from: a, to: join}\n"
                         "  - {from: b2, to: join}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"count\": 0}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    /* unequal branches: join runs in step 1 (after a) and step 2 (after b2) */
    ck_assert_uint_eq(tu_count_in_path(&o, "join"), 2);
    ck_assert_int_eq(yg_value_int(S(&o, "count")), 2);
    /* [C] 5.5: current_step of parallel tasks = last in declaration order */
    ck_assert_str_eq(yg_value_str(S(&o, "current_step")), "join");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(concurrent_plain_write_fails_the_step)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "conc.yaml",
                         "name: conc\n"
                         "state: {same: str}\n"
                         "nodes:\n"
                         "  left: {type: passthrough, output: {same: l}}\n"
                         "  right: {type: passthrough, output: {same: r}}\n"
                         "edges:\n"
                         "  - {from: START, to: left}\n"
                         "  - {from: START, to: right}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_ECONCURRENT);
    ck_assert_ptr_nonnull(strstr(o.r.error.message, "'same'"));
    ck_assert_ptr_nonnull(strstr(o.r.error.message, "left"));
    ck_assert_ptr_nonnull(strstr(o.r.error.message, "right"));
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(undeclared_input_keys_are_dropped)
{
    yg_runtime_t *rt = start(NULL, NULL);
    yg_graph_t *g = tu_load_graph(rt, "drop.yaml",
                         "name: drop\n"
                         "state: {kept: str}\n"
                         "nodes:\n"
                         "  n: {type: passthrough, output: {kept: '{state.kept}', other: x}}\n"
                         "edges:\n"
                         "  - {from: START, to: n}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"kept\": \"k\", \"secret\": 1}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o, "kept")), "k");
    ck_assert(!yg_map_has(o.r.state, "secret"));
    ck_assert(!yg_map_has(o.r.state, "other"));
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- threads, cancel, parallel runs ----------------------------------------------- */

static const char *SLOW_GRAPH =
    "name: slow\n"
    "prompts_relative: true\n"
    "prompts_dir: prompts\n"
    "checkpointer: {type: memory}\n"
    "state: {topic: str, out: str}\n"
    "nodes:\n"
    "  work: {prompt: slow, variables: {topic: '{state.topic}'}, state_key: out}\n"
    "edges:\n"
    "  - {from: START, to: work}\n";

START_TEST(threads_checkpointer_rules)
{
    testutil_write_temp("prompts/slow.yaml", "system: s\nuser: 'do {topic}'\n");
    yg_runtime_t *rt = start("slow: {delay_ms: 400, reply: finished}\n", NULL);
    yg_graph_t *g = tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    /* a graph with a checkpointer needs a thread id */
    tu_run(c, g, "{\"topic\": \"x\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_EINVAL);
    tu_outcome_release(&o);
    /* unknown thread: not found */
    yg_result_t st;
    ck_assert_int_eq(yg_get_state(c, g, "no-such-thread", WAIT_MS, &st), YG_OK);
    ck_assert_int_eq(st.status, YG_RUN_ERROR);
    ck_assert_int_eq(st.error.code, YG_ENOTFOUND);
    yg_result_release(&st);
    ck_assert_int_eq(yg_get_history(c, g, "no-such-thread", 0, WAIT_MS, &st), YG_OK);
    ck_assert_int_eq(st.status, YG_RUN_COMPLETED);
    ck_assert_uint_eq(yg_list_size(st.history), 0);
    yg_result_release(&st);
    /* two threads in parallel; a second run on a busy thread is refused */
    tu_outcome_t o1, o2, o3;
    tu_outcome_init(&o1);
    tu_outcome_init(&o2);
    tu_outcome_init(&o3);
    yg_value_t *input = tu_json("{\"topic\": \"x\"}");
    yg_run_opts_t t1 = { .thread_id = "p1" }, t2 = { .thread_id = "p2" };
    int64_t start_ms = tu_now_ms();
    ck_assert_int_gt(yg_run_graph_async(c, g, input, &t1, tu_on_done, &o1), 0);
    ck_assert_int_gt(yg_run_graph_async(c, g, input, &t2, tu_on_done, &o2), 0);
    ck_assert_int_gt(yg_run_graph_async(c, g, input, &t1, tu_on_done, &o3), 0);
    yg_value_destroy(&input);
    tu_wait_outcome(c, &o3);
    tu_assert_status(&o3, YG_RUN_ERROR);
    ck_assert_int_eq(o3.r.error.code, YG_EBUSY);
    tu_wait_outcome(c, &o1);
    tu_wait_outcome(c, &o2);
    int64_t elapsed = tu_now_ms() - start_ms;
    tu_assert_status(&o1, YG_RUN_COMPLETED);
    tu_assert_status(&o2, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(S(&o1, "out")), "finished");
    ck_assert_str_eq(o2.r.thread_id, "p2");
    /* concurrent, not one after the other (2 x 400 ms) */
    ck_assert_msg(elapsed < 790, "two runs took %lld ms", (long long)elapsed);
    tu_outcome_release(&o1);
    tu_outcome_release(&o2);
    tu_outcome_release(&o3);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(cancel_ends_run_quickly)
{
    testutil_write_temp("prompts/slow.yaml", "system: s\nuser: 'do {topic}'\n");
    yg_runtime_t *rt = start("slow: {delay_ms: 20000, reply: never}\n", NULL);
    yg_graph_t *g = tu_load_graph(rt, "slow2.yaml", SLOW_GRAPH);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o, oc;
    tu_outcome_init(&o);
    tu_outcome_init(&oc);
    yg_value_t *input = tu_json("{\"topic\": \"x\"}");
    yg_run_opts_t opts = { .thread_id = "tcancel" };
    int64_t req = yg_run_graph_async(c, g, input, &opts, tu_on_done, &o);
    yg_value_destroy(&input);
    ck_assert_int_gt(req, 0);
    /* let it reach the node actor */
    int64_t until = tu_now_ms() + 200;
    while (tu_now_ms() < until)
        yg_client_wait(c, 20);
    ck_assert(!o.done);
    int64_t t0 = tu_now_ms();
    ck_assert_int_gt(yg_cancel_async(c, req, NULL, tu_on_done, &oc), 0);
    tu_wait_outcome(c, &o);
    tu_wait_outcome(c, &oc);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_ECANCELLED);
    tu_assert_status(&oc, YG_RUN_COMPLETED);
    ck_assert_int_lt(tu_now_ms() - t0, 2000);
    tu_outcome_release(&o);
    tu_outcome_release(&oc);
    /* cancelling nothing: not found */
    tu_outcome_init(&oc);
    ck_assert_int_gt(yg_cancel_async(c, 0, "nothing-here", tu_on_done, &oc), 0);
    tu_wait_outcome(c, &oc);
    ck_assert_int_eq(oc.r.error.code, YG_ENOTFOUND);
    tu_outcome_release(&oc);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("semantics");
    TCase *tc = tcase_create("semantics");
    tcase_add_test(tc, condition_group_first_true_wins);
    tcase_add_test(tc, router_edge_uses_route_or_first_target);
    tcase_add_test(tc, reflexion_loop_limit_ends_run);
    tcase_add_test(tc, map_collects_in_index_order);
    tcase_add_test(tc, map_empty_list_ends_run_and_string_is_error);
    tcase_add_test(tc, map_max_items_enforced);
    tcase_add_test(tc, interrupt_pauses_and_resumes);
    tcase_add_test(tc, several_interrupts_need_an_id_map);
    tcase_add_test(tc, resume_refused_after_graph_change);
    tcase_add_test(tc, subgraph_mappings);
    tcase_add_test(tc, subgraph_interrupt_pauses_parent);
    tcase_add_test(tc, step_limit_default_and_override);
    tcase_add_test(tc, fan_in_runs_once_per_step_with_predecessors);
    tcase_add_test(tc, concurrent_plain_write_fails_the_step);
    tcase_add_test(tc, undeclared_input_keys_are_dropped);
    tcase_add_test(tc, threads_checkpointer_rules);
    tcase_add_test(tc, cancel_ends_run_quickly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
