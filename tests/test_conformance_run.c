/*
 * test_conformance_run.c - conformance tests through the public API
 * (yamlgraph.h) with the mock provider, for the spec section 15 items and
 * docs/compatibility.md choices that no other suite asserts end to end.
 * docs/conformance.md maps every item and bullet to its test.
 *
 * Each test starts its own runtime (Check forks per test) on small graphs
 * and prompts written to the per-process temp dir.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testutil_rt.h"
#include "yamlgraph/yg_native.h"

#define WAIT_MS 20000

/* ---- harness ------------------------------------------------------------------ */

/* A runtime on the mock provider (mock_yaml NULL = built-in defaults). */
static yg_runtime_t *start_rt(const char *mock_yaml, const char *checkpointer, int step_limit,
                              int64_t max_map_items)
{
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    o.checkpointer = checkpointer;
    o.step_limit = step_limit;
    o.max_map_items = max_map_items;
    return tu_mock_runtime(mock_yaml, &o);
}

static yg_runtime_t *start(const char *mock_yaml)
{
    return start_rt(mock_yaml, NULL, 0, 0);
}

static const yg_value_t *S(const tu_outcome_t *o, const char *key)
{
    return yg_map_get(o->r.state, key);
}

static const char *Sstr(const tu_outcome_t *o, const char *key)
{
    const char *s = yg_value_str(S(o, key));
    ck_assert_msg(s != NULL, "state key %s is not a string", key);
    return s;
}

/* ---- conditions (items 9-11) ------------------------------------------------------ */

START_TEST(item09_10_condition_groups_end_to_end)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "i9.yaml",
                         "name: i9\n"
                         "state: {score: float, picked: str}\n"
                         "nodes:\n"
                         "  set: {type: passthrough, output: {score: '{state.score}'}}\n"
                         "  a: {type: passthrough, output: {picked: a}}\n"
                         "  b: {type: passthrough, output: {picked: b}}\n"
                         "edges:\n"
                         "  - {from: START, to: set}\n"
                         "  - {from: set, to: a, condition: 'score < 0.5'}\n"
                         "  - {from: set, to: b, condition: 'score > 0.9'}\n");
    yg_graph_t *g10 = tu_load_graph(rt, "i10.yaml",
                           "name: i10\n"
                           "state: {score: float, picked: str}\n"
                           "nodes:\n"
                           "  set: {type: passthrough, output: {score: '{state.score}'}}\n"
                           "  continue: {type: passthrough, output: {picked: continue}}\n"
                           "edges:\n"
                           "  - {from: START, to: set}\n"
                           "  - {from: set, to: continue, condition: 'score < 0.8'}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    /* item 9: no condition true -> END */
    tu_run(c, g, "{\"score\": 0.7}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(o.path, "[\"set\"]");
    ck_assert(!yg_map_has(o.r.state, "picked"));
    tu_outcome_release(&o);
    /* the same group still routes when a condition holds */
    tu_run(c, g, "{\"score\": 0.95}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "picked"), "b");
    tu_outcome_release(&o);
    /* item 10: _loop_limit_reached -> END although score < 0.8 holds */
    tu_run(c, g10, "{\"_loop_limit_reached\": true, \"score\": 0.5}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(o.path, "[\"set\"]");
    ck_assert(!yg_map_has(o.r.state, "picked"));
    tu_outcome_release(&o);
    tu_run(c, g10, "{\"score\": 0.5}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "picked"), "continue");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Item 11 describes a router-level skip of a broken condition; a loader
 * rejects such an edge (spec 1.5), which is what we assert. */
START_TEST(item11_broken_condition_in_group_rejected_at_load)
{
    yg_runtime_t *rt = start(NULL);
    char *path = tu_temp_path("i11.yaml", "name: i11\n"
                                      "state: {score: float}\n"
                                      "nodes:\n"
                                      "  set: {type: passthrough}\n"
                                      "  a: {type: passthrough}\n"
                                      "  done: {type: passthrough}\n"
                                      "edges:\n"
                                      "  - {from: START, to: set}\n"
                                      "  - {from: set, to: a, condition: 'invalid!!! expression'}\n"
                                      "  - {from: set, to: done, condition: 'score >= 0.8'}\n");
    yg_graph_t *g = NULL;
    yg_error_t err = {0};
    ck_assert_int_ne(yg_runtime_load_graph(rt, path, &g, &err), YG_OK);
    ck_assert_ptr_null(g);
    ck_assert_msg(strstr(err.message, "invalid condition \"invalid!!! expression\"") != NULL, "%s",
                  err.message);
    ck_assert_int_eq(err.line, 9);
    ck_assert_ptr_nonnull(strstr(err.file, "i11.yaml"));
    free(path);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- router and llm nodes (items 13-14, 24) ------------------------------------------ */

START_TEST(item13_14_router_routes_end_to_end)
{
    testutil_write_temp("i13/classify.yaml",
                        "system: Classify the tone.\n"
                        "user: '{message}'\n"
                        "schema:\n  name: Tone\n  fields:\n    tone: {type: str}\n");
    yg_runtime_t *rt = start("classify:\n  - {tone: positive}\n  - {tone: confused}\n");
    yg_graph_t *g = tu_load_graph(rt, "i13/graph.yaml",
                         "name: i13\n"
                         "prompts_relative: true\n"
                         "state: {message: str, classification: any, picked: str}\n"
                         "nodes:\n"
                         "  router:\n"
                         "    type: router\n"
                         "    prompt: classify\n"
                         "    routes: {positive: respond_positive, negative: respond_negative}\n"
                         "    default_route: respond_neutral\n"
                         "    state_key: classification\n"
                         "  respond_positive: {type: passthrough, output: {picked: positive}}\n"
                         "  respond_negative: {type: passthrough, output: {picked: negative}}\n"
                         "  respond_neutral: {type: passthrough, output: {picked: neutral}}\n"
                         "edges:\n"
                         "  - {from: START, to: router}\n"
                         "  - {from: router, to: [respond_positive, respond_negative, "
                         "respond_neutral], type: conditional}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"message\": \"great!\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "_route"), "respond_positive");
    tu_assert_json(S(&o, "classification"), "{\"tone\": \"positive\"}");
    ck_assert_str_eq(Sstr(&o, "picked"), "positive");
    tu_assert_json(o.path, "[\"router\", \"respond_positive\"]");
    tu_outcome_release(&o);
    /* item 14: an unknown label takes default_route */
    tu_run(c, g, "{\"message\": \"hmm\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "_route"), "respond_neutral");
    tu_assert_json(S(&o, "classification"), "{\"tone\": \"confused\"}");
    ck_assert_str_eq(Sstr(&o, "picked"), "neutral");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(item24_model_failure_record_or_abort)
{
    testutil_write_temp("i24/gen.yaml", "user: 'Write about {topic}'\n");
    yg_runtime_t *rt =
        start("gen:\n  - {error: {status: 500, message: server exploded}}\n");
    yg_graph_t *g = tu_load_graph(rt, "i24/plain.yaml",
                         "name: i24\n"
                         "prompts_relative: true\n"
                         "state: {topic: str, out: str, after: str}\n"
                         "nodes:\n"
                         "  gen: {prompt: gen, state_key: out}\n"
                         "  after: {type: passthrough, output: {after: ran}}\n"
                         "edges:\n"
                         "  - {from: START, to: gen}\n"
                         "  - {from: gen, to: after}\n");
    yg_graph_t *gf = tu_load_graph(rt, "i24/fail.yaml",
                          "name: i24f\n"
                          "prompts_relative: true\n"
                          "state: {topic: str, out: str, after: str}\n"
                          "nodes:\n"
                          "  gen: {prompt: gen, state_key: out, on_error: fail}\n"
                          "  after: {type: passthrough, output: {after: ran}}\n"
                          "edges:\n"
                          "  - {from: START, to: gen}\n"
                          "  - {from: gen, to: after}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    /* no on_error: one error record, the run goes on */
    tu_run(c, g, "{\"topic\": \"t\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    const yg_value_t *errors = S(&o, "errors");
    ck_assert_uint_eq(yg_list_size(errors), 1);
    const yg_value_t *rec = yg_list_get(errors, 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "node")), "gen");
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "llm_error");
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(rec, "message")), "server exploded"));
    ck_assert(!yg_map_has(o.r.state, "out") || yg_value_is_null(S(&o, "out")));
    ck_assert_str_eq(Sstr(&o, "after"), "ran");
    tu_outcome_release(&o);
    /* on_error: fail: the run aborts with the model's message */
    tu_run(c, gf, "{\"topic\": \"t\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_msg(strstr(o.r.error.message, "server exploded") != NULL, "%s", o.r.error.message);
    ck_assert_uint_eq(tu_count_in_path(&o, "after"), 0);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- passthrough and map (items 35, 37) ------------------------------------------------ */

START_TEST(item35_passthrough_without_output)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "i35.yaml",
                         "name: i35\n"
                         "state: {x: int}\n"
                         "nodes:\n"
                         "  missing: {type: passthrough}\n"
                         "  empty: {type: passthrough, output: {}}\n"
                         "edges:\n"
                         "  - {from: START, to: missing}\n"
                         "  - {from: missing, to: empty}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"x\": 1}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(yg_map_get(o.updates, "missing"), "{\"current_step\": \"missing\"}");
    tu_assert_json(yg_map_get(o.updates, "empty"), "{\"current_step\": \"empty\"}");
    ck_assert_int_eq(yg_value_int(S(&o, "x")), 1);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(item37_map_item_payloads)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "i37.yaml",
                         "name: i37\n"
                         "state: {items: any, results: list}\n"
                         "nodes:\n"
                         "  fan:\n"
                         "    type: map\n"
                         "    over: '{items}'\n"
                         "    as: item\n"
                         "    node: {type: passthrough, output: {result: '{state.item}'}}\n"
                         "    collect: results\n"
                         "edges:\n"
                         "  - {from: START, to: fan}\n"
                         "  - {from: fan, to: END}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"items\": [\"a\", \"b\", \"c\"]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    /* one task per item, each with item=<x>, _map_index=<i> */
    tu_assert_json(S(&o, "results"), "[{\"_map_index\": 0, \"value\": \"a\"},"
                                  " {\"_map_index\": 1, \"value\": \"b\"},"
                                  " {\"_map_index\": 2, \"value\": \"c\"}]");
    ck_assert_uint_eq(tu_count_in_path(&o, "fan"), 3);
    tu_outcome_release(&o);
    tu_run(c, g, "{\"items\": []}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_uint_eq(yg_list_size(o.path), 0);
    tu_outcome_release(&o);
    tu_run(c, g, "{\"items\": \"abc\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_msg(strstr(o.r.error.message, "must resolve to list") != NULL, "%s",
                  o.r.error.message);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- tool_call (item 44) ------------------------------------------------------------------ */

static yg_value_t *fn_lookup(const yg_value_t *args, void *arg, yg_error_t *err)
{
    (void)arg;
    const char *q = yg_value_str(yg_map_get(args, "q"));
    if (!q) {
        yg_error_set(err, YG_EINVAL, "q must be a string");
        return NULL;
    }
    yg_value_t *out = yg_map_new();
    yg_map_set(out, "found", yg_str_new(q));
    return out;
}

static yg_value_t *fn_raise(const yg_value_t *args, void *arg, yg_error_t *err)
{
    (void)args;
    (void)arg;
    yg_error_set(err, YG_ETOOL, "disk on fire");
    return NULL;
}

static yg_value_t *fn_ping(const yg_value_t *args, void *arg, yg_error_t *err)
{
    (void)arg;
    if (yg_map_size(args) != 0) {
        yg_error_set(err, YG_EINVAL, "ping takes no arguments");
        return NULL;
    }
    return yg_str_new("pong");
}

START_TEST(item44_tool_call_envelopes)
{
    ck_assert_int_eq(yg_native_register("conf", "lookup", fn_lookup, NULL), YG_OK);
    ck_assert_int_eq(yg_native_register("conf", "raise", fn_raise, NULL), YG_OK);
    ck_assert_int_eq(yg_native_register("conf", "ping", fn_ping, NULL), YG_OK);
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "i44.yaml",
                         "name: i44\n"
                         "state: {task: any, result: any}\n"
                         "tools:\n"
                         "  lookup: {type: python, module: conf, function: lookup}\n"
                         "  raise: {type: python, module: conf, function: raise}\n"
                         "  ping: {type: python, module: conf, function: ping}\n"
                         "nodes:\n"
                         "  call: {type: tool_call, tool: '{state.task.tool}', args: "
                         "'{state.task.args}'}\n"
                         "edges:\n"
                         "  - {from: START, to: call}\n");
    yg_client_t *c = yg_client_new(rt);
    static const struct {
        const char *input, *expected;
    } cases[] = {
        {"{\"task\": {\"id\": 42, \"tool\": \"lookup\", \"args\": {\"q\": \"x\"}}}",
         "{\"task_id\": 42, \"tool\": \"lookup\", \"success\": true,"
         " \"result\": {\"found\": \"x\"}, \"error\": null}"},
        {"{\"task\": {\"id\": 43, \"tool\": \"nope\", \"args\": {}}}",
         "{\"task_id\": 43, \"tool\": \"nope\", \"success\": false, \"result\": null,"
         " \"error\": \"Unknown tool: nope\"}"},
        {"{\"task\": {\"id\": 44, \"tool\": \"ping\", \"args\": {}}}",
         "{\"task_id\": 44, \"tool\": \"ping\", \"success\": true, \"result\": \"pong\","
         " \"error\": null}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_outcome_t o;
        tu_run(c, g, cases[i].input, NULL, 0, &o);
        tu_assert_status(&o, YG_RUN_COMPLETED);
        tu_assert_json(S(&o, "result"), cases[i].expected);
        ck_assert_str_eq(Sstr(&o, "current_step"), "call");
        tu_outcome_release(&o);
    }
    /* a raising tool: success false, its message, task_id kept */
    tu_outcome_t o;
    tu_run(c, g, "{\"task\": {\"id\": 45, \"tool\": \"raise\", \"args\": {}}}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    const yg_value_t *env = S(&o, "result");
    ck_assert_int_eq(yg_value_int(yg_map_get(env, "task_id")), 45);
    ck_assert(!yg_value_bool(yg_map_get(env, "success")));
    ck_assert(yg_value_is_null(yg_map_get(env, "result")));
    ck_assert_msg(strstr(yg_value_str(yg_map_get(env, "error")), "disk on fire") != NULL, "%s",
                  yg_value_str(yg_map_get(env, "error")));
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- subgraph (item 49) -------------------------------------------------------------------- */

START_TEST(item49_subgraph_three_model_calls)
{
    testutil_write_temp("i49/prompts/prepare.yaml", "user: 'Prepare {raw}'\n");
    testutil_write_temp("i49/prompts/summarize.yaml", "user: 'Summarize {input_text}'\n");
    testutil_write_temp("i49/prompts/finalize.yaml", "user: 'Finalize {processed}'\n");
    testutil_write_temp("i49/child.yaml",
                        "name: child\n"
                        "prompts_relative: true\n"
                        "prompts_dir: prompts\n"
                        "state: {input_text: str, output_text: str, seen: str}\n"
                        "nodes:\n"
                        "  summarize: {prompt: summarize, state_key: output_text}\n"
                        "  echo: {type: passthrough, output: {seen: '{state.input_text}'}}\n"
                        "edges:\n"
                        "  - {from: START, to: summarize}\n"
                        "  - {from: summarize, to: echo}\n");
    yg_runtime_t *rt = start("prepare: prepared text\n"
                             "summarize: child summary\n"
                             "finalize: final text\n");
    yg_graph_t *g = tu_load_graph(rt, "i49/parent.yaml",
                         "name: parent\n"
                         "prompts_relative: true\n"
                         "prompts_dir: prompts\n"
                         "state: {raw: str, prepared: str, processed: str, child_saw: str,"
                         " final: str}\n"
                         "nodes:\n"
                         "  prepare: {prompt: prepare, state_key: prepared}\n"
                         "  process:\n"
                         "    type: subgraph\n"
                         "    graph: child.yaml\n"
                         "    input_mapping: {prepared: input_text}\n"
                         "    output_mapping: {processed: output_text, child_saw: seen}\n"
                         "  finalize: {prompt: finalize, state_key: final}\n"
                         "edges:\n"
                         "  - {from: START, to: prepare}\n"
                         "  - {from: prepare, to: process}\n"
                         "  - {from: process, to: finalize}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"raw\": \"r\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    /* three model calls: one per llm node, each result where it belongs */
    ck_assert_str_eq(Sstr(&o, "prepared"), "prepared text");
    ck_assert_str_eq(Sstr(&o, "processed"), "child summary");
    ck_assert_str_eq(Sstr(&o, "final"), "final text");
    /* the child saw input_text = the parent's prepared */
    ck_assert_str_eq(Sstr(&o, "child_saw"), "prepared text");
    ck_assert(!yg_map_has(o.r.state, "errors") || yg_list_size(S(&o, "errors")) == 0);
    ck_assert_uint_eq(tu_count_in_path(&o, "summarize"), 1);
    /* the child's keys do not leak into the parent */
    ck_assert(!yg_map_has(o.r.state, "output_text"));
    ck_assert(!yg_map_has(o.r.state, "input_text"));
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- compatibility: loading ------------------------------------------------------------------ */

/* Map -> map edge: the second map fans out once, after the first is collected. */
START_TEST(compat_map_to_map_edge)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "m2m.yaml",
                         "name: m2m\n"
                         "state: {items: any, first: list, second: list}\n"
                         "nodes:\n"
                         "  one:\n"
                         "    type: map\n"
                         "    over: '{state.items}'\n"
                         "    as: item\n"
                         "    node: {type: passthrough, output: {result: '{state.item * 10}'}}\n"
                         "    collect: first\n"
                         "  two:\n"
                         "    type: map\n"
                         "    over: '{state.first}'\n"
                         "    as: entry\n"
                         "    node: {type: passthrough, output: {result: '{state.entry}'}}\n"
                         "    collect: second\n"
                         "edges:\n"
                         "  - {from: START, to: one}\n"
                         "  - {from: one, to: two}\n"
                         "  - {from: two, to: END}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"items\": [1, 2, 3]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(S(&o, "first"), "[{\"_map_index\": 0, \"value\": 10},"
                                " {\"_map_index\": 1, \"value\": 20},"
                                " {\"_map_index\": 2, \"value\": 30}]");
    /* one fan-out of three items over the collected list (not 3 x 3) */
    tu_assert_json(S(&o, "second"), "[{\"_map_index\": 0, \"value\": 10},"
                                 " {\"_map_index\": 1, \"value\": 20},"
                                 " {\"_map_index\": 2, \"value\": 30}]");
    tu_assert_json(o.path, "[\"one\", \"one\", \"one\", \"two\", \"two\", \"two\"]");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- compatibility: execution ------------------------------------------------------------------ */

/* A prompt-generated interrupt payload is saved and reused on resume: one
 * model call, not two. */
START_TEST(compat_interrupt_payload_reused_on_resume)
{
    testutil_write_temp("ip/ask.yaml", "user: 'Ask about {topic}'\n");
    yg_runtime_t *rt = start("ask:\n  - first question\n  - second question\n");
    yg_graph_t *g = tu_load_graph(rt, "ip/graph.yaml",
                         "name: ip\n"
                         "prompts_relative: true\n"
                         "checkpointer: {type: memory}\n"
                         "state: {topic: str, question: str, answer: str}\n"
                         "nodes:\n"
                         "  ask: {type: interrupt, prompt: ask, state_key: question,"
                         " resume_key: answer}\n"
                         "edges:\n"
                         "  - {from: START, to: ask}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"topic\": \"cats\"}", "ip-1", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    ck_assert_uint_eq(yg_list_size(o.r.interrupts), 1);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(o.r.interrupts, 0), "value")),
                     "first question");
    tu_outcome_release(&o);
    tu_resume(c, g, "\"yes\"", "ip-1", &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    /* a second model call would have produced "second question" */
    ck_assert_str_eq(Sstr(&o, "question"), "first question");
    ck_assert_str_eq(Sstr(&o, "answer"), "yes");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Interrupt ids are <node>:<step>:<task index>:<interrupt index>. */
START_TEST(compat_interrupt_id_format)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "ids.yaml",
                         "name: ids\n"
                         "checkpointer: {type: memory}\n"
                         "state: {a1: str, a2: str, x: str}\n"
                         "nodes:\n"
                         "  pre: {type: passthrough, output: {x: y}}\n"
                         "  one: {type: interrupt, message: first, resume_key: a1}\n"
                         "  two: {type: interrupt, message: second, resume_key: a2}\n"
                         "edges:\n"
                         "  - {from: START, to: pre}\n"
                         "  - {from: pre, to: one}\n"
                         "  - {from: pre, to: two}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{}", "ids-1", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    ck_assert_uint_eq(yg_list_size(o.r.interrupts), 2);
    int64_t step = o.r.step + 1; /* the step that paused */
    for (size_t i = 0; i < 2; i++) {
        const yg_value_t *in = yg_list_get(o.r.interrupts, i);
        const char *node = yg_value_str(yg_map_get(in, "node"));
        char want[128];
        snprintf(want, sizeof want, "%s:%lld:%zu:0", node, (long long)step,
                 strcmp(node, "one") == 0 ? (size_t)0 : (size_t)1);
        ck_assert_str_eq(yg_value_str(yg_map_get(in, "id")), want);
    }
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Step limit precedence: run option, then config.recursion_limit, then the
 * runtime option, then 25. */
START_TEST(compat_step_limit_precedence)
{
    static const char *body = "nodes:\n"
                              "  a: {type: passthrough}\n"
                              "  b: {type: passthrough}\n"
                              "edges:\n"
                              "  - {from: START, to: a}\n"
                              "  - {from: a, to: b}\n"
                              "  - {from: b, to: a}\n";
    char yaml[512];
    yg_runtime_t *rt = start_rt(NULL, NULL, 4, 0);
    snprintf(yaml, sizeof yaml, "name: lim7\nconfig: {recursion_limit: 7}\n%s", body);
    yg_graph_t *g7 = tu_load_graph(rt, "lim7.yaml", yaml);
    snprintf(yaml, sizeof yaml, "name: lim\n%s", body);
    yg_graph_t *g = tu_load_graph(rt, "lim.yaml", yaml);
    yg_client_t *c = yg_client_new(rt);
    struct {
        yg_graph_t *g;
        int opt;
        size_t steps;
    } cases[] = {{g7, 3, 3}, {g7, 0, 7}, {g, 0, 4}, {g, 9, 9}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tu_outcome_t o;
        tu_run(c, cases[i].g, "{}", NULL, cases[i].opt, &o);
        tu_assert_status(&o, YG_RUN_ERROR);
        ck_assert_int_eq(o.r.error.code, YG_ESTEPLIMIT);
        ck_assert_msg(yg_list_size(o.path) == cases[i].steps, "case %zu: %zu steps", i,
                      yg_list_size(o.path));
        tu_outcome_release(&o);
    }
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Map fan-out caps: node max_items, and the runtime cap. */
START_TEST(compat_map_fanout_caps)
{
    static const char *graph = "name: caps\n"
                               "state: {items: any, out: list}\n"
                               "nodes:\n"
                               "  fan:\n"
                               "    type: map\n"
                               "    over: '{state.items}'\n"
                               "    as: item\n"
                               "    max_items: 3\n"
                               "    node: {type: passthrough, output: {result: '{state.item}'}}\n"
                               "    collect: out\n"
                               "edges:\n"
                               "  - {from: START, to: fan}\n";
    yg_runtime_t *rt = start_rt(NULL, NULL, 0, 2);
    yg_graph_t *g = tu_load_graph(rt, "caps.yaml", graph);
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    /* within both caps */
    tu_run(c, g, "{\"items\": [1, 2]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_uint_eq(yg_list_size(S(&o, "out")), 2);
    tu_outcome_release(&o);
    /* above the runtime cap (2), below max_items (3) */
    tu_run(c, g, "{\"items\": [1, 2, 3]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_ELIMIT);
    ck_assert_uint_eq(yg_list_size(o.path), 0);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);

    rt = start(NULL);
    g = tu_load_graph(rt, "caps.yaml", graph);
    c = yg_client_new(rt);
    tu_run(c, g, "{\"items\": [1, 2, 3]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_outcome_release(&o);
    /* above the node's max_items */
    tu_run(c, g, "{\"items\": [1, 2, 3, 4]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_int_eq(o.r.error.code, YG_ELIMIT);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* A failed step keeps the writes of the tasks that succeeded; a resume runs
 * only the task without writes. */
START_TEST(compat_run_error_keeps_successful_writes)
{
    testutil_write_temp("pw/flaky.yaml", "user: 'go {x}'\n");
    yg_runtime_t *rt = start("flaky:\n  - {error: {status: 500, message: transient}}\n"
                             "  - recovered\n");
    yg_graph_t *g = tu_load_graph(rt, "pw/graph.yaml",
                         "name: pw\n"
                         "prompts_relative: true\n"
                         "checkpointer: {type: memory}\n"
                         "state: {x: str, steady: int, flaky_out: str, joined: str}\n"
                         "nodes:\n"
                         "  steady: {type: passthrough, output: {steady: '{state.steady + 1}'}}\n"
                         "  flaky: {prompt: flaky, state_key: flaky_out, on_error: fail}\n"
                         "edges:\n"
                         "  - {from: START, to: steady}\n"
                         "  - {from: START, to: flaky}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"x\": \"now\", \"steady\": 0}", "pw-1", 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_msg(strstr(o.r.error.message, "transient") != NULL, "%s", o.r.error.message);
    tu_outcome_release(&o);
    tu_resume(c, g, "null", "pw-1", &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    /* steady ran once in all (its write was kept), flaky ran again */
    ck_assert_int_eq(yg_value_int(S(&o, "steady")), 1);
    ck_assert_str_eq(Sstr(&o, "flaky_out"), "recovered");
    ck_assert_uint_eq(tu_count_in_path(&o, "steady"), 0);
    ck_assert_uint_eq(tu_count_in_path(&o, "flaky"), 1);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Checkpointer types: sqlite path -> our file store at that path, a foreign
 * file there is refused untouched; redis with a url -> the Redis store (an
 * unreachable server is a run error naming it); redis with an unexpanded
 * url -> in-process memory store (spec 9.1). */
START_TEST(compat_checkpointer_types)
{
    char db[512];
    snprintf(db, sizeof db, "%s/ck/state.db", testutil_temp_dir());
    testutil_write_temp("ck/placeholder", "");
    remove(db);
    char yaml[1024];
    static const char *body = "state: {answer: str}\n"
                              "nodes:\n"
                              "  ask: {type: interrupt, message: q, resume_key: answer}\n"
                              "edges:\n"
                              "  - {from: START, to: ask}\n";
    snprintf(yaml, sizeof yaml, "name: cks\ncheckpointer: {type: sqlite, path: '%s'}\n%s", db,
             body);
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "ck/sqlite.yaml", yaml);
    yg_graph_t *gr = tu_load_graph(rt, "ck/redis.yaml",
                          "name: ckr\n"
                          "checkpointer: {type: redis, url: '${YG_TEST_NEVER_SET_REDIS_URL}'}\n"
                          "state: {answer: str}\n"
                          "nodes:\n"
                          "  ask: {type: interrupt, message: q, resume_key: answer}\n"
                          "edges:\n"
                          "  - {from: START, to: ask}\n");
    yg_graph_t *gdead = tu_load_graph(rt, "ck/redis-dead.yaml",
                             "name: ckd\n"
                             "checkpointer: {type: redis, url: 'redis://127.0.0.1:1/0'}\n"
                             "state: {answer: str}\n"
                             "nodes:\n"
                             "  ask: {type: interrupt, message: q, resume_key: answer}\n"
                             "edges:\n"
                             "  - {from: START, to: ask}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{}", "s-1", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    tu_outcome_release(&o);
    tu_resume(c, g, "\"forty-two\"", "s-1", &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_outcome_release(&o);
    /* a redis url is used: nothing listens there, so the run fails */
    tu_run(c, gdead, "{}", "d-1", 0, &o);
    tu_assert_status(&o, YG_RUN_ERROR);
    ck_assert_msg(strstr(o.r.error.message, "cannot connect to redis"), "%s",
                  o.r.error.message);
    tu_outcome_release(&o);
    /* an unexpanded url falls back to memory: pause and resume in-process */
    tu_run(c, gr, "{}", "r-1", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    tu_outcome_release(&o);
    tu_resume(c, gr, "\"seven\"", "r-1", &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "answer"), "seven");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);

    /* the file exists at the configured path, is not SQLite, and holds the
     * thread for a new runtime */
    size_t len = 0;
    char *bytes = testutil_read_file(db, &len);
    ck_assert_ptr_nonnull(bytes);
    ck_assert_uint_gt(len, 0);
    ck_assert(len < 16 || memcmp(bytes, "SQLite format 3", 15) != 0);
    free(bytes);
    rt = start(NULL);
    g = tu_load_graph(rt, "ck/sqlite.yaml", yaml);
    c = yg_client_new(rt);
    yg_result_t st;
    ck_assert_int_eq(yg_get_state(c, g, "s-1", WAIT_MS, &st), YG_OK);
    ck_assert_int_eq(st.status, YG_RUN_COMPLETED);
    ck_assert_str_eq(yg_value_str(yg_map_get(st.state, "answer")), "forty-two");
    yg_result_release(&st);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);

    /* an SQLite database at the path is refused and left untouched */
    static const char sqlite_header[] = "SQLite format 3\0\x10\x00\x01\x01";
    FILE *f = fopen(db, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(sqlite_header, 1, sizeof sqlite_header - 1, f),
                      sizeof sqlite_header - 1);
    fclose(f);
    rt = start(NULL);
    char *path = tu_temp_path("ck/sqlite.yaml", yaml);
    yg_error_t err = {0};
    g = NULL;
    ck_assert_int_ne(yg_runtime_load_graph(rt, path, &g, &err), YG_OK);
    free(path);
    ck_assert_msg(strstr(err.message, "is not a yamlgraph checkpoint file") != NULL, "%s",
                  err.message);
    ck_assert_ptr_nonnull(strstr(err.message, db));
    yg_runtime_destroy(&rt);
    bytes = testutil_read_file(db, &len);
    ck_assert_uint_eq(len, sizeof sqlite_header - 1);
    ck_assert(memcmp(bytes, sqlite_header, len) == 0);
    free(bytes);
}
END_TEST

/* Append reducer: a non-list value written to an append key is one item. */
START_TEST(compat_append_key_non_list_write)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "app.yaml",
                         "name: app\n"
                         "nodes:\n"
                         "  note: {type: passthrough, output: {messages: hello}}\n"
                         "  more: {type: passthrough, output: {messages: ['{state.current_step}']}}\n"
                         "edges:\n"
                         "  - {from: START, to: note}\n"
                         "  - {from: note, to: more}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"messages\": [\"m0\"]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(S(&o, "messages"), "[\"m0\", \"hello\", \"{state.current_step}\"]");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* _loop_counts written by parallel tasks of one step merge key by key. */
START_TEST(compat_loop_counts_merge_across_parallel_tasks)
{
    testutil_write_temp("lc/p.yaml", "user: 'go {x}'\n");
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "lc/graph.yaml",
                         "name: lc\n"
                         "prompts_relative: true\n"
                         "state: {x: str, l: str, r: str}\n"
                         "nodes:\n"
                         "  left: {prompt: p, state_key: l}\n"
                         "  right: {prompt: p, state_key: r}\n"
                         "edges:\n"
                         "  - {from: START, to: left}\n"
                         "  - {from: START, to: right}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"x\": \"now\", \"_loop_counts\": {\"left\": 4, \"other\": 1}}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    tu_assert_json(S(&o, "_loop_counts"), "{\"left\": 5, \"other\": 1, \"right\": 1}");
    /* current_step: the last task in declaration order */
    ck_assert_str_eq(Sstr(&o, "current_step"), "right");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* The original's view of a paused run: state plus __interrupt__ [{value, id}]. */
START_TEST(compat_result_compat_json)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "cj.yaml",
                         "name: cj\n"
                         "checkpointer: {type: memory}\n"
                         "state: {answer: str}\n"
                         "nodes:\n"
                         "  ask: {type: interrupt, message: 'Name?', resume_key: answer}\n"
                         "edges:\n"
                         "  - {from: START, to: ask}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"answer\": \"none yet\"}", "cj-1", 0, &o);
    tu_assert_status(&o, YG_RUN_INTERRUPTED);
    char *text = yg_result_compat_json(&o.r, false);
    ck_assert_ptr_nonnull(text);
    yg_value_t *v = tu_json(text);
    free(text);
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "answer")), "none yet");
    const yg_value_t *intr = yg_map_get(v, "__interrupt__");
    ck_assert_uint_eq(yg_list_size(intr), 1);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(intr, 0), "value")), "Name?");
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(intr, 0), "id")),
                     yg_value_str(yg_map_get(yg_list_get(o.r.interrupts, 0), "id")));
    yg_value_destroy(&v);
    tu_outcome_release(&o);
    tu_resume(c, g, "\"Ann\"", "cj-1", &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    text = yg_result_compat_json(&o.r, false);
    v = tu_json(text);
    free(text);
    ck_assert(!yg_map_has(v, "__interrupt__"));
    ck_assert_str_eq(yg_value_str(yg_map_get(v, "answer")), "Ann");
    yg_value_destroy(&v);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* 64-bit integers: arithmetic that overflows is an error and a passthrough
 * keeps the current value; int / int is a float. */
START_TEST(compat_integer_overflow_keeps_value)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "ovf.yaml",
                         "name: ovf\n"
                         "state: {n: int, half: float, big: any}\n"
                         "nodes:\n"
                         "  inc: {type: passthrough, output: {n: '{state.n + 1}',"
                         " half: '{state.n / 2}'}}\n"
                         "edges:\n"
                         "  - {from: START, to: inc}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"n\": 9223372036854775807}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_int_eq(yg_value_type(S(&o, "n")), YG_INT);
    ck_assert(yg_value_int(S(&o, "n")) == INT64_MAX);
    tu_outcome_release(&o);
    tu_run(c, g, "{\"n\": 10}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_int_eq(yg_value_int(S(&o, "n")), 11);
    ck_assert_int_eq(yg_value_type(S(&o, "half")), YG_FLOAT);
    ck_assert(yg_value_float(S(&o, "half")) == 5.0);
    tu_outcome_release(&o);
    /* a JSON integer beyond int64 in the input is the nearest float */
    tu_run(c, g, "{\"big\": 18446744073709551616}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_int_eq(yg_value_type(S(&o, "big")), YG_FLOAT);
    ck_assert(yg_value_float(S(&o, "big")) == 18446744073709551616.0);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* ---- compatibility: node execution ------------------------------------------------------- */

/* python/tool nodes with on_error: skip write only the new error record
 * (no duplicated earlier errors through the append reducer). */
static yg_value_t *fn_kaput(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)state;
    (void)arg;
    yg_error_set(err, YG_ETOOL, "kaput");
    return NULL;
}

START_TEST(compat_skip_writes_only_new_error)
{
    ck_assert_int_eq(yg_native_register("conf", "kaput", fn_kaput, NULL), YG_OK);
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "skip.yaml",
                         "name: skip\n"
                         "state: {which: str, out: any}\n"
                         "tools:\n"
                         "  boom: {command: 'echo kaput >&2; exit 3'}\n"
                         "  pyboom: {type: python, module: conf, function: kaput}\n"
                         "nodes:\n"
                         "  pick: {type: passthrough}\n"
                         "  t: {type: tool, tool: boom, state_key: out, on_error: skip}\n"
                         "  p: {type: python, tool: pyboom, state_key: out, on_error: skip}\n"
                         "edges:\n"
                         "  - {from: START, to: pick}\n"
                         "  - {from: pick, to: t, condition: 'which == t'}\n"
                         "  - {from: pick, to: p, condition: 'which == p'}\n");
    yg_client_t *c = yg_client_new(rt);
    static const char *const which[] = {"t", "p"};
    for (size_t i = 0; i < 2; i++) {
        char input[160];
        snprintf(input, sizeof input,
                 "{\"which\": \"%s\", \"errors\": [{\"type\": \"old\", \"message\": \"earlier\"}]}",
                 which[i]);
        tu_outcome_t o;
        tu_run(c, g, input, NULL, 0, &o);
        tu_assert_status(&o, YG_RUN_COMPLETED);
        const yg_value_t *errors = S(&o, "errors");
        ck_assert_msg(yg_list_size(errors) == 2, "node %s: %zu error records (duplicated?)",
                      which[i], yg_list_size(errors));
        ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(errors, 0), "type")), "old");
        const yg_value_t *rec = yg_list_get(errors, 1);
        ck_assert_str_eq(yg_value_str(yg_map_get(rec, "node")), which[i]);
        ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(rec, "message")), "kaput"));
        ck_assert(yg_map_has(o.r.state, "out") && yg_value_is_null(S(&o, "out")));
        tu_outcome_release(&o);
    }
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Shell tool failure texts: output cap, killed by a signal, missing
 * working_dir, timeout printed with %g. */
START_TEST(compat_shell_failure_texts)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "sh.yaml",
                         "name: sh\n"
                         "state: {which: str, out: any}\n"
                         "tools:\n"
                         "  big: {command: 'head -c 9000000 /dev/zero | tr \"\\\\0\" x'}\n"
                         "  sig: {command: 'kill -9 $$'}\n"
                         "  nodir: {command: pwd, working_dir: /definitely/not/here}\n"
                         "  slow: {command: 'sleep 5', timeout: 0.5}\n"
                         "nodes:\n"
                         "  pick: {type: passthrough}\n"
                         "  big: {type: tool, tool: big, state_key: out}\n"
                         "  sig: {type: tool, tool: sig, state_key: out}\n"
                         "  nodir: {type: tool, tool: nodir, state_key: out}\n"
                         "  slow: {type: tool, tool: slow, state_key: out}\n"
                         "edges:\n"
                         "  - {from: START, to: pick}\n"
                         "  - {from: pick, to: big, condition: 'which == big'}\n"
                         "  - {from: pick, to: sig, condition: 'which == sig'}\n"
                         "  - {from: pick, to: nodir, condition: 'which == nodir'}\n"
                         "  - {from: pick, to: slow, condition: 'which == slow'}\n");
    yg_client_t *c = yg_client_new(rt);
    static const struct {
        const char *which, *message;
    } cases[] = {
        {"big", "Tool 'big' failed in node 'big': Command output exceeds 8388608 bytes"},
        {"sig", "Tool 'sig' failed in node 'sig': Exit code -9"},
        {"nodir", "Tool 'nodir' failed in node 'nodir': Execution error: [Errno 2] No such file "
                  "or directory: '/definitely/not/here'"},
        {"slow", "Tool 'slow' failed in node 'slow': Command timed out after 0.5 seconds"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char input[64];
        snprintf(input, sizeof input, "{\"which\": \"%s\"}", cases[i].which);
        tu_outcome_t o;
        tu_run(c, g, input, NULL, 0, &o);
        tu_assert_status(&o, YG_RUN_ERROR);
        ck_assert_msg(strstr(o.r.error.message, cases[i].message) != NULL, "%s: [%s]",
                      cases[i].which, o.r.error.message);
        tu_outcome_release(&o);
    }
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* stream: true nodes honour requires and skip_if_exists like llm nodes. */
START_TEST(compat_stream_node_is_an_llm_node)
{
    testutil_write_temp("st/gen.yaml", "user: 'Write {topic}'\n");
    yg_runtime_t *rt = start("gen: one two three\n");
    yg_graph_t *g = tu_load_graph(rt, "st/graph.yaml",
                         "name: st\n"
                         "prompts_relative: true\n"
                         "state: {topic: str, story: str, out: str}\n"
                         "nodes:\n"
                         "  needs: {prompt: gen, stream: true, requires: [story], state_key: out}\n"
                         "edges:\n"
                         "  - {from: START, to: needs}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"topic\": \"t\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    const yg_value_t *rec = yg_list_get(S(&o, "errors"), 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "state_error");
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "message")), "Missing required state: story");
    ck_assert(!yg_map_has(o.r.state, "out") || yg_value_is_null(S(&o, "out")));
    tu_outcome_release(&o);
    /* with story: runs and stores the streamed text */
    tu_run(c, g, "{\"topic\": \"t\", \"story\": \"s\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "out"), "one two three");
    tu_outcome_release(&o);
    /* skip_if_exists: out already set -> no call, value kept */
    tu_run(c, g, "{\"topic\": \"t\", \"story\": \"s\", \"out\": \"kept\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "out"), "kept");
    tu_assert_json(yg_map_get(o.updates, "needs"),
                "{\"current_step\": \"needs\", \"_loop_counts\": {\"needs\": 1}}");
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* mode: direct: the child gets the whole parent state; its whole result
 * comes back, filtered by the parent's declared keys. */
START_TEST(compat_direct_subgraph)
{
    testutil_write_temp("dm/child.yaml",
                        "name: dchild\n"
                        "state: {a: int, b: str, out: str, child_only: str}\n"
                        "nodes:\n"
                        "  w: {type: passthrough, output: {out: '{state.b}', child_only: x,"
                        " a: '{state.a + 1}'}}\n"
                        "edges:\n"
                        "  - {from: START, to: w}\n");
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "dm/parent.yaml",
                         "name: dparent\n"
                         "state: {a: int, b: str, out: str}\n"
                         "nodes:\n"
                         "  sub: {type: subgraph, graph: child.yaml, mode: direct}\n"
                         "edges:\n"
                         "  - {from: START, to: sub}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"a\": 1, \"b\": \"from parent\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "out"), "from parent");
    ck_assert_int_eq(yg_value_int(S(&o, "a")), 2);
    ck_assert(!yg_map_has(o.r.state, "child_only"));
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Map _error for a sub-node that recorded an error: str() of its errors. */
START_TEST(compat_map_error_text)
{
    testutil_write_temp("me/p.yaml", "user: 'do {item}'\n");
    yg_runtime_t *rt = start("p:\n  - {error: {status: 500, message: nope}}\n");
    yg_graph_t *g = tu_load_graph(rt, "me/graph.yaml",
                         "name: me\n"
                         "prompts_relative: true\n"
                         "state: {items: any, res: list}\n"
                         "nodes:\n"
                         "  m:\n"
                         "    type: map\n"
                         "    over: '{state.items}'\n"
                         "    as: item\n"
                         "    node: {prompt: p, state_key: r}\n"
                         "    collect: res\n"
                         "edges:\n"
                         "  - {from: START, to: m}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"items\": [\"x\"]}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    const yg_value_t *item = yg_list_get(S(&o, "res"), 0);
    ck_assert_int_eq(yg_value_int(yg_map_get(item, "_map_index")), 0);
    const char *text = yg_value_str(yg_map_get(item, "_error"));
    ck_assert_ptr_nonnull(text);
    /* Python str() of a list of dicts */
    ck_assert_msg(strncmp(text, "[{'", 3) == 0 && strstr(text, "'type': 'llm_error'") != NULL &&
                      strstr(text, "nope") != NULL && text[strlen(text) - 1] == ']',
                  "%s", text);
    ck_assert_uint_eq(yg_list_size(S(&o, "errors")), 1);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Agent messages are maps; an assistant's tool_calls are [{id, name, args}];
 * non-string tool output is converted with Python str(). */
START_TEST(compat_agent_messages_and_tool_output)
{
    ck_assert_int_eq(yg_native_register("conf", "lookup", fn_lookup, NULL), YG_OK);
    ck_assert_int_eq(yg_native_register("conf", "raise", fn_raise, NULL), YG_OK);
    testutil_write_temp("ag/agent.yaml", "system: You help.\nuser: '{input}'\n");
    yg_runtime_t *rt = start("agent:\n"
                             "  - content: ''\n"
                             "    tool_calls: [{name: lookup, args: {q: cats}, id: c1},"
                             " {name: raise, args: {}, id: c2}]\n"
                             "  - all done\n");
    yg_graph_t *g = tu_load_graph(rt, "ag/graph.yaml",
                         "name: ag\n"
                         "prompts_relative: true\n"
                         "state: {input: str, answer: str}\n"
                         "tools:\n  lookup: {type: python, module: conf, function: lookup,"
                         " description: Look things up}\n"
                         "  raise: {type: python, module: conf, function: raise}\n"
                         "nodes:\n"
                         "  helper: {type: agent, prompt: agent, tools: [lookup, raise],"
                         " state_key: answer}\n"
                         "edges:\n"
                         "  - {from: START, to: helper}\n");
    yg_client_t *c = yg_client_new(rt);
    tu_outcome_t o;
    tu_run(c, g, "{\"input\": \"find cats\"}", NULL, 0, &o);
    tu_assert_status(&o, YG_RUN_COMPLETED);
    ck_assert_str_eq(Sstr(&o, "answer"), "all done");
    tu_assert_json(S(&o, "messages"),
                "[{\"role\": \"system\", \"content\": \"You help.\"},"
                " {\"role\": \"user\", \"content\": \"find cats\"},"
                " {\"role\": \"assistant\", \"content\": \"\","
                "  \"tool_calls\": [{\"id\": \"c1\", \"name\": \"lookup\", \"args\": {\"q\": \"cats\"}},"
                "                 {\"id\": \"c2\", \"name\": \"raise\", \"args\": {}}]},"
                " {\"role\": \"tool\", \"content\": \"{'found': 'cats'}\", \"tool_call_id\": \"c1\","
                "  \"name\": \"lookup\"},"
                " {\"role\": \"tool\", \"content\": \"Error: disk on fire\", \"tool_call_id\": \"c2\","
                "  \"name\": \"raise\"},"
                " {\"role\": \"assistant\", \"content\": \"all done\"}]");
    ck_assert_int_eq(yg_value_int(S(&o, "_agent_iterations")), 2);
    tu_outcome_release(&o);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("conformance_run");
    TCase *tc = tcase_create("spec15");
    tcase_add_test(tc, item09_10_condition_groups_end_to_end);
    tcase_add_test(tc, item11_broken_condition_in_group_rejected_at_load);
    tcase_add_test(tc, item13_14_router_routes_end_to_end);
    tcase_add_test(tc, item24_model_failure_record_or_abort);
    tcase_add_test(tc, item35_passthrough_without_output);
    tcase_add_test(tc, item37_map_item_payloads);
    tcase_add_test(tc, item44_tool_call_envelopes);
    tcase_add_test(tc, item49_subgraph_three_model_calls);
    suite_add_tcase(s, tc);
    tc = tcase_create("compatibility");
    tcase_add_test(tc, compat_map_to_map_edge);
    tcase_add_test(tc, compat_interrupt_payload_reused_on_resume);
    tcase_add_test(tc, compat_interrupt_id_format);
    tcase_add_test(tc, compat_step_limit_precedence);
    tcase_add_test(tc, compat_map_fanout_caps);
    tcase_add_test(tc, compat_run_error_keeps_successful_writes);
    tcase_add_test(tc, compat_checkpointer_types);
    tcase_add_test(tc, compat_append_key_non_list_write);
    tcase_add_test(tc, compat_loop_counts_merge_across_parallel_tasks);
    tcase_add_test(tc, compat_result_compat_json);
    tcase_add_test(tc, compat_integer_overflow_keeps_value);
    tcase_add_test(tc, compat_skip_writes_only_new_error);
    tcase_add_test(tc, compat_shell_failure_texts);
    tcase_add_test(tc, compat_stream_node_is_an_llm_node);
    tcase_add_test(tc, compat_direct_subgraph);
    tcase_add_test(tc, compat_map_error_text);
    tcase_add_test(tc, compat_agent_messages_and_tool_output);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 60);
}
