/*
 * test_native.c - native functions serving `type: python` tools (spec 4.8
 * [C], 4.10, yg_native.h): the registry itself, then python nodes and
 * tool_call nodes through the runtime (coordinator + node actors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil_rt.h"
#include "yamlgraph/yg_native.h"

#define WAIT_MS 20000

/* --- native functions used by the graphs ---------------------------------- */

/* Returns a fixed value; arg counts the calls. */
static yg_value_t *fn_count(const yg_value_t *in, void *arg, yg_error_t *err)
{
    (void)in;
    (void)err;
    (*(int *)arg)++;
    return yg_int_new(1);
}

static yg_value_t *fn_other(const yg_value_t *in, void *arg, yg_error_t *err)
{
    (void)in;
    (void)arg;
    (void)err;
    return yg_int_new(2);
}

/* state.n * 10: a non-map result, written under state_key. */
static yg_value_t *fn_times10(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)arg;
    const yg_value_t *n = yg_map_get(state, "n");
    if (yg_value_type(n) != YG_INT) {
        yg_error_set(err, YG_ETYPE, "n must be an int");
        return NULL;
    }
    return yg_int_new(yg_value_int(n) * 10);
}

/* A map result: the update itself ({a: n + 1, b: "x"}). */
static yg_value_t *fn_update(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)arg;
    (void)err;
    yg_value_t *u = yg_map_new();
    yg_map_set(u, "a", yg_int_new(yg_value_int(yg_map_get(state, "n")) + 1));
    yg_map_set(u, "b", yg_str_new("x"));
    return u;
}

static yg_value_t *fn_fail(const yg_value_t *in, void *arg, yg_error_t *err)
{
    (void)in;
    (void)arg;
    yg_error_set(err, YG_ETOOL, "deliberate failure");
    return NULL;
}

/* tool_call: called with the args map; returns x + y. */
static yg_value_t *fn_add(const yg_value_t *args, void *arg, yg_error_t *err)
{
    (void)arg;
    const yg_value_t *x = yg_map_get(args, "x"), *y = yg_map_get(args, "y");
    if (yg_value_type(x) != YG_INT || yg_value_type(y) != YG_INT) {
        yg_error_set(err, YG_ETYPE, "add needs int x and y");
        return NULL;
    }
    return yg_int_new(yg_value_int(x) + yg_value_int(y));
}

/* --- the registry ------------------------------------------------------------ */

START_TEST(registry_rules)
{
    int calls = 0;
    void *arg = NULL;
    ck_assert_ptr_null(yg_native_lookup("m", "f", &arg));
    ck_assert_int_eq(yg_native_register("m", "f", fn_count, &calls), YG_OK);
    ck_assert_ptr_eq(yg_native_lookup("m", "f", &arg), fn_count);
    ck_assert_ptr_eq(arg, &calls);
    /* both strings are the key */
    ck_assert_ptr_null(yg_native_lookup("m", "g", NULL));
    ck_assert_ptr_null(yg_native_lookup("n", "f", NULL));
    /* registering again replaces */
    ck_assert_int_eq(yg_native_register("m", "f", fn_other, NULL), YG_OK);
    ck_assert_ptr_eq(yg_native_lookup("m", "f", &arg), fn_other);
    ck_assert_ptr_null(arg);
    ck_assert_int_eq(yg_native_unregister("m", "f"), YG_OK);
    ck_assert_ptr_null(yg_native_lookup("m", "f", NULL));
    ck_assert_int_eq(yg_native_unregister("m", "f"), YG_ENOTFOUND);

    /* bad input */
    char longname[YG_NATIVE_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ck_assert_int_eq(yg_native_register(NULL, "f", fn_count, NULL), YG_EINVAL);
    ck_assert_int_eq(yg_native_register("m", "", fn_count, NULL), YG_EINVAL);
    ck_assert_int_eq(yg_native_register("m", "f", NULL, NULL), YG_EINVAL);
    ck_assert_int_eq(yg_native_register(longname, "f", fn_count, NULL), YG_EINVAL);
    longname[YG_NATIVE_NAME_MAX] = '\0'; /* exactly the maximum is fine */
    ck_assert_int_eq(yg_native_register(longname, "f", fn_count, NULL), YG_OK);
    ck_assert_ptr_eq(yg_native_lookup(longname, "f", NULL), fn_count);
    ck_assert_ptr_null(yg_native_lookup(NULL, "f", NULL));
    ck_assert_int_eq(yg_native_unregister(longname, "f"), YG_OK); /* empty again */
}
END_TEST

START_TEST(registry_limit)
{
    char name[32];
    int rc = YG_OK;
    int i = 0;
    for (; i <= YG_NATIVE_MAX_ENTRIES && rc == YG_OK; i++) {
        snprintf(name, sizeof name, "f%d", i);
        rc = yg_native_register("many", name, fn_other, NULL);
    }
    ck_assert_int_eq(rc, YG_ELIMIT);
    ck_assert_int_eq(i, YG_NATIVE_MAX_ENTRIES + 1);
    /* replacing an existing entry still works when full */
    ck_assert_int_eq(yg_native_register("many", "f0", fn_count, NULL), YG_OK);
    /* leave the registry empty again (CK_FORK=no runs share it) */
    for (int k = 0; k < YG_NATIVE_MAX_ENTRIES; k++) {
        snprintf(name, sizeof name, "f%d", k);
        ck_assert_int_eq(yg_native_unregister("many", name), YG_OK);
    }
}
END_TEST

/* --- through the runtime ------------------------------------------------------ */

static yg_runtime_t *rt;
static yg_client_t *client;

static void start_runtime(void)
{
    yg_runtime_opts_t o;
    yg_runtime_opts_init(&o);
    o.log_level = YG_LOG_ERROR;
    yg_error_t err = {0};
    rt = yg_runtime_new(&o, &err);
    ck_assert_msg(rt != NULL, "runtime: %s", err.message);
    client = yg_client_new(rt);
    ck_assert_ptr_nonnull(client);
}

static void stop_runtime(void)
{
    yg_client_destroy(&client);
    yg_runtime_destroy(&rt);
}

static yg_graph_t *load(const char *name, const char *yaml)
{
    return tu_load_graph(rt, name, yaml);
}

static void run(yg_graph_t *g, const char *input_json, yg_result_t *r)
{
    yg_value_t *input = tu_json(input_json);
    int rc = yg_run_graph(client, g, input, NULL, WAIT_MS, r);
    yg_value_destroy(&input);
    ck_assert_int_eq(rc, YG_OK);
}

static const char *python_graph =
    "name: native-python\n"
    "state: {n: int, a: int, b: str, out: int}\n"
    "tools:\n"
    "  times10: {type: python, module: tests, function: times10}\n"
    "  update: {type: python, module: tests, function: update}\n"
    "nodes:\n"
    "  p1: {type: python, tool: times10, state_key: out}\n"
    "  p2: {type: python, tool: update, state_key: out}\n"
    "edges:\n"
    "  - {from: START, to: p1}\n"
    "  - {from: p1, to: p2}\n"
    "  - {from: p2, to: END}\n";

START_TEST(python_node_value_and_map)
{
    ck_assert_int_eq(yg_native_register("tests", "times10", fn_times10, NULL), YG_OK);
    ck_assert_int_eq(yg_native_register("tests", "update", fn_update, NULL), YG_OK);
    start_runtime();
    yg_graph_t *g = load("native/python.yaml", python_graph);
    yg_result_t r;
    run(g, "{\"n\": 4}", &r);
    ck_assert_msg(r.status == YG_RUN_COMPLETED, "status %d: %s", r.status, r.error.message);
    /* a value goes under state_key */
    ck_assert_int_eq(yg_value_int(yg_map_get(r.state, "out")), 40);
    /* a map is the update as-is: its keys, state_key untouched by p2 */
    ck_assert_int_eq(yg_value_int(yg_map_get(r.state, "a")), 5);
    ck_assert_str_eq(yg_value_str(yg_map_get(r.state, "b")), "x");
    ck_assert_str_eq(yg_value_str(yg_map_get(r.state, "current_step")), "p2");
    yg_result_release(&r);

    /* the function's own error aborts the run with its message */
    run(g, "{\"n\": \"four\"}", &r);
    ck_assert_int_eq(r.status, YG_RUN_ERROR);
    ck_assert_msg(strstr(r.error.message, "n must be an int") != NULL, "%s", r.error.message);
    yg_result_release(&r);
    stop_runtime();
}
END_TEST

START_TEST(python_node_unregistered)
{
    start_runtime();
    yg_graph_t *g = load("native/missing.yaml",
                         "name: native-missing\nstate: {out: int}\n"
                         "tools:\n  t: {type: python, module: nowhere, function: nothing}\n"
                         "nodes:\n  p: {type: python, tool: t, state_key: out}\n"
                         "edges:\n  - {from: START, to: p}\n  - {from: p, to: END}\n");
    yg_result_t r;
    run(g, "{}", &r);
    ck_assert_int_eq(r.status, YG_RUN_ERROR);
    ck_assert_int_eq(r.error.code, YG_EUNSUPPORTED);
    ck_assert_msg(strstr(r.error.message, "nowhere.nothing") != NULL, "%s", r.error.message);
    yg_result_release(&r);
    stop_runtime();
}
END_TEST

START_TEST(python_node_failure_skip)
{
    ck_assert_int_eq(yg_native_register("tests", "fail", fn_fail, NULL), YG_OK);
    start_runtime();
    yg_graph_t *g = load("native/skip.yaml",
                         "name: native-skip\nstate: {out: int}\n"
                         "tools:\n  t: {type: python, module: tests, function: fail}\n"
                         "nodes:\n  p: {type: python, tool: t, state_key: out, on_error: skip}\n"
                         "edges:\n  - {from: START, to: p}\n  - {from: p, to: END}\n");
    yg_result_t r;
    run(g, "{\"out\": 7}", &r);
    ck_assert_msg(r.status == YG_RUN_COMPLETED, "status %d: %s", r.status, r.error.message);
    /* {state_key: null, errors: [.. new record]} (spec 4.8) */
    ck_assert(yg_map_has(r.state, "out"));
    ck_assert(yg_value_is_null(yg_map_get(r.state, "out")));
    const yg_value_t *errors = yg_map_get(r.state, "errors");
    ck_assert_int_eq(yg_list_size(errors), 1);
    const yg_value_t *rec = yg_list_get(errors, 0);
    ck_assert_str_eq(yg_value_str(yg_map_get(rec, "node")), "p");
    ck_assert_msg(strstr(yg_value_str(yg_map_get(rec, "message")), "deliberate failure"),
                  "record message %s", yg_value_str(yg_map_get(rec, "message")));
    yg_result_release(&r);
    stop_runtime();
}
END_TEST

START_TEST(tool_call_native)
{
    ck_assert_int_eq(yg_native_register("tests", "add", fn_add, NULL), YG_OK);
    start_runtime();
    yg_graph_t *g = load("native/toolcall.yaml",
                         "name: native-toolcall\nstate: {call: any, args: any}\n"
                         "tools:\n  add: {type: python, module: tests, function: add}\n"
                         "  ghost: {type: python, module: tests, function: ghost}\n"
                         "nodes:\n"
                         "  c: {type: tool_call, tool: \"{state.call}\", args: \"{state.args}\","
                         " state_key: result}\n"
                         "edges:\n  - {from: START, to: c}\n  - {from: c, to: END}\n");
    struct {
        const char *input;
        bool success;
        int64_t result;
        const char *error;
    } cases[] = {
        {"{\"call\": \"add\", \"args\": {\"x\": 2, \"y\": 3}}", true, 5, NULL},
        {"{\"call\": \"add\", \"args\": {\"x\": 2}}", false, 0, "add needs int x and y"},
        {"{\"call\": \"ghost\", \"args\": {}}", false, 0, "needs an external worker"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        yg_result_t r;
        run(g, cases[i].input, &r);
        ck_assert_msg(r.status == YG_RUN_COMPLETED, "case %zu: %s", i, r.error.message);
        /* `result` is the tool_call default key; declare-free here because
         * state_key declares it (spec 2.1 item 4). */
        const yg_value_t *env = yg_map_get(r.state, "result");
        ck_assert_msg(yg_value_type(env) == YG_MAP, "case %zu: no envelope", i);
        ck_assert_int_eq(yg_value_bool(yg_map_get(env, "success")), cases[i].success);
        if (cases[i].success) {
            ck_assert_int_eq(yg_value_int(yg_map_get(env, "result")), cases[i].result);
            ck_assert(yg_value_is_null(yg_map_get(env, "error")));
        } else {
            const char *e = yg_value_str(yg_map_get(env, "error"));
            ck_assert_msg(e && strstr(e, cases[i].error), "case %zu: error %s", i, e ? e : "-");
        }
        yg_result_release(&r);
    }
    stop_runtime();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("native");
    TCase *tc = tcase_create("registry");
    tcase_add_test(tc, registry_rules);
    tcase_add_test(tc, registry_limit);
    suite_add_tcase(s, tc);
    tc = tcase_create("runtime");
    tcase_add_test(tc, python_node_value_and_map);
    tcase_add_test(tc, python_node_unregistered);
    tcase_add_test(tc, python_node_failure_skip);
    tcase_add_test(tc, tool_call_native);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
