/*
 * test_proc.c - non-blocking child processes (yg_proc.h) on a zloop.
 */
#include <czmq.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "yg_exec.h"
#include "yg_proc.h"

typedef struct outcome {
    bool done;
    int calls;
    yg_proc_status_t status;
    int exit_code;
    int signal;
    char *out;
    char *err;
    char *error;
    int64_t finished_at;
} outcome_t;

static void on_done(void *arg, const yg_proc_result_t *r)
{
    outcome_t *o = arg;
    o->calls++;
    o->done = true;
    o->status = r->status;
    o->exit_code = r->exit_code;
    o->signal = r->signal;
    o->out = strndup(r->out, r->out_len);
    o->err = strndup(r->err, r->err_len);
    o->error = r->error ? strdup(r->error) : NULL;
    o->finished_at = zclock_mono();
}

static void outcome_free(outcome_t *o)
{
    free(o->out);
    free(o->err);
    free(o->error);
}

typedef struct harness {
    zloop_t *loop;
    yg_evloop_t *ev;
    yg_procs_t *procs;
    bool *flag;
} harness_t;

static int stop_when_done(zloop_t *loop, int timer_id, void *arg)
{
    harness_t *h = arg;
    return *h->flag ? -1 : 0;
}

static int stop_now(zloop_t *loop, int timer_id, void *arg)
{
    return -1;
}

static void harness_init(harness_t *h)
{
    h->loop = zloop_new();
    zloop_set_nonstop(h->loop, true);
    h->ev = yg_evloop_new(h->loop);
    h->procs = yg_procs_new(h->ev);
    ck_assert_ptr_nonnull(h->procs);
}

/* Run the loop until *flag, at most max_ms. */
static void harness_run(harness_t *h, bool *flag, int max_ms)
{
    h->flag = flag;
    int poll = zloop_timer(h->loop, 1, 0, stop_when_done, h);
    int guard = zloop_timer(h->loop, (size_t)max_ms, 1, stop_now, h);
    zloop_start(h->loop);
    zloop_timer_end(h->loop, poll);
    zloop_timer_end(h->loop, guard);
}

static void harness_fini(harness_t *h)
{
    yg_procs_destroy(&h->procs);
    yg_evloop_destroy(&h->ev);
    zloop_destroy(&h->loop);
}

static void run_command(const char *cmd, const yg_proc_opts_t *extra, outcome_t *o, int max_ms)
{
    harness_t h;
    harness_init(&h);
    yg_proc_opts_t opts = extra ? *extra : (yg_proc_opts_t){0};
    opts.command = cmd;
    yg_proc_t *p = yg_proc_start(h.procs, &opts, on_done, o);
    ck_assert_ptr_nonnull(p);
    ck_assert(!o->done); /* never from inside start */
    harness_run(&h, &o->done, max_ms);
    ck_assert_msg(o->done, "command did not finish: %s", cmd);
    ck_assert_int_eq(o->calls, 1);
    ck_assert_int_eq(yg_procs_active(h.procs), 0);
    harness_fini(&h);
}

START_TEST(test_echo)
{
    outcome_t o = {0};
    run_command("echo hello; echo oops >&2", NULL, &o, 5000);
    ck_assert_int_eq(o.status, YG_PROC_EXITED);
    ck_assert_int_eq(o.exit_code, 0);
    ck_assert_str_eq(o.out, "hello\n");
    ck_assert_str_eq(o.err, "oops\n");
    ck_assert_int_eq(o.calls, 1);
    outcome_free(&o);
}
END_TEST

START_TEST(test_exit_codes)
{
    outcome_t o = {0};
    run_command("exit 3", NULL, &o, 5000);
    ck_assert_int_eq(o.status, YG_PROC_EXITED);
    ck_assert_int_eq(o.exit_code, 3);
    outcome_free(&o);
    outcome_t k = {0};
    run_command("kill -USR1 $$", NULL, &k, 5000);
    ck_assert_int_eq(k.status, YG_PROC_SIGNALED);
    ck_assert_int_eq(k.signal, SIGUSR1);
    outcome_free(&k);
}
END_TEST

START_TEST(test_large_output)
{
    /* more than a pipe buffer on both streams at once: no deadlock */
    outcome_t o = {0};
    run_command("head -c 300000 /dev/zero | tr '\\0' a; head -c 200000 /dev/zero | tr '\\0' b >&2",
                NULL, &o, 10000);
    ck_assert_int_eq(o.status, YG_PROC_EXITED);
    ck_assert_uint_eq(strlen(o.out), 300000);
    ck_assert_uint_eq(strlen(o.err), 200000);
    outcome_free(&o);
}
END_TEST

START_TEST(test_timeout_kills)
{
    outcome_t o = {0};
    yg_proc_opts_t opts = {.timeout_s = 0.3};
    int64_t start = zclock_mono();
    run_command("sleep 10", &opts, &o, 5000);
    ck_assert_int_eq(o.status, YG_PROC_TIMEOUT);
    ck_assert_int_ge(o.finished_at - start, 250);
    ck_assert_int_lt(o.finished_at - start, 3000);
    outcome_free(&o);
}
END_TEST

START_TEST(test_ignores_sigterm)
{
    /* the whole group is killed with SIGKILL, trap or not; the grandchild
     * `sleep` holding the pipes open does not keep us waiting */
    outcome_t o = {0};
    yg_proc_opts_t opts = {.timeout_s = 0.3};
    int64_t start = zclock_mono();
    run_command("trap '' TERM; sleep 10; echo never", &opts, &o, 5000);
    ck_assert_int_eq(o.status, YG_PROC_TIMEOUT);
    ck_assert_int_lt(o.finished_at - start, 3000);
    ck_assert_str_eq(o.out, "");
    outcome_free(&o);
}
END_TEST

START_TEST(test_output_cap)
{
    outcome_t o = {0};
    yg_proc_opts_t opts = {.max_output = 1000, .timeout_s = 10};
    run_command("yes", &opts, &o, 5000);
    ck_assert_int_eq(o.status, YG_PROC_TOO_BIG);
    outcome_free(&o);
}
END_TEST

START_TEST(test_env_and_dir)
{
    outcome_t o = {0};
    yg_value_t *env = yg_map_new();
    yg_map_set(env, "YG_TEST_GREETING", yg_str_new("hi there"));
    yg_map_set(env, "HOME", yg_str_new("/nonexistent-home"));
    yg_proc_opts_t opts = {.env = env, .working_dir = "/tmp"};
    run_command("printf '%s|%s|' \"$YG_TEST_GREETING\" \"$HOME\"; pwd", &opts, &o, 5000);
    ck_assert_str_eq(o.out, "hi there|/nonexistent-home|/tmp\n");
    yg_value_destroy(&env);
    outcome_free(&o);
}
END_TEST

START_TEST(test_bad_working_dir)
{
    outcome_t o = {0};
    yg_proc_opts_t opts = {.working_dir = "/definitely/not/here"};
    run_command("echo hi", &opts, &o, 5000);
    ck_assert_int_eq(o.status, YG_PROC_SPAWN_FAILED);
    ck_assert_ptr_nonnull(o.error);
    ck_assert_ptr_nonnull(strstr(o.error, "Execution error"));
    ck_assert_ptr_nonnull(strstr(o.error, "/definitely/not/here"));
    outcome_free(&o);
}
END_TEST

START_TEST(test_cancel_and_destroy)
{
    harness_t h;
    harness_init(&h);
    outcome_t o1 = {0}, o2 = {0};
    yg_proc_opts_t opts = {.command = "sleep 10"};
    yg_proc_t *p1 = yg_proc_start(h.procs, &opts, on_done, &o1);
    yg_proc_t *p2 = yg_proc_start(h.procs, &opts, on_done, &o2);
    ck_assert_ptr_nonnull(p1);
    ck_assert_ptr_nonnull(p2);
    ck_assert_int_eq(yg_procs_active(h.procs), 2);
    yg_proc_cancel(h.procs, &p1);
    ck_assert_ptr_null(p1);
    ck_assert_int_eq(yg_procs_active(h.procs), 1);
    bool never = false;
    harness_run(&h, &never, 100);
    ck_assert(!o1.done);
    int64_t start = zclock_mono();
    harness_fini(&h); /* kills and reaps the second one */
    ck_assert_int_lt(zclock_mono() - start, 2000);
    ck_assert(!o2.done);
}
END_TEST

START_TEST(test_many_parallel)
{
    harness_t h;
    harness_init(&h);
    enum { N = 20 };
    outcome_t o[N];
    memset(o, 0, sizeof o);
    yg_proc_opts_t opts = {.command = "sleep 0.2; echo done"};
    for (int i = 0; i < N; i++)
        ck_assert_ptr_nonnull(yg_proc_start(h.procs, &opts, on_done, &o[i]));
    int64_t start = zclock_mono();
    for (int i = 0; i < N; i++)
        harness_run(&h, &o[i].done, 5000);
    /* run concurrently: far less than N * 200 ms */
    ck_assert_int_lt(zclock_mono() - start, 2500);
    for (int i = 0; i < N; i++) {
        ck_assert_str_eq(o[i].out, "done\n");
        outcome_free(&o[i]);
    }
    harness_fini(&h);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("proc");
    TCase *tc = tcase_create("proc");
    tcase_add_test(tc, test_echo);
    tcase_add_test(tc, test_exit_codes);
    tcase_add_test(tc, test_large_output);
    tcase_add_test(tc, test_timeout_kills);
    tcase_add_test(tc, test_ignores_sigterm);
    tcase_add_test(tc, test_output_cap);
    tcase_add_test(tc, test_env_and_dir);
    tcase_add_test(tc, test_bad_working_dir);
    tcase_add_test(tc, test_cancel_and_destroy);
    tcase_add_test(tc, test_many_parallel);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(suite(), 30);
}
