/*
 * test_gateway.c - the gateway actor and the public wire protocol v1
 * (docs/protocol.md): an in-process runtime and gateway, driven by raw
 * ZeroMQ DEALER and REQ sockets speaking msgpack.
 *
 * Covered: every request type, event order and ids, two clients using the
 * same ids, malformed frames (each gets an error reply, never a crash),
 * REQ clients (one reply per request), cancel, duplicate ids, a client
 * vanishing mid-run, a client that stops reading (bounded queue), shutdown
 * with requests in flight, endpoint resolution and the id scanner.
 */
#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil_rt.h"
#include "yamlgraph/yg_gateway_api.h"
#include "yg_gateway.h"
#include "yg_graph.h"

#define WAIT_MS 10000
#define TCP_ANY "tcp://127.0.0.1:*"

/* ---- fixtures ------------------------------------------------------------------ */

static yg_runtime_t *start(const char *mock_yaml)
{
    return tu_mock_runtime(mock_yaml, NULL);
}

static yg_gateway_t *gateway(yg_runtime_t *rt, const char *endpoint, const yg_gateway_opts_t *o)
{
    yg_error_t err = { 0 };
    yg_gateway_t *gw = yg_gateway_new(rt, endpoint, o, &err);
    ck_assert_msg(gw != NULL, "gateway: %s", err.message);
    return gw;
}

static const char *ASK_GRAPH = "name: asker\n"
                               "description: asks one question\n"
                               "checkpointer: {type: memory}\n"
                               "state: {question: str, answer: str, out: str}\n"
                               "nodes:\n"
                               "  ask: {type: interrupt, message: 'Name?', state_key: question,"
                               " resume_key: answer}\n"
                               "  done: {type: passthrough, output: {out: '{state.answer}'}}\n"
                               "edges:\n"
                               "  - {from: START, to: ask}\n"
                               "  - {from: ask, to: done}\n"
                               "  - {from: done, to: END}\n";

static const char *SLOW_GRAPH = "name: slowgraph\n"
                                "prompts_relative: true\n"
                                "prompts_dir: prompts\n"
                                "state: {n: int, out: str}\n"
                                "nodes:\n"
                                "  work: {prompt: work, variables: {n: '{state.n}'}, state_key: out}\n"
                                "  tag: {type: passthrough, output: {n: '{state.n + 100}'}}\n"
                                "edges:\n"
                                "  - {from: START, to: work}\n"
                                "  - {from: work, to: tag}\n";

static const char *CHAIN_GRAPH = "name: chain\n"
                                 "checkpointer: {type: memory}\n"
                                 "state: {a: str}\n"
                                 "nodes:\n"
                                 "  p1: {type: passthrough, output: {a: x1}}\n"
                                 "  p2: {type: passthrough, output: {a: x2}}\n"
                                 "  p3: {type: passthrough, output: {a: x3}}\n"
                                 "  p4: {type: passthrough, output: {a: x4}}\n"
                                 "  p5: {type: passthrough, output: {a: x5}}\n"
                                 "  p6: {type: passthrough, output: {a: x6}}\n"
                                 "edges:\n"
                                 "  - {from: START, to: p1}\n"
                                 "  - {from: p1, to: p2}\n"
                                 "  - {from: p2, to: p3}\n"
                                 "  - {from: p3, to: p4}\n"
                                 "  - {from: p4, to: p5}\n"
                                 "  - {from: p5, to: p6}\n";

static yg_graph_t *load_slow(yg_runtime_t *rt)
{
    testutil_write_temp("prompts/work.yaml", "system: s\nuser: 'work {n}'\n");
    return tu_load_graph(rt, "slow.yaml", SLOW_GRAPH);
}

/* ---- raw clients -------------------------------------------------------------------- */

static zsock_t *client(int type, const char *endpoint)
{
    zsock_t *s = zsock_new(type);
    ck_assert_ptr_nonnull(s);
    zsock_set_linger(s, 0);
    ck_assert_int_eq(zsock_connect(s, "%s", endpoint), 0);
    return s;
}

static void send_raw(zsock_t *s, const void *data, size_t size)
{
    ck_assert_int_ge(zmq_send(zsock_resolve(s), data, size, 0), 0);
}

static void send_value(zsock_t *s, const yg_value_t *m)
{
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(m, &data, &size), YG_OK);
    send_raw(s, data, size);
    free(data);
}

static void send_json(zsock_t *s, const char *json)
{
    yg_value_t *m = tu_json(json);
    send_value(s, m);
    yg_value_destroy(&m);
}

/* The next message (decoded), or NULL after timeout_ms. */
static yg_value_t *recv_value(zsock_t *s, int timeout_ms)
{
    zmq_pollitem_t item = { zsock_resolve(s), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return NULL;
    zmq_msg_t m;
    zmq_msg_init(&m);
    ck_assert_int_ge(zmq_msg_recv(&m, zsock_resolve(s), 0), 0);
    ck_assert_msg(!zmq_msg_more(&m), "a reply is one frame");
    yg_error_t err = { 0 };
    yg_value_t *v = yg_msgpack_decode(zmq_msg_data(&m), zmq_msg_size(&m), NULL, &err);
    zmq_msg_close(&m);
    ck_assert_msg(v != NULL, "reply is not msgpack: %s", err.message);
    ck_assert_int_eq(yg_value_type(v), YG_MAP);
    ck_assert_int_eq(yg_value_int(yg_map_get(v, "v")), 1);
    return v;
}

static yg_value_t *must_recv(zsock_t *s)
{
    yg_value_t *v = recv_value(s, WAIT_MS);
    ck_assert_msg(v != NULL, "no reply within %d ms", WAIT_MS);
    return v;
}

static yg_value_t *ask(zsock_t *s, const char *json)
{
    send_json(s, json);
    return must_recv(s);
}

static const char *S(const yg_value_t *m, const char *path)
{
    const char *s = yg_value_str(yg_value_path(m, path, true));
    return s ? s : "(none)";
}

static int64_t I(const yg_value_t *m, const char *path)
{
    return yg_value_int(yg_value_path(m, path, true));
}

/* Reply is an error with `code`, and its id equals id_json ("null" for none). */
static void assert_error(const yg_value_t *r, int code, const char *id_json)
{
    ck_assert_msg(strcmp(S(r, "type"), "error") == 0, "expected an error reply, got %s",
                  S(r, "type"));
    ck_assert_msg(I(r, "error.code") == code, "error code %lld (%s: %s), expected %s",
                  (long long)I(r, "error.code"), S(r, "error.name"), S(r, "error.message"),
                  yg_strerror(code));
    ck_assert_str_eq(S(r, "error.name"), yg_strerror(code));
    ck_assert_str_ne(S(r, "error.message"), "");
    yg_value_t *want = tu_json(id_json);
    ck_assert_msg(yg_value_equal(yg_map_get(r, "id"), want), "reply id does not echo %s", id_json);
    yg_value_destroy(&want);
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(ping_graphs_and_endpoint)
{
    yg_runtime_t *rt = start(NULL);
    yg_graph_t *g = tu_load_graph(rt, "ask.yaml", ASK_GRAPH);
    yg_gateway_t *gw = gateway(rt, TCP_ANY, NULL);
    ck_assert_int_eq(yg_gateway_add_graph(gw, g), YG_OK);
    ck_assert_int_eq(yg_gateway_add_graph(gw, g), YG_OK); /* listed once */
    const char *ep = yg_gateway_endpoint(gw);
    ck_assert_ptr_null(strchr(ep, '*'));
    const char *colon = strrchr(ep, ':');
    ck_assert_ptr_nonnull(colon);
    ck_assert_int_gt(atoi(colon + 1), 0);

    zsock_t *c = client(ZMQ_DEALER, ep);
    yg_value_t *r = ask(c, "{\"v\": 1, \"id\": \"p-1\", \"type\": \"ping\"}");
    ck_assert_str_eq(S(r, "type"), "pong");
    ck_assert_str_eq(S(r, "id"), "p-1");
    ck_assert_int_eq(I(r, "protocol"), YG_PROTOCOL_VERSION);
    ck_assert_str_ne(S(r, "server_version"), "(none)");
    yg_value_destroy(&r);

    r = ask(c, "{\"v\": 1, \"id\": 7, \"type\": \"graphs\"}");
    ck_assert_str_eq(S(r, "type"), "result");
    ck_assert_int_eq(I(r, "id"), 7);
    ck_assert_uint_eq(yg_list_size(yg_map_get(r, "graphs")), 1);
    ck_assert_str_eq(S(r, "graphs.0.name"), "asker");
    ck_assert_str_eq(S(r, "graphs.0.description"), "asks one question");
    ck_assert_str_eq(S(r, "graphs.0.hash"), g->hash_hex);
    ck_assert_str_eq(S(r, "graphs.0.path"), g->path);
    ck_assert_str_eq(S(r, "graphs.0.nodes.0"), "ask");
    ck_assert_str_eq(S(r, "graphs.0.nodes.1"), "done");
    yg_value_destroy(&r);

    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    ck_assert_ptr_null(gw);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(run_interrupt_resume_state_history)
{
    yg_runtime_t *rt = start(NULL);
    tu_load_graph(rt, "ask.yaml", ASK_GRAPH);
    yg_gateway_t *gw = gateway(rt, TCP_ANY, NULL);
    zsock_t *c = client(ZMQ_DEALER, yg_gateway_endpoint(gw));

    yg_value_t *r = ask(c, "{\"v\": 1, \"id\": 1, \"type\": \"run\", \"graph\": \"asker\","
                           " \"thread\": \"t-1\", \"input\": {}}");
    ck_assert_str_eq(S(r, "type"), "result");
    ck_assert_int_eq(I(r, "id"), 1);
    ck_assert_str_eq(S(r, "status"), "interrupted");
    ck_assert_str_eq(S(r, "thread"), "t-1");
    ck_assert_str_ne(S(r, "run"), "(none)");
    ck_assert_uint_eq(yg_list_size(yg_map_get(r, "interrupts")), 1);
    ck_assert_str_eq(S(r, "interrupts.0.node"), "ask");
    ck_assert_str_eq(S(r, "interrupts.0.value"), "Name?");
    ck_assert_str_ne(S(r, "interrupts.0.id"), "(none)");
    yg_value_destroy(&r);

    r = ask(c, "{\"v\": 1, \"id\": 2, \"type\": \"resume\", \"graph\": \"asker\","
               " \"thread\": \"t-1\", \"value\": \"Ada\"}");
    ck_assert_str_eq(S(r, "status"), "completed");
    ck_assert_str_eq(S(r, "state.answer"), "Ada");
    ck_assert_str_eq(S(r, "state.out"), "Ada");
    ck_assert_uint_eq(yg_list_size(yg_map_get(r, "interrupts")), 0);
    yg_value_destroy(&r);

    r = ask(c, "{\"v\": 1, \"id\": 3, \"type\": \"state\", \"graph\": \"asker\", \"thread\": \"t-1\"}");
    ck_assert_str_eq(S(r, "type"), "result");
    ck_assert_str_eq(S(r, "thread"), "t-1");
    ck_assert_str_eq(S(r, "state.out"), "Ada");
    ck_assert_int_eq(yg_value_type(yg_map_get(r, "snapshot")), YG_MAP);
    yg_value_destroy(&r);

    r = ask(c, "{\"v\": 1, \"id\": 4, \"type\": \"history\", \"graph\": \"asker\","
               " \"thread\": \"t-1\"}");
    size_t all = yg_list_size(yg_map_get(r, "history"));
    ck_assert_uint_ge(all, 3); /* input, the pause, the end */
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 5, \"type\": \"history\", \"graph\": \"asker\","
               " \"thread\": \"t-1\", \"limit\": 2}");
    ck_assert_uint_eq(yg_list_size(yg_map_get(r, "history")), 2);
    yg_value_destroy(&r);

    /* runtime errors keep the client's id */
    r = ask(c, "{\"v\": 1, \"id\": 6, \"type\": \"state\", \"graph\": \"asker\", \"thread\": \"nope\"}");
    assert_error(r, YG_ENOTFOUND, "6");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 7, \"type\": \"run\", \"graph\": \"no-such-graph\"}");
    assert_error(r, YG_ENOTFOUND, "7");
    yg_value_destroy(&r);
    /* a run that starts and fails is a result with status error */
    r = ask(c, "{\"v\": 1, \"id\": 8, \"type\": \"run\", \"graph\": \"asker\"}");
    ck_assert_str_eq(S(r, "type"), "result");
    ck_assert_str_eq(S(r, "status"), "error");
    ck_assert_int_eq(I(r, "error.code"), YG_EINVAL);
    ck_assert_str_eq(S(r, "error.name"), "YG_EINVAL");
    yg_value_destroy(&r);

    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Events of a stream, then the result; returns the events (owned). */
static yg_value_t *stream_events(zsock_t *c, const char *id_json, yg_value_t **result)
{
    yg_value_t *events = yg_list_new();
    yg_value_t *want = tu_json(id_json);
    for (;;) {
        yg_value_t *m = must_recv(c);
        ck_assert_msg(yg_value_equal(yg_map_get(m, "id"), want), "id not echoed on %s",
                      S(m, "type"));
        if (strcmp(S(m, "type"), "event") != 0) {
            *result = m;
            break;
        }
        yg_list_append(events, m);
    }
    yg_value_destroy(&want);
    return events;
}

START_TEST(stream_events_in_order)
{
    yg_runtime_t *rt = start(NULL);
    tu_load_graph(rt, "ask.yaml", ASK_GRAPH);
    yg_gateway_t *gw = gateway(rt, TCP_ANY, NULL);
    zsock_t *c = client(ZMQ_DEALER, yg_gateway_endpoint(gw));

    send_json(c, "{\"v\": 1, \"id\": \"s1\", \"type\": \"stream\", \"graph\": \"asker\","
                 " \"thread\": \"st\"}");
    yg_value_t *result = NULL;
    yg_value_t *ev = stream_events(c, "\"s1\"", &result);
    ck_assert_str_eq(S(result, "status"), "interrupted");
    ck_assert_uint_ge(yg_list_size(ev), 3);
    ck_assert_str_eq(S(yg_list_get(ev, 0), "kind"), "run_start");
    ck_assert_str_eq(S(yg_list_get(ev, yg_list_size(ev) - 1), "kind"), "run_end");
    bool saw_interrupt = false;
    for (size_t i = 0; i < yg_list_size(ev); i++) {
        const yg_value_t *e = yg_list_get(ev, i);
        ck_assert_int_eq(I(e, "seq"), (int64_t)i + 1); /* 1, 2, 3 ... no gaps */
        ck_assert_str_eq(S(e, "thread"), "st");
        if (strcmp(S(e, "kind"), "interrupt") == 0) {
            saw_interrupt = true;
            ck_assert_str_eq(S(e, "interrupt_id"), S(result, "interrupts.0.id"));
            ck_assert_str_eq(S(e, "value"), "Name?");
        }
    }
    ck_assert(saw_interrupt);
    yg_value_destroy(&ev);
    yg_value_destroy(&result);

    /* the streaming form of resume */
    send_json(c, "{\"v\": 1, \"id\": \"s2\", \"type\": \"stream\", \"graph\": \"asker\","
                 " \"thread\": \"st\", \"resume\": true, \"value\": \"Bo\"}");
    ev = stream_events(c, "\"s2\"", &result);
    ck_assert_str_eq(S(result, "status"), "completed");
    ck_assert_str_eq(S(result, "state.out"), "Bo");
    bool saw_done = false;
    for (size_t i = 0; i < yg_list_size(ev); i++) {
        const yg_value_t *e = yg_list_get(ev, i);
        if (strcmp(S(e, "kind"), "node_end") == 0 && strcmp(S(e, "node"), "done") == 0)
            saw_done = true;
    }
    ck_assert(saw_done);
    yg_value_destroy(&ev);
    yg_value_destroy(&result);

    /* a plain run sends no events */
    send_json(c, "{\"v\": 1, \"id\": \"r\", \"type\": \"run\", \"graph\": \"asker\","
                 " \"thread\": \"st2\"}");
    yg_value_t *r = must_recv(c);
    ck_assert_str_eq(S(r, "type"), "result");
    yg_value_destroy(&r);

    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(two_clients_same_ids)
{
    yg_runtime_t *rt = start("work: {delay_ms: 100, reply: ok}\n");
    load_slow(rt);
    yg_gateway_t *gw = gateway(rt, TCP_ANY, NULL);
    zsock_t *a = client(ZMQ_DEALER, yg_gateway_endpoint(gw));
    zsock_t *b = client(ZMQ_DEALER, yg_gateway_endpoint(gw));
    /* both in flight at once, same id, different inputs; streamed so that
     * events must be routed too */
    send_json(a, "{\"v\": 1, \"id\": 1, \"type\": \"stream\", \"graph\": \"slowgraph\","
                 " \"input\": {\"n\": 1}}");
    send_json(b, "{\"v\": 1, \"id\": 1, \"type\": \"stream\", \"graph\": \"slowgraph\","
                 " \"input\": {\"n\": 2}}");
    yg_value_t *ra = NULL, *rb = NULL;
    yg_value_t *ea = stream_events(a, "1", &ra);
    yg_value_t *eb = stream_events(b, "1", &rb);
    ck_assert_str_eq(S(ra, "status"), "completed");
    ck_assert_str_eq(S(rb, "status"), "completed");
    ck_assert_int_eq(I(ra, "state.n"), 101);
    ck_assert_int_eq(I(rb, "state.n"), 102);
    ck_assert_str_ne(S(ra, "run"), S(rb, "run"));
    /* every event a client got belongs to its own run */
    for (size_t i = 0; i < yg_list_size(ea); i++)
        ck_assert_str_eq(S(yg_list_get(ea, i), "run"), S(ra, "run"));
    for (size_t i = 0; i < yg_list_size(eb); i++)
        ck_assert_str_eq(S(yg_list_get(eb, i), "run"), S(rb, "run"));
    ck_assert_uint_eq(yg_list_size(ea), yg_list_size(eb));
    yg_value_destroy(&ea);
    yg_value_destroy(&eb);
    yg_value_destroy(&ra);
    yg_value_destroy(&rb);
    /* no stray message left for either */
    ck_assert_ptr_null(recv_value(a, 200));
    ck_assert_ptr_null(recv_value(b, 0));
    zsock_destroy(&a);
    zsock_destroy(&b);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

/* A map nested `depth` levels deep inside a request's input. */
static yg_value_t *deep_request(size_t depth)
{
    yg_value_t *inner = yg_map_new();
    for (size_t i = 0; i < depth; i++) {
        yg_value_t *outer = yg_map_new();
        yg_map_set(outer, "x", inner);
        inner = outer;
    }
    yg_value_t *m = tu_json("{\"v\": 1, \"id\": \"deep\", \"type\": \"run\", \"graph\": \"asker\"}");
    yg_map_set(m, "input", inner);
    return m;
}

START_TEST(malformed_frames_get_error_replies)
{
    yg_runtime_t *rt = start(NULL);
    tu_load_graph(rt, "ask.yaml", ASK_GRAPH);
    yg_gateway_opts_t o;
    yg_gateway_opts_init(&o);
    o.max_frame_bytes = 4096;
    yg_gateway_t *gw = gateway(rt, TCP_ANY, &o);
    zsock_t *c = client(ZMQ_DEALER, yg_gateway_endpoint(gw));
    yg_value_t *r;

    /* not msgpack */
    send_raw(c, "\xc1 not msgpack", 13);
    r = must_recv(c);
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    /* truncated msgpack whose id is still readable */
    static const char trunc[] = "\x83\xa2id\xa3" "abc\xa4type\xa3run\xa5graph\xda\x10";
    send_raw(c, trunc, sizeof trunc - 1);
    r = must_recv(c);
    assert_error(r, YG_EPROTO, "\"abc\"");
    yg_value_destroy(&r);
    /* msgpack, but not a map */
    send_json(c, "[1, 2, 3]");
    r = must_recv(c);
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    /* oversize frame: refused before decoding, id found by the scanner */
    yg_value_t *big = tu_json("{\"v\": 1, \"id\": \"big\", \"type\": \"run\", \"graph\": \"asker\"}");
    char *pad = malloc(6000);
    memset(pad, 'x', 5999);
    pad[5999] = '\0';
    yg_value_t *input = yg_map_new();
    yg_map_set(input, "pad", yg_str_new(pad));
    yg_map_set(big, "input", input);
    free(pad);
    send_value(c, big);
    yg_value_destroy(&big);
    r = must_recv(c);
    assert_error(r, YG_ELIMIT, "\"big\"");
    ck_assert_ptr_nonnull(strstr(S(r, "error.message"), "4096"));
    yg_value_destroy(&r);
    /* wrong field types */
    r = ask(c, "{\"v\": 1, \"id\": 11, \"type\": \"run\", \"graph\": \"asker\", \"thread\": 5}");
    assert_error(r, YG_ETYPE, "11");
    ck_assert_ptr_nonnull(strstr(S(r, "error.message"), "thread"));
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 12, \"type\": \"run\", \"graph\": \"asker\", \"input\": [1]}");
    assert_error(r, YG_ETYPE, "12");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 13, \"type\": \"history\", \"thread\": \"t\", \"limit\": \"all\"}");
    assert_error(r, YG_ETYPE, "13");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 14, \"type\": \"run\", \"graph\": \"asker\", \"step_limit\": 0}");
    assert_error(r, YG_EINVAL, "14");
    yg_value_destroy(&r);
    /* missing required fields */
    r = ask(c, "{\"v\": 1, \"id\": 15, \"type\": \"resume\", \"graph\": \"asker\", \"value\": 1}");
    assert_error(r, YG_EINVAL, "15");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 16, \"type\": \"cancel\"}");
    assert_error(r, YG_EINVAL, "16");
    yg_value_destroy(&r);
    /* unknown type, missing type */
    r = ask(c, "{\"v\": 1, \"id\": 17, \"type\": \"explode\"}");
    assert_error(r, YG_EPROTO, "17");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 18}");
    assert_error(r, YG_EPROTO, "18");
    yg_value_destroy(&r);
    /* missing id, id of a wrong type, id too long */
    r = ask(c, "{\"v\": 1, \"type\": \"ping\"}");
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": 1.5, \"type\": \"ping\"}");
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    char longid[YG_GW_ID_MAX + 80];
    memset(longid, 'i', sizeof longid);
    snprintf(longid, sizeof longid, "{\"v\": 1, \"type\": \"ping\", \"id\": \"%0*d\"}",
             YG_GW_ID_MAX + 1, 0);
    r = ask(c, longid);
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    /* versions */
    r = ask(c, "{\"v\": 2, \"id\": 19, \"type\": \"ping\"}");
    assert_error(r, YG_EPROTO, "19");
    ck_assert_ptr_nonnull(strstr(S(r, "error.message"), "unsupported protocol version"));
    yg_value_destroy(&r);
    r = ask(c, "{\"id\": 20, \"type\": \"ping\"}");
    assert_error(r, YG_EPROTO, "20");
    yg_value_destroy(&r);
    /* deep nesting: refused by the decoder's depth limit, id still echoed */
    yg_value_t *deep = deep_request(YG_GATEWAY_DEFAULT_MAX_DEPTH + 4);
    send_value(c, deep);
    yg_value_destroy(&deep);
    r = must_recv(c);
    assert_error(r, YG_ELIMIT, "\"deep\"");
    yg_value_destroy(&r);
    /* several frames in one message */
    zmq_send(zsock_resolve(c), "a", 1, ZMQ_SNDMORE);
    zmq_send(zsock_resolve(c), "b", 1, 0);
    r = must_recv(c);
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    /* an empty frame */
    send_raw(c, "", 0);
    r = must_recv(c);
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    /* unknown fields are ignored; the server is still fine */
    r = ask(c, "{\"v\": 1, \"id\": 21, \"type\": \"ping\", \"future\": {\"x\": 1}}");
    ck_assert_str_eq(S(r, "type"), "pong");
    yg_value_destroy(&r);
    ck_assert_ptr_null(recv_value(c, 100)); /* exactly one reply per request */

    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(req_client_gets_one_reply_per_request)
{
    yg_runtime_t *rt = start(NULL);
    tu_load_graph(rt, "ask.yaml", ASK_GRAPH);
    char ep[1024];
    snprintf(ep, sizeof ep, "ipc://%s/gw.sock", testutil_temp_dir());
    yg_gateway_t *gw = gateway(rt, ep, NULL);
    ck_assert_str_eq(yg_gateway_endpoint(gw), ep);
    zsock_t *c = client(ZMQ_REQ, ep);

    yg_value_t *r = ask(c, "{\"v\": 1, \"id\": \"a\", \"type\": \"ping\"}");
    ck_assert_str_eq(S(r, "type"), "pong");
    yg_value_destroy(&r);
    /* stream over REQ: only the final result */
    r = ask(c, "{\"v\": 1, \"id\": \"b\", \"type\": \"stream\", \"graph\": \"asker\","
               " \"thread\": \"rq\"}");
    ck_assert_str_eq(S(r, "type"), "result");
    ck_assert_str_eq(S(r, "id"), "b");
    ck_assert_str_eq(S(r, "status"), "interrupted");
    yg_value_destroy(&r);
    /* a malformed request still gets its one reply, and REQ keeps working */
    send_raw(c, "\xc1", 1);
    r = must_recv(c);
    assert_error(r, YG_EPROTO, "null");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": \"c\", \"type\": \"resume\", \"graph\": \"asker\","
               " \"thread\": \"rq\", \"value\": \"Cy\"}");
    ck_assert_str_eq(S(r, "status"), "completed");
    ck_assert_str_eq(S(r, "state.out"), "Cy");
    yg_value_destroy(&r);

    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(cancel_and_duplicate_ids)
{
    yg_runtime_t *rt = start("work: {delay_ms: 30000, reply: never}\n");
    load_slow(rt);
    yg_gateway_t *gw = gateway(rt, TCP_ANY, NULL);
    zsock_t *c = client(ZMQ_DEALER, yg_gateway_endpoint(gw));
    send_json(c, "{\"v\": 1, \"id\": \"slow\", \"type\": \"run\", \"graph\": \"slowgraph\","
                 " \"input\": {\"n\": 1}}");
    /* the same id again while the first is in flight */
    yg_value_t *r = ask(c, "{\"v\": 1, \"id\": \"slow\", \"type\": \"ping\"}");
    ck_assert_str_eq(S(r, "type"), "pong"); /* ping is answered at once, never tracked */
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": \"slow\", \"type\": \"run\", \"graph\": \"slowgraph\"}");
    assert_error(r, YG_EINVAL, "\"slow\"");
    yg_value_destroy(&r);
    /* cancel an unknown request */
    r = ask(c, "{\"v\": 1, \"id\": \"c0\", \"type\": \"cancel\", \"target\": \"other\"}");
    assert_error(r, YG_ENOTFOUND, "\"c0\"");
    yg_value_destroy(&r);
    /* cancel the slow run: two replies, the cancel's and the run's */
    send_json(c, "{\"v\": 1, \"id\": \"c1\", \"type\": \"cancel\", \"target\": \"slow\"}");
    bool got_cancel = false, got_run = false;
    for (int i = 0; i < 2; i++) {
        r = must_recv(c);
        if (strcmp(S(r, "id"), "c1") == 0) {
            ck_assert_str_eq(S(r, "type"), "result");
            ck_assert_str_eq(S(r, "status"), "completed");
            got_cancel = true;
        } else {
            ck_assert_str_eq(S(r, "id"), "slow");
            ck_assert_str_eq(S(r, "status"), "error");
            ck_assert_int_eq(I(r, "error.code"), YG_ECANCELLED);
            got_run = true;
        }
        yg_value_destroy(&r);
    }
    ck_assert(got_cancel && got_run);
    /* the id is free again */
    r = ask(c, "{\"v\": 1, \"id\": \"c2\", \"type\": \"cancel\", \"target\": \"slow\"}");
    assert_error(r, YG_ENOTFOUND, "\"c2\"");
    yg_value_destroy(&r);

    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(client_vanishing_mid_run)
{
    yg_runtime_t *rt = start("work: {delay_ms: 200, reply: ok}\n");
    load_slow(rt);
    yg_gateway_t *gw = gateway(rt, TCP_ANY, NULL);
    zsock_t *gone = client(ZMQ_DEALER, yg_gateway_endpoint(gw));
    send_json(gone, "{\"v\": 1, \"id\": 1, \"type\": \"stream\", \"graph\": \"slowgraph\","
                    " \"input\": {\"n\": 1}}");
    zclock_sleep(50); /* the run is in flight */
    zsock_destroy(&gone);
    zsock_t *c = client(ZMQ_DEALER, yg_gateway_endpoint(gw));
    yg_value_t *r = ask(c, "{\"v\": 1, \"id\": 1, \"type\": \"ping\"}");
    ck_assert_str_eq(S(r, "type"), "pong");
    yg_value_destroy(&r);
    /* after the orphan run has finished, everything still works */
    zclock_sleep(400);
    r = ask(c, "{\"v\": 1, \"id\": 2, \"type\": \"run\", \"graph\": \"slowgraph\","
               " \"input\": {\"n\": 5}}");
    ck_assert_str_eq(S(r, "status"), "completed");
    ck_assert_int_eq(I(r, "state.n"), 105);
    yg_value_destroy(&r);
    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(client_not_reading_is_bounded)
{
    yg_runtime_t *rt = start(NULL);
    tu_load_graph(rt, "chain.yaml", CHAIN_GRAPH);
    yg_gateway_opts_t o;
    yg_gateway_opts_init(&o);
    o.max_client_queue = 4;
    o.log_level = YG_LOG_ERROR;
    o.client_hwm = 1;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://gw-slow-%d", (int)getpid());
    yg_gateway_t *gw = gateway(rt, ep, &o);
    zsock_t *c = zsock_new(ZMQ_DEALER);
    zsock_set_linger(c, 0);
    zsock_set_rcvhwm(c, 1);
    ck_assert_int_eq(zsock_connect(c, "%s", ep), 0);
    send_json(c, "{\"v\": 1, \"id\": \"s\", \"type\": \"stream\", \"graph\": \"chain\","
                 " \"thread\": \"ch\"}");
    /* wait, without reading, until that run is over (completed after ~20
     * events, or cancelled by the overflow): the thread is busy until then */
    zsock_t *probe = client(ZMQ_DEALER, ep);
    int64_t deadline = zclock_mono() + WAIT_MS;
    for (int n = 0;; n++) {
        char req[160];
        snprintf(req, sizeof req, "{\"v\": 1, \"id\": %d, \"type\": \"run\", \"graph\": \"chain\","
                 " \"thread\": \"ch\"}", n);
        yg_value_t *r = ask(probe, req);
        bool busy = I(r, "error.code") == YG_EBUSY;
        if (!busy)
            ck_assert_str_eq(S(r, "status"), "completed");
        yg_value_destroy(&r);
        if (!busy)
            break;
        ck_assert_int_lt(zclock_mono(), deadline);
        zclock_sleep(20);
    }
    zsock_destroy(&probe);
    int events = 0;
    yg_value_t *last = NULL;
    for (yg_value_t *m; (m = recv_value(c, 300));) {
        ck_assert_str_eq(S(m, "id"), "s");
        if (strcmp(S(m, "type"), "event") == 0)
            events++;
        yg_value_destroy(&last);
        last = m;
    }
    ck_assert_ptr_nonnull(last);
    assert_error(last, YG_ELIMIT, "\"s\"");
    ck_assert_int_lt(events, 18);
    yg_value_destroy(&last);
    /* the client is served again once it reads */
    yg_value_t *r = ask(c, "{\"v\": 1, \"id\": \"p\", \"type\": \"ping\"}");
    ck_assert_str_eq(S(r, "type"), "pong");
    yg_value_destroy(&r);
    r = ask(c, "{\"v\": 1, \"id\": \"r\", \"type\": \"run\", \"graph\": \"chain\","
               " \"thread\": \"ch2\"}");
    ck_assert_str_eq(S(r, "status"), "completed");
    ck_assert_str_eq(S(r, "state.a"), "x6");
    yg_value_destroy(&r);
    zsock_destroy(&c);
    yg_gateway_destroy(&gw);
    yg_runtime_destroy(&rt);
}
END_TEST

START_TEST(destroy_with_requests_in_flight)
{
    yg_runtime_t *rt = start("work: {delay_ms: 30000, reply: never}\n");
    load_slow(rt);
    yg_gateway_t *gw = gateway(rt, TCP_ANY, NULL);
    zsock_t *c = client(ZMQ_DEALER, yg_gateway_endpoint(gw));
    yg_value_t *r = ask(c, "{\"v\": 1, \"id\": 0, \"type\": \"ping\"}"); /* connected */
    yg_value_destroy(&r);
    send_json(c, "{\"v\": 1, \"id\": 9, \"type\": \"run\", \"graph\": \"slowgraph\"}");
    /* requests of one connection are read in order: after this pong the
     * run is in flight */
    r = ask(c, "{\"v\": 1, \"id\": 10, \"type\": \"ping\"}");
    ck_assert_str_eq(S(r, "type"), "pong");
    yg_value_destroy(&r);
    int64_t t0 = zclock_mono();
    yg_gateway_destroy(&gw);
    ck_assert_ptr_null(gw);
    ck_assert_int_lt(zclock_mono() - t0, 2000); /* bounded */
    r = recv_value(c, 2000);
    ck_assert_ptr_nonnull(r);
    assert_error(r, YG_ECLOSED, "9");
    yg_value_destroy(&r);
    zsock_destroy(&c);
    yg_runtime_destroy(&rt);
    yg_gateway_destroy(&gw); /* NULL-safe */
}
END_TEST

START_TEST(bad_endpoints)
{
    yg_runtime_t *rt = start(NULL);
    yg_error_t err = { 0 };
    ck_assert_ptr_null(yg_gateway_new(rt, "nonsense://x", NULL, &err));
    ck_assert_int_eq(err.code, YG_EIO);
    ck_assert_ptr_nonnull(strstr(err.message, "nonsense://x"));
    ck_assert_ptr_null(yg_gateway_new(NULL, TCP_ANY, NULL, &err));
    ck_assert_int_eq(err.code, YG_EINVAL);
    /* the same port twice */
    yg_gateway_t *a = gateway(rt, TCP_ANY, NULL);
    yg_error_t err2 = { 0 };
    ck_assert_ptr_null(yg_gateway_new(rt, yg_gateway_endpoint(a), NULL, &err2));
    ck_assert_int_eq(err2.code, YG_EIO);
    yg_gateway_destroy(&a);
    yg_runtime_destroy(&rt);
}
END_TEST

/* Encode a value and scan it. */
static yg_value_t *scan_json(const char *json)
{
    yg_value_t *v = tu_json(json);
    char *data = NULL;
    size_t size = 0;
    ck_assert_int_eq(yg_msgpack_encode(v, &data, &size), YG_OK);
    yg_value_destroy(&v);
    yg_value_t *id = yg_gateway_scan_id(data, size);
    free(data);
    return id;
}

START_TEST(scan_id_without_decoding)
{
    yg_value_t *id = scan_json("{\"type\": \"run\", \"id\": \"x-1\"}");
    ck_assert_str_eq(yg_value_str(id), "x-1");
    yg_value_destroy(&id);
    id = scan_json("{\"input\": {\"a\": [1, [2, {\"id\": \"inner\"}], \"s\"], \"b\": null},"
                   " \"f\": 1.5, \"t\": true, \"id\": -42}");
    ck_assert_int_eq(yg_value_type(id), YG_INT);
    ck_assert_int_eq(yg_value_int(id), -42);
    yg_value_destroy(&id);
    id = scan_json("{\"id\": 9007199254740993}");
    ck_assert_int_eq(yg_value_int(id), 9007199254740993LL);
    yg_value_destroy(&id);
    ck_assert_ptr_null(scan_json("{\"ids\": 1, \"x\": {\"id\": 2}}")); /* only top level */
    ck_assert_ptr_null(scan_json("{\"id\": [1]}"));
    ck_assert_ptr_null(scan_json("{\"id\": \"\"}"));
    ck_assert_ptr_null(scan_json("[\"id\", 1]"));
    ck_assert_ptr_null(yg_gateway_scan_id("", 0));
    ck_assert_ptr_null(yg_gateway_scan_id(NULL, 10));
    /* hostile headers: huge claimed counts and lengths, truncation */
    ck_assert_ptr_null(yg_gateway_scan_id("\xdf\xff\xff\xff\xff", 5));
    ck_assert_ptr_null(yg_gateway_scan_id("\x81\xa1x\xdd\xff\xff\xff\xff", 8));
    ck_assert_ptr_null(yg_gateway_scan_id("\x81\xa2id\xdb\xff\xff\xff\xff", 8));
    ck_assert_ptr_null(yg_gateway_scan_id("\x81\xa2id", 4));
    /* deep nesting before the id is skipped without recursion */
    size_t depth = 100000, n = 0;
    char *deep = malloc(depth + 16);
    deep[n++] = (char)0x82;
    deep[n++] = (char)0xa1;
    deep[n++] = 'x';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = (char)0x91; /* [[[[...]]]] */
    deep[n++] = (char)0xc0;
    memcpy(deep + n, "\xa2id\x07", 4);
    n += 4;
    id = yg_gateway_scan_id(deep, n);
    ck_assert_int_eq(yg_value_int(id), 7);
    yg_value_destroy(&id);
    free(deep);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gateway");
    TCase *tc = tcase_create("gateway");
    tcase_add_test(tc, ping_graphs_and_endpoint);
    tcase_add_test(tc, run_interrupt_resume_state_history);
    tcase_add_test(tc, stream_events_in_order);
    tcase_add_test(tc, two_clients_same_ids);
    tcase_add_test(tc, malformed_frames_get_error_replies);
    tcase_add_test(tc, req_client_gets_one_reply_per_request);
    tcase_add_test(tc, cancel_and_duplicate_ids);
    tcase_add_test(tc, client_vanishing_mid_run);
    tcase_add_test(tc, client_not_reading_is_bounded);
    tcase_add_test(tc, destroy_with_requests_in_flight);
    tcase_add_test(tc, bad_endpoints);
    tcase_add_test(tc, scan_id_without_decoding);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
