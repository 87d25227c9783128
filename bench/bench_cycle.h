/*
 * bench_cycle.h - the interrupt/resume cycle shared by W5 (memory store) and
 * W6 (Redis store), bench/WORKLOADS.md: on thread <prefix><k>, run
 * {question: "q<k>"} -> interrupted with payload "q<k>", then resume "a<k>"
 * -> completed with result "got:a<k>"; finally the last thread's state is
 * read back (result set, no next node).  Header-only, like bench_util.h.
 */
#ifndef YG_BENCH_CYCLE_H
#define YG_BENCH_CYCLE_H

#include "bench_util.h"

#define BENCH_CYCLE_ID_MAX 64
#define BENCH_CYCLE_TEXT_MAX 64

/* bench.record: {result: "got:" + state.answer}. */
static yg_value_t *bench_cycle_record(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)arg;
    const yg_value_t *answer = yg_map_get(state, "answer");
    if (yg_value_type(answer) != YG_STR) {
        yg_error_set(err, YG_ESTATE, "record: state.answer is %s, not a string",
                     yg_type_name(yg_value_type(answer)));
        return NULL;
    }
    yg_value_t *update = yg_map_new();
    if (!update || yg_map_set(update, "result", yg_str_newf("got:%s", yg_value_str(answer))))
        yg_value_destroy(&update);
    if (!update)
        yg_error_set(err, YG_ENOMEM, "out of memory");
    return update;
}

typedef struct bench_cycle {
    long k;             /* the cycle in progress */
    volatile int done;
    yg_durability_t durability;
    const char *label;         /* workload name for error messages */
    const char *thread_prefix; /* thread ids are <prefix><k> */
} bench_cycle_t;

static void bench_cycle_on_interrupt(const yg_result_t *r, void *arg)
{
    bench_cycle_t *b = arg;
    bench_expect_status(r, YG_RUN_INTERRUPTED, b->label);
    char want[BENCH_CYCLE_TEXT_MAX];
    snprintf(want, sizeof want, "q%ld", b->k);
    const yg_value_t *intr = yg_list_get(r->interrupts, 0);
    const yg_value_t *payload = yg_map_get(intr, "value");
    if (yg_list_size(r->interrupts) != 1 || yg_value_type(payload) != YG_STR ||
        strcmp(yg_value_str(payload), want) != 0) {
        char *json = yg_json_encode(r->interrupts, false, NULL);
        bench_die("%s run %s: interrupts %s, wanted one with payload \"%s\"", b->label, r->thread_id,
                  json ? json : "?", want);
    }
    b->done = 1;
}

static void bench_cycle_on_resumed(const yg_result_t *r, void *arg)
{
    bench_cycle_t *b = arg;
    bench_expect_status(r, YG_RUN_COMPLETED, b->label);
    char want[BENCH_CYCLE_TEXT_MAX];
    snprintf(want, sizeof want, "got:a%ld", b->k);
    const yg_value_t *result = yg_map_get(r->state, "result");
    if (yg_value_type(result) != YG_STR || strcmp(yg_value_str(result), want) != 0)
        bench_die("%s resume %s: result %s, wanted \"%s\"", b->label, r->thread_id,
                  yg_value_str(result) ? yg_value_str(result) : "(not a string)", want);
    b->done = 1;
}

static void bench_cycle_run(yg_client_t *c, yg_graph_t *g, bench_cycle_t *b, long k)
{
    char thread[BENCH_CYCLE_ID_MAX], text[BENCH_CYCLE_TEXT_MAX];
    snprintf(thread, sizeof thread, "%s%ld", b->thread_prefix, k);
    yg_run_opts_t opts = {.thread_id = thread, .durability = b->durability};
    b->k = k;

    snprintf(text, sizeof text, "q%ld", k);
    yg_value_t *input = yg_map_new();
    if (!input || yg_map_set(input, "question", yg_str_new(text)) != YG_OK)
        bench_die("out of memory");
    b->done = 0;
    int64_t id = yg_run_graph_async(c, g, input, &opts, bench_cycle_on_interrupt, b);
    yg_value_destroy(&input);
    if (id <= 0)
        bench_die("submit failed: %s", yg_strerror((int)id));
    bench_wait_flag(c, &b->done);

    snprintf(text, sizeof text, "a%ld", k);
    yg_value_t *answer = yg_str_new(text);
    b->done = 0;
    id = yg_resume_async(c, g, answer, &opts, bench_cycle_on_resumed, b);
    yg_value_destroy(&answer);
    if (id <= 0)
        bench_die("resume failed: %s", yg_strerror((int)id));
    bench_wait_flag(c, &b->done);
}

/* getState of the last thread: result set and no next node. */
static void bench_cycle_check_last(yg_client_t *c, yg_graph_t *g, const bench_cycle_t *b, long k)
{
    char thread[BENCH_CYCLE_ID_MAX];
    snprintf(thread, sizeof thread, "%s%ld", b->thread_prefix, k);
    yg_result_t r;
    int rc = yg_get_state(c, g, thread, BENCH_WAIT_MS, &r);
    if (rc != YG_OK)
        bench_die("get_state %s: %s", thread, yg_strerror(rc));
    if (r.status == YG_RUN_ERROR)
        bench_die("get_state %s: %s", thread, r.error.message);
    const yg_value_t *next = yg_map_get(r.snapshot, "next");
    if (yg_value_type(yg_map_get(r.state, "result")) != YG_STR ||
        (next && yg_list_size(next) != 0)) {
        char *json = yg_json_encode(r.snapshot, false, NULL);
        bench_die("get_state %s: result unset or a next node pending: %s", thread,
                  json ? json : "?");
    }
    yg_result_release(&r);
}

#endif
