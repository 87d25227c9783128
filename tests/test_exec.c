/*
 * test_exec.c - node executors driven directly on a zloop (no coordinator),
 * with the mock provider: exact update shapes and model-call counts for the
 * node-level behaviours of spec section 15.
 */
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "yg_exec.h"
#include "yg_graph.h"
#include "yg_provider.h"

static const char *GRAPH_YAML =
    "name: exec-test\n"
    "prompts_relative: true\n"
    "state:\n"
    "  classification: any\n"
    "  critique: any\n"
    "  story: any\n"
    "  out: any\n"
    "  counter: any\n"
    "  log: any\n"
    "  label: any\n"
    "  both: any\n"
    "  status: any\n"
    "  result: any\n"
    "  pending_question: any\n"
    "  color_choice: any\n"
    "  interrupt_message: any\n"
    "  user_input: any\n"
    "  items: any\n"
    "  results: any\n"
    "  tool_log: any\n"
    "  processed: any\n"
    "  current_phase: any\n"
    "loop_limits:\n"
    "  critique: 3\n"
    "tools:\n"
    "  echo3: {command: \"echo {a} {b} {c}\"}\n"
    "  quote: {command: \"printf '%s' {v}\"}\n"
    "  jsonout: {command: \"printf '%s' '{{\\\"name\\\": \\\"test\\\", \\\"value\\\": 42}}'\", parse: json}\n"
    "  none: {command: \"echo hi\", parse: none}\n"
    "  slow: {command: \"sleep 10\", timeout: 1}\n"
    "  grepper: {command: \"echo abc | grep zzz\", success_codes: [0, 1]}\n"
    "  envtool: {command: \"printf '%s' \\\"$MY_VAR\\\"\", env: {MY_VAR: hello}}\n"
    "  pwdtool: {command: \"pwd\", working_dir: \"/tmp\"}\n"
    "  badjson: {command: \"echo not json\", parse: json}\n"
    "  failing: {command: \"echo boom >&2; exit 2\"}\n"
    "  silentfail: {command: \"exit 7\"}\n"
    "  greet: {command: \"echo hello {name}\", description: \"Greets someone\"}\n"
    "  pyfn: {type: python, module: mymod, function: myfn}\n"
    "  search: {type: websearch, provider: duckduckgo}\n"
    "nodes:\n"
    "  router:\n"
    "    type: router\n"
    "    prompt: classify\n"
    "    routes: {positive: respond_positive, negative: respond_negative}\n"
    "    default_route: respond_neutral\n"
    "    state_key: classification\n"
    "  respond_positive: {type: passthrough}\n"
    "  respond_negative: {type: passthrough}\n"
    "  respond_neutral: {type: passthrough}\n"
    "  critique: {prompt: gen, state_key: critique}\n"
    "  story_node: {prompt: gen, state_key: story}\n"
    "  needs_story: {prompt: gen, requires: [story], state_key: out}\n"
    "  skipper: {prompt: gen, on_error: skip, state_key: out}\n"
    "  retrier: {prompt: gen, on_error: retry, max_retries: 3, state_key: out}\n"
    "  retrier2: {prompt: gen, on_error: retry, max_retries: 2, state_key: out}\n"
    "  retry_router:\n"
    "    type: router\n"
    "    prompt: classify\n"
    "    routes: {positive: respond_positive}\n"
    "    on_error: retry\n"
    "    state_key: classification\n"
    "  fallbacker: {prompt: gen, provider: mistral, on_error: fallback, fallback: {provider: anthropic}, state_key: out}\n"
    "  plain_err: {prompt: gen, state_key: out}\n"
    "  failer: {prompt: gen, on_error: fail, state_key: out}\n"
    "  jsonparse: {prompt: gen, parse_json: true, state_key: out}\n"
    "  rawjson: {prompt: gen, state_key: out}\n"
    "  vars_node:\n"
    "    prompt: vars\n"
    "    state_key: out\n"
    "    variables: {user: \"{state.name}\", years: \"{state.age}\", missing: \"{state.nonexistent}\", greeting: \"Hello\", items: \"{state.list}\"}\n"
    "  whole_node: {prompt: whole, state_key: out}\n"
    "  empty_node: {prompt: needs_empty, state_key: out}\n"
    "  schema_node: {prompt: classify, state_key: out}\n"
    "  report_node: {prompt: gen, output_model: GenericReport, state_key: out}\n"
    "  streamer: {prompt: gen, stream: true, state_key: out}\n"
    "  counter_pt:\n"
    "    type: passthrough\n"
    "    output:\n"
    "      counter: \"{state.counter + 1}\"\n"
    "      log: \"{state.log + [state.entry]}\"\n"
    "      label: \"{state.prefix + ': done'}\"\n"
    "      both: \"{state.prefix + state.suffix}\"\n"
    "      status: processing\n"
    "      story: \"{state.nothing}\"\n"
    "      out: \"{state.nothing}\"\n"
    "  empty_pt: {type: passthrough}\n"
    "  result_pt: {type: passthrough, output: {result: \"{state.undefined_field + 1}\"}}\n"
    "  ask_msg: {type: interrupt, message: \"What is your name?\"}\n"
    "  ask_keys: {type: interrupt, message: \"Pick a color\", state_key: pending_question, resume_key: color_choice}\n"
    "  ask_prompt: {type: interrupt, prompt: ask, state_key: pending_question}\n"
    "  ask_map: {type: interrupt, message: {question: \"Pick A or B\", options: [A, B]}}\n"
    "  ask_jinja: {type: interrupt, message: \"{{greeting}}\"}\n"
    "  ask_simple: {type: interrupt, message: \"Welcome to {service_name}!\"}\n"
    "  ask_plain: {type: interrupt, message: \"plain text\"}\n"
    "  tc: {type: tool_call, tool: \"{state.task.tool}\", args: \"{state.task.args}\"}\n"
    "  tool_echo: {type: tool, tool: echo3, variables: {a: \"{state.a}\", b: \"{state.b}\", c: \"{state.c}\"}, state_key: out}\n"
    "  tool_quote: {type: tool, tool: quote, variables: {v: \"{state.v}\"}, state_key: out}\n"
    "  tool_json: {type: tool, tool: jsonout, state_key: out}\n"
    "  tool_none: {type: tool, tool: none, state_key: out}\n"
    "  tool_slow: {type: tool, tool: slow, state_key: out}\n"
    "  tool_grep: {type: tool, tool: grepper, state_key: out}\n"
    "  tool_env: {type: tool, tool: envtool, state_key: out}\n"
    "  tool_pwd: {type: tool, tool: pwdtool, state_key: out}\n"
    "  tool_badjson: {type: tool, tool: badjson, state_key: out}\n"
    "  tool_fail: {type: tool, tool: failing, state_key: out}\n"
    "  tool_silent: {type: tool, tool: silentfail, state_key: out}\n"
    "  tool_skip: {type: tool, tool: failing, on_error: skip, state_key: out}\n"
    "  tool_missing_var: {type: tool, tool: echo3, variables: {a: \"{state.a}\"}, state_key: out}\n"
    "  py: {type: python, tool: pyfn}\n"
    "  agent1: {type: agent, prompt: agent, tools: [greet, pyfn, search], max_iterations: 3, tool_results_key: tool_log, state_key: out}\n"
    "  m_plain: {type: map, over: \"{state.items}\", as: item, node: {prompt: item}, collect: results}\n"
    "  sep1: {type: passthrough}\n"
    "  m_key: {type: map, over: \"{state.items}\", as: item, node: {prompt: item, state_key: frame_data}, collect: results}\n"
    "  sep2: {type: passthrough}\n"
    "  m_schema: {type: map, over: \"{state.items}\", as: item, node: {prompt: item_schema, state_key: frame}, collect: results}\n"
    "  sep3: {type: passthrough}\n"
    "  m_fail: {type: map, over: \"{state.items}\", as: item, node: {prompt: item, on_error: fail, state_key: frame}, collect: results}\n"
    "  sep4: {type: passthrough}\n"
    "  m_err: {type: map, over: \"{state.items}\", as: item, node: {prompt: item, state_key: frame}, collect: results}\n"
    "  sep5: {type: passthrough}\n"
    "  m_tc: {type: map, over: \"{state.items}\", as: task, node: {type: tool_call, tool: \"{state.task.tool}\", args: \"{state.task.args}\"}, collect: results}\n"
    "  sep6: {type: passthrough}\n"
    "  child_node:\n"
    "    type: subgraph\n"
    "    graph: child.yaml\n"
    "    input_mapping: {prepared: input_text}\n"
    "    output_mapping: {processed: output_text}\n"
    "    interrupt_output_mapping: {current_phase: phase}\n"
    "edges:\n"
    "  - {from: START, to: router}\n"
    "  - {from: router, to: respond_positive}\n"
    "  - {from: respond_positive, to: respond_negative}\n"
    "  - {from: respond_negative, to: respond_neutral}\n"
    "  - {from: respond_neutral, to: critique}\n"
    "  - {from: critique, to: story_node}\n"
    "  - {from: story_node, to: needs_story}\n"
    "  - {from: needs_story, to: skipper}\n"
    "  - {from: skipper, to: retrier}\n"
    "  - {from: retrier, to: retrier2}\n"
    "  - {from: retrier2, to: retry_router}\n"
    "  - {from: retry_router, to: fallbacker}\n"
    "  - {from: fallbacker, to: plain_err}\n"
    "  - {from: plain_err, to: failer}\n"
    "  - {from: failer, to: jsonparse}\n"
    "  - {from: jsonparse, to: rawjson}\n"
    "  - {from: rawjson, to: vars_node}\n"
    "  - {from: vars_node, to: whole_node}\n"
    "  - {from: whole_node, to: empty_node}\n"
    "  - {from: empty_node, to: schema_node}\n"
    "  - {from: schema_node, to: report_node}\n"
    "  - {from: report_node, to: streamer}\n"
    "  - {from: streamer, to: counter_pt}\n"
    "  - {from: counter_pt, to: empty_pt}\n"
    "  - {from: empty_pt, to: result_pt}\n"
    "  - {from: result_pt, to: ask_msg}\n"
    "  - {from: ask_msg, to: ask_keys}\n"
    "  - {from: ask_keys, to: ask_prompt}\n"
    "  - {from: ask_prompt, to: ask_map}\n"
    "  - {from: ask_map, to: ask_jinja}\n"
    "  - {from: ask_jinja, to: ask_simple}\n"
    "  - {from: ask_simple, to: ask_plain}\n"
    "  - {from: ask_plain, to: tc}\n"
    "  - {from: tc, to: tool_echo}\n"
    "  - {from: tool_echo, to: tool_quote}\n"
    "  - {from: tool_quote, to: tool_json}\n"
    "  - {from: tool_json, to: tool_none}\n"
    "  - {from: tool_none, to: tool_slow}\n"
    "  - {from: tool_slow, to: tool_grep}\n"
    "  - {from: tool_grep, to: tool_env}\n"
    "  - {from: tool_env, to: tool_pwd}\n"
    "  - {from: tool_pwd, to: tool_badjson}\n"
    "  - {from: tool_badjson, to: tool_fail}\n"
    "  - {from: tool_fail, to: tool_silent}\n"
    "  - {from: tool_silent, to: tool_skip}\n"
    "  - {from: tool_skip, to: tool_missing_var}\n"
    "  - {from: tool_missing_var, to: py}\n"
    "  - {from: py, to: agent1}\n"
    "  - {from: agent1, to: m_plain}\n"
    "  - {from: m_plain, to: sep1}\n"
    "  - {from: sep1, to: m_key}\n"
    "  - {from: m_key, to: sep2}\n"
    "  - {from: sep2, to: m_schema}\n"
    "  - {from: m_schema, to: sep3}\n"
    "  - {from: sep3, to: m_fail}\n"
    "  - {from: m_fail, to: sep4}\n"
    "  - {from: sep4, to: m_err}\n"
    "  - {from: m_err, to: sep5}\n"
    "  - {from: sep5, to: m_tc}\n"
    "  - {from: m_tc, to: sep6}\n"
    "  - {from: sep6, to: child_node}\n"
    "  - {from: child_node, to: END}\n";

static const char *CHILD_YAML =
    "name: child\n"
    "prompts_relative: true\n"
    "state: {input_text: any, output_text: any, phase: any}\n"
    "nodes:\n"
    "  worker: {prompt: gen, state_key: output_text}\n"
    "edges:\n"
    "  - {from: START, to: worker}\n"
    "  - {from: worker, to: END}\n";

static const struct { const char *name; const char *text; } PROMPTS[] = {
    {"gen.yaml", "system: You are terse.\nuser: Write about {topic}.\n"},
    {"classify.yaml", "user: 'Classify: {text}'\n"
                      "schema:\n  name: Classification\n  fields:\n"
                      "    tone: {type: str}\n    intent: {type: str, optional: true}\n"},
    {"vars.yaml", "user: \"{{ user }}|{% if years > 20 %}big{% endif %}|{{ items|length }}|"
                  "{{ greeting }}|{{ missing }}\"\n"},
    {"whole.yaml", "user: \"{{ name }} {{ age }} {{ valid }}\"\n"},
    {"needs_empty.yaml", "user: \"{{ name }} {{ empty }}\"\n"},
    {"item.yaml", "user: 'Item: {item}'\n"},
    {"item_schema.yaml", "user: 'Item: {item}'\nschema:\n  fields:\n    title: {type: str}\n"},
    {"ask.yaml", "user: 'Ask about {topic}'\n"},
    {"agent.yaml", "system: You are an agent.\nuser: '{input}'\n"},
};

static yg_value_t *J(const char *json)
{
    yg_error_t err = {0};
    yg_value_t *v = yg_json_decode(json, strlen(json), NULL, &err);
    ck_assert_msg(v != NULL, "bad test JSON (%s): %s", json, err.message);
    return v;
}

/* --- harness ---------------------------------------------------------------- */

typedef struct ex {
    zloop_t *loop;
    yg_evloop_t *ev;
    yg_procs_t *procs;
    yg_mock_t *mock;
    yg_providers_t *providers;
    yg_llm_client_t *llm;
    yg_exec_env_t env;
    yg_graph_t *graph;
    /* last result */
    bool done;
    int done_count;
    yg_task_status_t status;
    yg_value_t *update;
    yg_value_t *interrupt;
    yg_value_t *error;
    int64_t calls;
    yg_value_t *events;   /* list of {kind, text} */
    yg_value_t *child;    /* last child request {op, graph, thread, value} */
    yg_task_t *task;      /* the task in flight (NULL once done) */
} ex_t;

static ex_t X;

static void on_event(void *arg, yg_task_t *task, const char *kind, const char *text, size_t len)
{
    yg_value_t *e = yg_map_new();
    yg_map_set(e, "kind", yg_str_new(kind));
    yg_map_set(e, "text", yg_str_newn(text, len));
    yg_list_append(X.events, e);
}

static int on_child(void *arg, yg_task_t *task, const char *op, const char *graph_hash,
                    const char *thread, const yg_value_t *value)
{
    yg_value_destroy(&X.child);
    X.child = yg_map_new();
    yg_map_set(X.child, "op", yg_str_new(op));
    yg_map_set(X.child, "graph", yg_str_new(graph_hash));
    yg_map_set(X.child, "thread", yg_str_new(thread));
    yg_map_set(X.child, "value", yg_value_copy(value));
    return 0;
}

static void on_done(yg_task_t *task, const yg_task_result_t *r, void *arg)
{
    ck_assert_ptr_eq(task, X.task);
    X.done = true;
    X.done_count++;
    X.status = r->status;
    X.update = r->update ? yg_value_copy(r->update) : NULL;
    X.interrupt = r->interrupt ? yg_value_copy(r->interrupt) : NULL;
    X.error = r->error ? yg_value_copy(r->error) : NULL;
    X.calls = r->calls;
    yg_task_destroy(&X.task); /* allowed from the callback */
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Load the test graph and make a mock with the given script (JSON). */
static void setup_with(const char *mock_json)
{
    memset(&X, 0, sizeof X);
    const char *dir = testutil_temp_dir();
    write_file(dir, "graph.yaml", GRAPH_YAML);
    write_file(dir, "child.yaml", CHILD_YAML);
    for (size_t i = 0; i < sizeof PROMPTS / sizeof PROMPTS[0]; i++)
        write_file(dir, PROMPTS[i].name, PROMPTS[i].text);
    char path[512];
    snprintf(path, sizeof path, "%s/graph.yaml", dir);
    yg_error_t err = {0};
    X.graph = yg_graph_load(path, &err);
    ck_assert_msg(X.graph != NULL, "graph load: %s:%d:%d: %s", err.file, err.line, err.column,
                  err.message);
    yg_value_t *script = J(mock_json ? mock_json : "{}");
    X.mock = yg_mock_new_from_value(script, &err);
    ck_assert_msg(X.mock != NULL, "%s", err.message);
    yg_value_destroy(&script);
    X.loop = zloop_new();
    zloop_set_nonstop(X.loop, true);
    X.ev = yg_evloop_new(X.loop);
    X.procs = yg_procs_new(X.ev);
    X.providers = yg_providers_new("mock", X.mock);
    X.llm = yg_llm_client_new(X.providers, X.ev);
    X.events = yg_list_new();
    X.env = (yg_exec_env_t){.ev = X.ev, .graph = X.graph, .llm = X.llm, .procs = X.procs,
                            .child_request = on_child, .event = on_event};
}

static void reset_result(void)
{
    yg_value_destroy(&X.update);
    yg_value_destroy(&X.interrupt);
    yg_value_destroy(&X.error);
    X.done = false;
    X.calls = 0;
}

static void teardown(void)
{
    yg_task_destroy(&X.task);
    reset_result();
    yg_value_destroy(&X.events);
    yg_value_destroy(&X.child);
    yg_llm_client_destroy(&X.llm);
    yg_providers_destroy(&X.providers);
    yg_procs_destroy(&X.procs);
    yg_evloop_destroy(&X.ev);
    zloop_destroy(&X.loop);
    yg_mock_destroy(&X.mock);
    yg_graph_destroy(&X.graph);
}

static int check_done(zloop_t *loop, int id, void *arg)
{
    return X.done ? -1 : 0;
}

static int stop_now(zloop_t *loop, int id, void *arg)
{
    return -1;
}

static void loop_for(int max_ms)
{
    int poll = zloop_timer(X.loop, 1, 0, check_done, NULL);
    int guard = zloop_timer(X.loop, (size_t)max_ms, 1, stop_now, NULL);
    zloop_start(X.loop);
    zloop_timer_end(X.loop, poll);
    zloop_timer_end(X.loop, guard);
}

static const yg_node_t *N(const char *name)
{
    const yg_node_t *n = yg_graph_node(X.graph, name);
    ck_assert_msg(n != NULL, "no node %s", name);
    return n;
}

/* Start a task (input/payload/resume as JSON, NULL = absent) without waiting. */
static void start_node(const yg_node_t *node, const char *thread, const char *input,
                       const char *payload, const char *resume)
{
    reset_result();
    yg_value_t *in = input ? J(input) : NULL;
    yg_value_t *pl = payload ? J(payload) : NULL;
    yg_value_t *rs = resume ? J(resume) : NULL;
    yg_task_spec_t spec = {.run = 1, .id = 2, .thread = thread, .step = 0, .input = in,
                           .payload = pl, .has_resume = resume != NULL, .resume = rs};
    X.task = yg_task_new(&X.env, node, &spec, on_done, NULL);
    ck_assert_ptr_nonnull(X.task);
    yg_value_destroy(&in);
    yg_value_destroy(&pl);
    yg_value_destroy(&rs);
    yg_task_start(X.task);
}

/* Run a node to completion. */
static void run_node(const char *name, const char *input, const char *payload, const char *resume)
{
    start_node(N(name), NULL, input, payload, resume);
    if (!X.done)
        loop_for(8000);
    ck_assert_msg(X.done, "node %s did not finish", name);
}

static void assert_update(const char *json)
{
    yg_value_t *expect = J(json);
    char *got = yg_json_encode(X.update, false, NULL);
    ck_assert_msg(yg_value_equal(X.update, expect), "update %s != %s", got, json);
    free(got);
    yg_value_destroy(&expect);
}

static const char *ustr(const char *key)
{
    return yg_value_str(yg_map_get(X.update, key));
}

/* The content of the last message of mock call `index` (negative: from the end). */
static char *mock_message(int index, int msg)
{
    yg_value_t *log = yg_mock_log(X.mock);
    size_t n = yg_list_size(log);
    const yg_value_t *entry = yg_list_get(log, index < 0 ? n + (size_t)index : (size_t)index);
    const yg_value_t *msgs = yg_map_get(entry, "messages");
    size_t m = yg_list_size(msgs);
    const yg_value_t *item = yg_list_get(msgs, msg < 0 ? m + (size_t)msg : (size_t)msg);
    char *text = strdup(yg_value_str(yg_map_get(item, "content")) ? yg_value_str(yg_map_get(item, "content")) : "");
    yg_value_destroy(&log);
    return text;
}

#define ERR500 "{\"error\": {\"status\": 500, \"message\": \"server exploded\"}}"

/* --- llm / router (spec 15 items 13-14, 16-24, 26-27) ------------------------- */

START_TEST(test_router_routes)
{
    setup_with("{\"classify\": [{\"tone\": \"positive\"}, {\"tone\": \"confused\"},"
               " {\"tone\": \"\", \"intent\": \"negative\"}]}");
    run_node("router", "{\"text\": \"great\"}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    ck_assert_int_eq(X.calls, 1);
    assert_update("{\"classification\": {\"tone\": \"positive\", \"intent\": null},"
                  " \"_route\": \"respond_positive\", \"current_step\": \"router\","
                  " \"_loop_counts\": {\"router\": 1}}");
    run_node("router", "{\"text\": \"hmm\"}", NULL, NULL);
    ck_assert_str_eq(ustr("_route"), "respond_neutral"); /* item 14: default_route */
    run_node("router", "{\"text\": \"bad\"}", NULL, NULL);
    ck_assert_str_eq(ustr("_route"), "respond_negative"); /* empty tone -> intent */
    ck_assert_int_eq(yg_mock_calls(X.mock, "classify"), 3);
    teardown();
}
END_TEST

START_TEST(test_router_retry_success_keeps_route)
{
    setup_with("{\"classify\": [" ERR500 ", {\"tone\": \"positive\"}]}");
    run_node("retry_router", "{\"text\": \"x\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 2);
    ck_assert(!yg_map_has(X.update, "_route")); /* spec 4.3: not set on retry success */
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_map_get(X.update, "classification"), "tone")),
                     "positive");
    bool warned = false;
    for (size_t i = 0; i < yg_list_size(X.events); i++)
        warned = warned || strstr(yg_value_str(yg_map_get(yg_list_get(X.events, i), "text")),
                                  "_route is not updated");
    ck_assert(warned);
    teardown();
}
END_TEST

START_TEST(test_loop_counts_and_limit)
{
    setup_with("{\"gen\": \"a critique\"}");
    run_node("critique", "{\"topic\": \"t\"}", NULL, NULL);
    assert_update("{\"critique\": \"a critique\", \"current_step\": \"critique\","
                  " \"_loop_counts\": {\"critique\": 1}}");
    run_node("critique", "{\"topic\": \"t\", \"_loop_counts\": {\"critique\": 1, \"other\": 5}}",
             NULL, NULL);
    assert_update("{\"critique\": \"a critique\", \"current_step\": \"critique\","
                  " \"_loop_counts\": {\"critique\": 2, \"other\": 5}}");
    /* item 17: limit 3 */
    run_node("critique", "{\"topic\": \"t\", \"_loop_counts\": {\"critique\": 2}}", NULL, NULL);
    ck_assert_int_eq(X.calls, 1);
    ck_assert_str_eq(ustr("critique"), "a critique");
    run_node("critique", "{\"topic\": \"t\", \"_loop_counts\": {\"critique\": 3}}", NULL, NULL);
    ck_assert_int_eq(X.calls, 0);
    assert_update("{\"_loop_limit_reached\": true, \"current_step\": \"critique\"}");
    ck_assert_int_eq(yg_mock_calls(X.mock, "gen"), 3);
    teardown();
}
END_TEST

START_TEST(test_skip_if_exists_and_requires)
{
    setup_with(NULL);
    run_node("story_node", "{\"topic\": \"t\", \"story\": \"existing\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 0);
    assert_update("{\"current_step\": \"story_node\", \"_loop_counts\": {\"story_node\": 1}}");
    /* null counts as absent: the node runs */
    run_node("story_node", "{\"topic\": \"t\", \"story\": null}", NULL, NULL);
    ck_assert_int_eq(X.calls, 1);
    ck_assert_str_eq(ustr("story"), "mock reply for gen");
    /* item 19 */
    run_node("needs_story", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 0);
    const yg_value_t *errors = yg_map_get(X.update, "errors");
    ck_assert_int_eq(yg_list_size(errors), 1);
    const yg_value_t *rec = yg_list_get(errors, 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "state_error");
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "message")), "Missing required state: story");
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "node")), "needs_story");
    ck_assert(!yg_value_bool(yg_map_get(rec, "retryable")));
    ck_assert_int_ge(yg_value_strlen(yg_map_get(rec, "timestamp")), 19);
    ck_assert_ptr_nonnull(yg_value_str(yg_map_get(yg_map_get(rec, "details"), "exception_type")));
    ck_assert_str_eq(ustr("current_step"), "needs_story");
    ck_assert_int_eq(yg_value_int(yg_map_get(yg_map_get(X.update, "_loop_counts"), "needs_story")), 1);
    ck_assert(!yg_map_has(X.update, "out"));
    teardown();
}
END_TEST

START_TEST(test_on_error_modes)
{
    setup_with("{\"gen\": [" ERR500 "]}");
    /* item 20: skip */
    run_node("skipper", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 1);
    assert_update("{\"current_step\": \"skipper\", \"_loop_counts\": {\"skipper\": 1}}");
    /* item 22: retry exhausted: 1 + 2 calls, one record */
    run_node("retrier2", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 3);
    ck_assert_int_eq(yg_list_size(yg_map_get(X.update, "errors")), 1);
    const yg_value_t *rec = yg_list_get(yg_map_get(X.update, "errors"), 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "llm_error");
    ck_assert(yg_value_bool(yg_map_get(rec, "retryable")));
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(rec, "message")), "server exploded"));
    ck_assert(!yg_map_has(X.update, "out"));
    /* item 24: absent -> one record; fail -> the run aborts with the message */
    run_node("plain_err", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 1);
    ck_assert_int_eq(yg_list_size(yg_map_get(X.update, "errors")), 1);
    run_node("failer", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(X.error, "message")), "server exploded"));
    ck_assert_str_eq(yg_value_str(yg_map_get(X.error, "type")), "llm_error");
    ck_assert_str_eq(yg_value_str(yg_map_get(X.error, "node")), "failer");
    teardown();
}
END_TEST

START_TEST(test_retry_then_success)
{
    /* item 21: fails twice then succeeds -> 3 calls; parse_json not applied */
    setup_with("{\"gen\": [" ERR500 ", " ERR500 ", \"third\"]}");
    run_node("retrier", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 3);
    assert_update("{\"out\": \"third\", \"current_step\": \"retrier\","
                  " \"_loop_counts\": {\"retrier\": 1}}");
    teardown();
}
END_TEST

START_TEST(test_fallback)
{
    /* item 23 */
    setup_with("{\"gen\": [" ERR500 ", \"from fallback\"]}");
    run_node("fallbacker", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 2);
    ck_assert_str_eq(ustr("out"), "from fallback");
    yg_value_t *log = yg_mock_log(X.mock);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(log, 0), "requested")), "mistral");
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(log, 1), "requested")), "anthropic");
    yg_value_destroy(&log);
    teardown();

    setup_with("{\"gen\": [" ERR500 ", {\"error\": {\"status\": 429, \"message\": \"fb down\"}}]}");
    run_node("fallbacker", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 2);
    const yg_value_t *errors = yg_map_get(X.update, "errors");
    ck_assert_int_eq(yg_list_size(errors), 1);
    ck_assert_ptr_nonnull(
        strstr(yg_value_str(yg_map_get(yg_list_get(errors, 0), "message")), "fb down"));
    teardown();
}
END_TEST

START_TEST(test_parse_json)
{
    /* item 26 */
    setup_with("{\"gen\": [\"```json\\n{\\\"name\\\": \\\"test\\\", \\\"value\\\": 42}\\n```\\n"
               "That is the answer.\", \"{\\\"key\\\": \\\"value\\\"}\"]}");
    run_node("jsonparse", "{\"topic\": \"t\"}", NULL, NULL);
    yg_value_t *expect = J("{\"name\": \"test\", \"value\": 42}");
    ck_assert(yg_value_equal(yg_map_get(X.update, "out"), expect));
    yg_value_destroy(&expect);
    run_node("rawjson", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "{\"key\": \"value\"}");
    teardown();
}
END_TEST

START_TEST(test_variables)
{
    /* item 27 */
    setup_with(NULL);
    run_node("whole_node",
             "{\"name\": \"Alice\", \"age\": 30, \"_internal\": \"x\", \"empty\": null,"
             " \"valid\": \"v\"}",
             NULL, NULL);
    ck_assert_int_eq(X.calls, 1);
    char *content = mock_message(-1, -1);
    ck_assert_str_eq(content, "Alice 30 v");
    free(content);
    /* null and _-keys are not passed: the required-variable check fails */
    run_node("empty_node", "{\"name\": \"Alice\", \"empty\": null}", NULL, NULL);
    ck_assert_int_eq(X.calls, 0);
    const yg_value_t *rec = yg_list_get(yg_map_get(X.update, "errors"), 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "prompt_error");
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "message")),
                     "Missing required variable(s) for prompt 'needs_empty': empty");
    /* explicit variables keep their types; missing paths are null */
    run_node("vars_node", "{\"name\": \"Alice\", \"age\": 30, \"list\": [1, 2, 3]}", NULL, NULL);
    ck_assert_int_eq(X.calls, 1);
    content = mock_message(-1, -1);
    ck_assert_str_eq(content, "Alice|big|3|Hello|None");
    free(content);
    teardown();
}
END_TEST

START_TEST(test_structured_output)
{
    setup_with("{\"classify\": [\"not json at all\", {\"tone\": 5}, \"```json\\n{\\\"tone\\\": \\\"ok\\\"}\\n```\"],"
               " \"gen\": {\"title\": \"T\", \"summary\": \"S\"}}");
    run_node("schema_node", "{\"text\": \"x\"}", NULL, NULL);
    const yg_value_t *rec = yg_list_get(yg_map_get(X.update, "errors"), 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "validation_error");
    run_node("schema_node", "{\"text\": \"x\"}", NULL, NULL);
    rec = yg_list_get(yg_map_get(X.update, "errors"), 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "type")), "validation_error");
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(rec, "message")), "tone"));
    run_node("schema_node", "{\"text\": \"x\"}", NULL, NULL);
    yg_value_t *expect = J("{\"tone\": \"ok\", \"intent\": null}");
    ck_assert(yg_value_equal(yg_map_get(X.update, "out"), expect));
    yg_value_destroy(&expect);
    /* output_model: GenericReport fills its defaults */
    run_node("report_node", "{\"topic\": \"t\"}", NULL, NULL);
    expect = J("{\"title\": \"T\", \"summary\": \"S\", \"sections\": {}, \"findings\": [],"
               " \"recommendations\": [], \"metadata\": {}}");
    ck_assert(yg_value_equal(yg_map_get(X.update, "out"), expect));
    yg_value_destroy(&expect);
    teardown();
}
END_TEST

START_TEST(test_streaming_tokens)
{
    setup_with("{\"gen\": \"one two three\"}");
    run_node("streamer", "{\"topic\": \"t\"}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "one two three");
    char joined[256] = "";
    int tokens = 0;
    for (size_t i = 0; i < yg_list_size(X.events); i++) {
        const yg_value_t *e = yg_list_get(X.events, i);
        if (strcmp(yg_value_str(yg_map_get(e, "kind")), "token") == 0) {
            strcat(joined, yg_value_str(yg_map_get(e, "text")));
            tokens++;
        }
    }
    ck_assert_int_eq(tokens, 3);
    ck_assert_str_eq(joined, "one two three");
    teardown();
}
END_TEST

/* --- passthrough (items 34-36) -------------------------------------------------- */

START_TEST(test_passthrough)
{
    setup_with(NULL);
    run_node("counter_pt",
             "{\"counter\": 5, \"log\": [\"a\"], \"entry\": {\"k\": \"v\"}, \"prefix\": \"Status\","
             " \"suffix\": \"!\", \"story\": \"kept\"}",
             NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    assert_update("{\"current_step\": \"counter_pt\", \"counter\": 6,"
                  " \"log\": [\"a\", {\"k\": \"v\"}], \"label\": \"Status: done\","
                  " \"both\": \"Status!\", \"status\": \"processing\", \"story\": \"kept\","
                  " \"out\": null}");
    run_node("empty_pt", "{\"x\": 1}", NULL, NULL);
    assert_update("{\"current_step\": \"empty_pt\"}");
    run_node("result_pt", "{\"result\": 42}", NULL, NULL);
    assert_update("{\"current_step\": \"result_pt\", \"result\": 42}");
    /* an arithmetic error keeps the current value, or writes nothing */
    run_node("counter_pt", "{\"counter\": \"five\", \"prefix\": \"P\", \"suffix\": \"S\"}", NULL,
             NULL);
    ck_assert_str_eq(ustr("counter"), "five");
    run_node("counter_pt", "{\"prefix\": 1, \"suffix\": 2}", NULL, NULL);
    ck_assert(!yg_map_has(X.update, "label"));
    ck_assert_int_eq(yg_value_int(yg_map_get(X.update, "both")), 3);
    teardown();
}
END_TEST

/* --- interrupt (items 40-43) ----------------------------------------------------- */

START_TEST(test_interrupt_message)
{
    setup_with(NULL);
    run_node("ask_msg", "{}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_INTERRUPT);
    ck_assert_str_eq(yg_value_str(X.interrupt), "What is your name?");
    ck_assert_int_eq(X.calls, 0);
    run_node("ask_msg", "{}", NULL, "\"Alice\"");
    ck_assert_int_eq(X.status, YG_TASK_OK);
    assert_update("{\"user_input\": \"Alice\", \"interrupt_message\": \"What is your name?\","
                  " \"current_step\": \"ask_msg\"}");
    run_node("ask_keys", "{}", NULL, "\"blue\"");
    assert_update("{\"pending_question\": \"Pick a color\", \"color_choice\": \"blue\","
                  " \"current_step\": \"ask_keys\"}");
    teardown();
}
END_TEST

START_TEST(test_interrupt_prompt)
{
    setup_with("{\"ask\": [\"Generated question?\", \"A different one\"]}");
    /* item 42: payload already in state -> no model call */
    run_node("ask_prompt", "{\"pending_question\": \"Previously generated question\"}", NULL,
             NULL);
    ck_assert_str_eq(yg_value_str(X.interrupt), "Previously generated question");
    ck_assert_int_eq(X.calls, 0);
    run_node("ask_prompt", "{\"topic\": \"cats\", \"_private\": 1}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_INTERRUPT);
    ck_assert_str_eq(yg_value_str(X.interrupt), "Generated question?");
    ck_assert_int_eq(X.calls, 1);
    char *content = mock_message(-1, -1);
    ck_assert_str_eq(content, "Ask about cats");
    free(content);
    /* [C] resume reuses the stored payload: no second model call */
    run_node("ask_prompt", "{\"topic\": \"cats\", \"__interrupt_payload__\": \"Generated question?\"}",
             NULL, "\"yes\"");
    ck_assert_int_eq(X.calls, 0);
    assert_update("{\"pending_question\": \"Generated question?\", \"user_input\": \"yes\","
                  " \"current_step\": \"ask_prompt\"}");
    ck_assert_int_eq(yg_mock_calls(X.mock, "ask"), 1);
    teardown();
}
END_TEST

START_TEST(test_interrupt_payload_forms)
{
    setup_with(NULL);
    run_node("ask_map", "{}", NULL, NULL);
    yg_value_t *expect = J("{\"question\": \"Pick A or B\", \"options\": [\"A\", \"B\"]}");
    ck_assert(yg_value_equal(X.interrupt, expect));
    yg_value_destroy(&expect);
    run_node("ask_jinja", "{\"greeting\": \"Hi there\"}", NULL, NULL);
    ck_assert_str_eq(yg_value_str(X.interrupt), "Hi there");
    run_node("ask_simple", "{\"service_name\": \"Acme\"}", NULL, NULL);
    ck_assert_str_eq(yg_value_str(X.interrupt), "Welcome to Acme!");
    run_node("ask_plain", "{}", NULL, NULL);
    ck_assert_str_eq(yg_value_str(X.interrupt), "plain text");
    /* simple mode with a missing name is an error */
    run_node("ask_simple", "{}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    /* (d) neither message nor prompt -> {node: name} (the loader requires one,
     * so build the node by hand) */
    yg_node_t bare = *N("ask_msg");
    bare.message = NULL;
    bare.message_tmpl = NULL;
    start_node(&bare, NULL, "{}", NULL, NULL);
    ck_assert(X.done);
    expect = J("{\"node\": \"ask_msg\"}");
    ck_assert(yg_value_equal(X.interrupt, expect));
    yg_value_destroy(&expect);
    teardown();
}
END_TEST

/* --- tool_call, python (item 44) ----------------------------------------------------- */

START_TEST(test_tool_call)
{
    setup_with(NULL);
    run_node("tc", "{\"task\": {\"id\": 42, \"tool\": \"pyfn\", \"args\": {\"x\": 1}}}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    assert_update("{\"current_step\": \"tc\", \"result\": {\"task_id\": 42, \"tool\": \"pyfn\","
                  " \"success\": false, \"result\": null, \"error\": \"Python tool 'pyfn' needs an"
                  " external worker or host that registers it with yg_native_register (not"
                  " registered in this process; see docs/deployment.md)\"}}");
    run_node("tc", "{\"task\": {\"id\": 7, \"tool\": \"nope\", \"args\": 5}}", NULL, NULL);
    const yg_value_t *env = yg_map_get(X.update, "result");
    ck_assert_str_eq(yg_value_str(yg_map_get(env, "error")), "Unknown tool: nope");
    ck_assert_int_eq(yg_value_int(yg_map_get(env, "task_id")), 7);
    run_node("tc", "{\"task\": \"not a map\"}", NULL, NULL);
    env = yg_map_get(X.update, "result");
    ck_assert(yg_value_is_null(yg_map_get(env, "task_id")));
    ck_assert(yg_map_has(env, "task_id"));
    run_node("py", "{}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(X.error, "message")),
                                 "node 'py' needs Python tool 'pyfn' (mymod.myfn)"));
    teardown();
}
END_TEST

/* --- shell tools (items 45-46) ---------------------------------------------------------- */

START_TEST(test_shell_quoting)
{
    setup_with(NULL);
    run_node("tool_echo", "{\"a\": 1, \"b\": 2, \"c\": 3}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    assert_update("{\"out\": \"1 2 3\\n\", \"current_step\": \"tool_echo\"}");
    run_node("tool_quote", "{\"v\": \"$(rm -rf /)\"}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "$(rm -rf /)");
    run_node("tool_quote", "{\"v\": null}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "");
    run_node("tool_quote", "{\"v\": [1, 2, 3]}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "[1, 2, 3]");
    run_node("tool_quote", "{\"v\": \"it's\"}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "it's");
    teardown();
}
END_TEST

START_TEST(test_shell_outcomes)
{
    setup_with(NULL);
    run_node("tool_json", "{}", NULL, NULL);
    yg_value_t *expect = J("{\"name\": \"test\", \"value\": 42}");
    ck_assert(yg_value_equal(yg_map_get(X.update, "out"), expect));
    yg_value_destroy(&expect);
    run_node("tool_none", "{}", NULL, NULL);
    ck_assert(yg_map_has(X.update, "out") && yg_value_is_null(yg_map_get(X.update, "out")));
    run_node("tool_grep", "{}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    ck_assert_str_eq(ustr("out"), "");
    run_node("tool_env", "{}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "hello");
    run_node("tool_pwd", "{}", NULL, NULL);
    ck_assert_str_eq(ustr("out"), "/tmp\n");
    run_node("tool_badjson", "{}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(X.error, "message")),
                                 "Tool 'badjson' failed in node 'tool_badjson': JSON parse error"));
    run_node("tool_fail", "{}", NULL, NULL);
    ck_assert_str_eq(yg_value_str(yg_map_get(X.error, "message")),
                     "Tool 'failing' failed in node 'tool_fail': boom\n");
    run_node("tool_silent", "{}", NULL, NULL);
    ck_assert_str_eq(yg_value_str(yg_map_get(X.error, "message")),
                     "Tool 'silentfail' failed in node 'tool_silent': Exit code 7");
    run_node("tool_missing_var", "{\"a\": 1}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(X.error, "message")),
                                 "Missing variable: 'b'"));
    /* on_error: skip writes only the new record (docs/compatibility.md:
     * the original repeated the existing errors, which the append reducer
     * duplicated) */
    run_node("tool_skip", "{\"errors\": [{\"type\": \"old\"}]}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    ck_assert(yg_value_is_null(yg_map_get(X.update, "out")) && yg_map_has(X.update, "out"));
    ck_assert_str_eq(ustr("current_step"), "tool_skip");
    const yg_value_t *errors = yg_map_get(X.update, "errors");
    ck_assert_int_eq(yg_list_size(errors), 1);
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(errors, 0), "type")), "unknown_error");
    teardown();
}
END_TEST

START_TEST(test_shell_timeout)
{
    setup_with(NULL);
    int64_t start = zclock_mono();
    run_node("tool_slow", "{}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    ck_assert_str_eq(yg_value_str(yg_map_get(X.error, "message")),
                     "Tool 'slow' failed in node 'tool_slow': Command timed out after 1 seconds");
    ck_assert_int_lt(zclock_mono() - start, 4000);
    ck_assert_int_eq(yg_procs_active(X.procs), 0);
    teardown();
}
END_TEST

/* --- agent (item 47) ----------------------------------------------------------------------- */

START_TEST(test_agent_no_tools_called)
{
    setup_with("{\"agent\": \"final\"}");
    run_node("agent1", "{\"input\": \"hi\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 1);
    assert_update("{\"out\": \"final\", \"current_step\": \"agent1\", \"_agent_iterations\": 1,"
                  " \"messages\": [{\"role\": \"system\", \"content\": \"You are an agent.\"},"
                  "  {\"role\": \"user\", \"content\": \"hi\"},"
                  "  {\"role\": \"assistant\", \"content\": \"final\"}]}");
    yg_value_t *log = yg_mock_log(X.mock);
    ck_assert_int_eq(yg_value_int(yg_map_get(yg_list_get(log, 0), "tools")), 3);
    yg_value_destroy(&log);
    teardown();
}
END_TEST

START_TEST(test_agent_tool_then_answer)
{
    setup_with("{\"agent\": [{\"content\": \"\", \"tool_calls\": [{\"name\": \"greet\","
               " \"args\": {\"name\": \"Bob\"}, \"id\": \"c1\"}]}, \"done\"]}");
    run_node("agent1", "{\"input\": \"hi\"}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    ck_assert_int_eq(X.calls, 2);
    ck_assert_str_eq(ustr("out"), "done");
    ck_assert_int_eq(yg_value_int(yg_map_get(X.update, "_agent_iterations")), 2);
    yg_value_t *log = yg_mock_log(X.mock);
    const yg_value_t *msgs = yg_map_get(yg_list_get(log, 1), "messages");
    ck_assert_int_ge(yg_list_size(msgs), 4);
    const yg_value_t *tool_msg = yg_list_get(msgs, 3);
    ck_assert_str_eq(yg_value_str(yg_map_get(tool_msg, "role")), "tool");
    ck_assert_str_eq(yg_value_str(yg_map_get(tool_msg, "content")), "hello Bob\n");
    ck_assert_str_eq(yg_value_str(yg_map_get(tool_msg, "tool_call_id")), "c1");
    yg_value_destroy(&log);
    yg_value_t *expect = J("[{\"tool\": \"greet\", \"args\": {\"name\": \"Bob\"},"
                           " \"output\": \"hello Bob\\n\", \"success\": true}]");
    ck_assert(yg_value_equal(yg_map_get(X.update, "tool_log"), expect));
    yg_value_destroy(&expect);
    ck_assert_int_eq(yg_list_size(yg_map_get(X.update, "messages")), 5);
    teardown();
}
END_TEST

START_TEST(test_agent_iteration_limit)
{
    setup_with("{\"agent\": [{\"tool_calls\": [{\"name\": \"greet\", \"args\": {\"name\": \"X\"}}]}]}");
    run_node("agent1", "{\"input\": \"hi\"}", NULL, NULL);
    ck_assert_int_eq(X.calls, 3);
    ck_assert(yg_value_bool(yg_map_get(X.update, "_agent_limit_reached")));
    ck_assert_int_eq(yg_value_int(yg_map_get(X.update, "_agent_iterations")), 3);
    ck_assert_str_eq(ustr("out"), "hello X\n");
    const yg_value_t *msgs = yg_map_get(X.update, "messages");
    const yg_value_t *last = yg_list_get(msgs, yg_list_size(msgs) - 1);
    ck_assert_str_eq(yg_value_str(yg_map_get(last, "tool_call_id")), "call_2");
    ck_assert_int_eq(yg_list_size(yg_map_get(X.update, "tool_log")), 3);
    teardown();
}
END_TEST

START_TEST(test_agent_other_tools_and_history)
{
    setup_with("{\"agent\": [{\"tool_calls\": [{\"name\": \"pyfn\", \"args\": {}},"
               " {\"name\": \"search\", \"args\": {\"query\": \"q\"}},"
               " {\"name\": \"search\", \"args\": {}}, {\"name\": \"nope\", \"args\": {}}]}, \"fin\"]}");
    run_node("agent1", "{\"input\": \"hi\", \"messages\": [{\"role\": \"user\", \"content\": \"old\"}]}",
             NULL, NULL);
    ck_assert_str_eq(ustr("out"), "fin");
    const yg_value_t *msgs = yg_map_get(X.update, "messages");
    /* history + user, no new system message */
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(msgs, 0), "content")), "old");
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(msgs, 1), "content")), "hi");
    const char *expect[] = {
        "Error: Python tool 'pyfn' needs an external worker or host that registers it with "
        "yg_native_register (not registered in this process; see docs/deployment.md)",
        "Search error: Unsupported provider: duckduckgo", "Search error: Search query is empty",
        "Error: Unknown tool 'nope'"};
    for (int i = 0; i < 4; i++)
        ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(msgs, 3 + (size_t)i), "content")),
                         expect[i]);
    teardown();
}
END_TEST

START_TEST(test_agent_model_error_aborts)
{
    setup_with("{\"agent\": [" ERR500 "]}");
    run_node("agent1", "{\"input\": \"hi\"}", NULL, NULL);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    teardown();
}
END_TEST

/* --- map wrapping (item 38) ------------------------------------------------------------------ */

START_TEST(test_map_wrapping)
{
    setup_with("{\"item\": [\"test\", \"test\", \"test\", " ERR500 ", " ERR500 "],"
               " \"item_schema\": {\"title\": \"T\"}}");
    /* no state_key: the whole bookkeeping update becomes the item (pitfall) */
    run_node("_map_m_plain_sub", "{}", "{\"item\": \"a\", \"_map_index\": 2}", NULL);
    assert_update("{\"results\": [{\"_map_index\": 2, \"_map_m_plain_sub\": \"test\","
                  " \"current_step\": \"_map_m_plain_sub\","
                  " \"_loop_counts\": {\"_map_m_plain_sub\": 1}}]}");
    char *content = mock_message(-1, -1);
    ck_assert_str_eq(content, "Item: a");
    free(content);
    run_node("_map_m_key_sub", "{}", "{\"item\": \"b\", \"_map_index\": 2}", NULL);
    assert_update("{\"results\": [{\"_map_index\": 2, \"value\": \"test\"}]}");
    run_node("_map_m_key_sub", "{}", "{\"item\": \"b\"}", NULL);
    assert_update("{\"results\": [\"test\"]}");
    run_node("_map_m_schema_sub", "{}", "{\"item\": \"c\", \"_map_index\": 0}", NULL);
    assert_update("{\"results\": [{\"_map_index\": 0, \"title\": \"T\"}]}");
    /* the sub-node raised */
    run_node("_map_m_fail_sub", "{}", "{\"item\": \"d\", \"_map_index\": 3}", NULL);
    ck_assert_int_eq(X.status, YG_TASK_OK);
    const yg_value_t *item = yg_list_get(yg_map_get(X.update, "results"), 0);
    ck_assert_int_eq(yg_value_int(yg_map_get(item, "_map_index")), 3);
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(item, "_error")), "server exploded"));
    ck_assert_str_eq(yg_value_str(yg_map_get(item, "_error_type")), "InternalServerError");
    const yg_value_t *rec = yg_list_get(yg_map_get(X.update, "errors"), 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "node")), "map_subnode");
    ck_assert_int_eq(yg_map_size(X.update), 2);
    /* the sub-node recorded an error */
    run_node("_map_m_err_sub", "{}", "{\"item\": \"e\", \"_map_index\": 1}", NULL);
    item = yg_list_get(yg_map_get(X.update, "results"), 0);
    ck_assert_int_eq(yg_value_int(yg_map_get(item, "_map_index")), 1);
    ck_assert_ptr_nonnull(strstr(yg_value_str(yg_map_get(item, "_error")), "server exploded"));
    ck_assert(!yg_map_has(item, "_error_type"));
    ck_assert_str_eq(yg_value_str(yg_map_get(yg_list_get(yg_map_get(X.update, "errors"), 0),
                                             "node")),
                     "_map_m_err_sub");
    /* a tool_call sub-node's envelope is under `result` */
    run_node("_map_m_tc_sub", "{}",
             "{\"task\": {\"id\": 9, \"tool\": \"nope\", \"args\": {}}, \"_map_index\": 0}", NULL);
    assert_update("{\"results\": [{\"_map_index\": 0, \"task_id\": 9, \"tool\": \"nope\","
                  " \"success\": false, \"result\": null, \"error\": \"Unknown tool: nope\"}]}");
    teardown();
}
END_TEST

/* --- subgraph ---------------------------------------------------------------------------------- */

START_TEST(test_subgraph)
{
    setup_with(NULL);
    const yg_node_t *node = N("child_node");
    start_node(node, "main-123", "{\"prepared\": \"P\", \"other\": 1}", NULL, NULL);
    ck_assert(!X.done);
    ck_assert_str_eq(yg_value_str(yg_map_get(X.child, "op")), "run");
    ck_assert_str_eq(yg_value_str(yg_map_get(X.child, "thread")), "main-123:child_node");
    ck_assert_str_eq(yg_value_str(yg_map_get(X.child, "graph")), node->child->hash_hex);
    yg_value_t *expect = J("{\"input_text\": \"P\"}");
    ck_assert(yg_value_equal(yg_map_get(X.child, "value"), expect));
    yg_value_destroy(&expect);
    yg_value_t *msg = J("{\"status\": \"completed\", \"state\": {\"output_text\": \"O\","
                        " \"input_text\": \"P\"}}");
    ck_assert_int_eq(yg_task_child_done(X.task, msg), YG_OK);
    yg_value_destroy(&msg);
    ck_assert(X.done);
    assert_update("{\"processed\": \"O\", \"current_step\": \"child_node\"}");

    start_node(node, "", "{}", NULL, NULL);
    ck_assert_str_eq(yg_value_str(yg_map_get(X.child, "thread")), "child_node");
    msg = J("{\"status\": \"interrupted\", \"state\": {\"phase\": \"probing\"},"
            " \"interrupts\": [{\"id\": \"i1\", \"node\": \"ask\", \"value\": \"Why?\"}]}");
    yg_task_child_done(X.task, msg);
    yg_value_destroy(&msg);
    ck_assert_int_eq(X.status, YG_TASK_INTERRUPT);
    ck_assert_str_eq(yg_value_str(X.interrupt), "Why?");
    assert_update("{\"current_phase\": \"probing\", \"current_step\": \"child_node\"}");

    start_node(node, "t", "{}", NULL, "\"my answer\"");
    ck_assert_str_eq(yg_value_str(yg_map_get(X.child, "op")), "resume");
    ck_assert_str_eq(yg_value_str(yg_map_get(X.child, "value")), "my answer");
    msg = J("{\"status\": \"error\", \"error\": {\"code\": -15, \"message\": \"boom\"}}");
    yg_task_child_done(X.task, msg);
    yg_value_destroy(&msg);
    ck_assert_int_eq(X.status, YG_TASK_ERROR);
    ck_assert_str_eq(yg_value_str(yg_map_get(X.error, "message")),
                     "Subgraph 'child_node' failed: boom");
    teardown();
}
END_TEST

/* --- cancellation -------------------------------------------------------------------------------- */

START_TEST(test_cancel_in_flight)
{
    setup_with("{\"latency_ms\": 200}");
    start_node(N("critique"), NULL, "{\"topic\": \"t\"}", NULL, NULL);
    loop_for(20);
    ck_assert(!X.done);
    ck_assert_int_eq(yg_llm_client_active(X.llm), 1);
    yg_task_destroy(&X.task);
    ck_assert_int_eq(yg_llm_client_active(X.llm), 0);
    loop_for(300);
    ck_assert(!X.done);
    start_node(N("tool_slow"), NULL, "{}", NULL, NULL);
    loop_for(50);
    ck_assert_int_eq(yg_procs_active(X.procs), 1);
    yg_task_destroy(&X.task);
    ck_assert_int_eq(yg_procs_active(X.procs), 0);
    loop_for(100);
    ck_assert_int_eq(X.done_count, 0);
    teardown();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("exec");
    TCase *tc = tcase_create("exec");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_router_routes);
    tcase_add_test(tc, test_router_retry_success_keeps_route);
    tcase_add_test(tc, test_loop_counts_and_limit);
    tcase_add_test(tc, test_skip_if_exists_and_requires);
    tcase_add_test(tc, test_on_error_modes);
    tcase_add_test(tc, test_retry_then_success);
    tcase_add_test(tc, test_fallback);
    tcase_add_test(tc, test_parse_json);
    tcase_add_test(tc, test_variables);
    tcase_add_test(tc, test_structured_output);
    tcase_add_test(tc, test_streaming_tokens);
    tcase_add_test(tc, test_passthrough);
    tcase_add_test(tc, test_interrupt_message);
    tcase_add_test(tc, test_interrupt_prompt);
    tcase_add_test(tc, test_interrupt_payload_forms);
    tcase_add_test(tc, test_tool_call);
    tcase_add_test(tc, test_shell_quoting);
    tcase_add_test(tc, test_shell_outcomes);
    tcase_add_test(tc, test_shell_timeout);
    tcase_add_test(tc, test_agent_no_tools_called);
    tcase_add_test(tc, test_agent_tool_then_answer);
    tcase_add_test(tc, test_agent_iteration_limit);
    tcase_add_test(tc, test_agent_other_tools_and_history);
    tcase_add_test(tc, test_agent_model_error_aborts);
    tcase_add_test(tc, test_map_wrapping);
    tcase_add_test(tc, test_subgraph);
    tcase_add_test(tc, test_cancel_in_flight);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
