/*
 * bench_w4.c - workloads W4 and W4big (bench/WORKLOADS): C concurrent runs
 * of START -> llm -> END, each one real HTTP/1.1 call that the fake LLM
 * server (bench/fake_llm_server.c) holds for 200 ms.
 *
 *   bench_w4 [--c N] [--mode runtime|provider] [--server URL] [--graph PATH]
 *
 *   --c N        concurrent runs per burst (1000 = W4, 10000 = W4big)
 *   --mode       runtime (default): through the runtime's coordinator and
 *                node actor, via the public client API;
 *                provider: the LLM provider layer alone on one event loop
 *                (yg_llm_client -> yg_http -> curl multi), labelled
 *                W4-provider-only
 *   --server URL an already running fake server (e.g. http://127.0.0.1:8765);
 *                default: start bench/fake_llm_server from this program's
 *                directory on an ephemeral loopback port
 *
 * Protocol: 5 sequential warm-up runs; VmHWM reset; cold burst (C runs
 * started at once, timed until the last result); warm burst (the same
 * again, reusing the kept-alive connections).  The server's counters are
 * reset before each burst and read after it (max in-flight, CPU ms).
 * Every reply is checked.  Prints one line:
 *   W4 c=... wall_s=... warm_wall_s=... runs_per_s=... peak_rss_mb=...
 *      base_rss_mb=... llm_max_inflight=... llm_server_cpu_ms=...
 *      llm_server_cpu_ms_warm=...
 */
#define _GNU_SOURCE
#include "bench_util.h"

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "yg_exec.h"
#include "yg_http.h"
#include "yg_llm_http.h"
#include "yg_provider.h"

#define W4_FIXED_REPLY "This is a fixed reply from the fake LLM."
#define W4_DELAY_MS 200
#define W4_WARMUP 5
#define W4_MAX_C 100000L
#define W4_CONTROL_TIMEOUT_MS 10000

/* --- the fake server ------------------------------------------------------- */

static pid_t server_pid = -1;

static void server_spawn(char *url, size_t size)
{
    char exe[BENCH_PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        bench_die("cannot find this program's directory");
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    snprintf(slash + 1, sizeof exe - (size_t)(slash + 1 - exe), "fake_llm_server");
    int fds[2];
    if (pipe(fds) != 0)
        bench_die("pipe: %s", strerror(errno));
    server_pid = fork();
    if (server_pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (server_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);  /* never outlive us, even on abort */
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(exe, "fake_llm_server", "--port", "0", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    char line[32] = "";
    if (poll(&pfd, 1, 5000) == 1) {
        ssize_t r = read(fds[0], line, sizeof line - 1);
        line[r > 0 ? r : 0] = '\0';
    }
    close(fds[0]);
    int port = atoi(line);
    if (port <= 0)
        bench_die("%s did not start", exe);
    snprintf(url, size, "http://127.0.0.1:%d", port);
}

static void server_stop(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
}

/* --- blocking control requests (own loop, not the measured one) ------------ */

typedef struct {
    int done;
    int status;
    yg_value_t *json;
} control_t;

static void control_done(void *arg, const yg_http_response_t *resp)
{
    control_t *c = arg;
    yg_error_t err = {0};
    c->done = 1;
    c->status = resp->status;
    c->json = resp->body_len ? yg_json_decode(resp->body, resp->body_len, NULL, &err) : NULL;
}

static int control_check(zloop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    return ((control_t *)arg)->done ? -1 : 0;
}

static yg_value_t *control(const char *server, const char *method, const char *path)
{
    zloop_t *loop = zloop_new();
    yg_evloop_t *ev = yg_evloop_new(loop);
    yg_http_t *http = yg_http_new(ev);
    if (!http)
        bench_die("cannot create an HTTP client");
    char url[512];
    snprintf(url, sizeof url, "%s%s", server, path);
    bool post = strcmp(method, "POST") == 0;
    yg_http_request_t req = {.method = method, .url = url, .timeout_ms = W4_CONTROL_TIMEOUT_MS,
                             .body = post ? "{}" : NULL, .body_len = post ? 2 : 0};
    yg_http_callbacks_t cb = {NULL, control_done};
    control_t c = {0};
    yg_error_t err = {0};
    if (!yg_http_start(http, &req, &cb, &c, &err))
        bench_die("control request: %s", err.message);
    int id = zloop_timer(loop, 1, 0, control_check, &c);
    zloop_start(loop);
    zloop_timer_end(loop, id);
    yg_http_destroy(&http);
    yg_evloop_destroy(&ev);
    zloop_destroy(&loop);
    if (!c.done || c.status != 200 || !c.json)
        bench_die("%s %s: HTTP %d", method, url, c.status);
    return c.json;
}

typedef struct {
    double cpu_ms;
    int64_t max_inflight;
    int64_t requests;
} server_stats_t;

static server_stats_t server_stats(const char *server)
{
    yg_value_t *s = control(server, "GET", "/stats");
    server_stats_t st = {yg_value_float(yg_map_get(s, "cpu_ms")),
                         yg_value_int(yg_map_get(s, "max_inflight")),
                         yg_value_int(yg_map_get(s, "requests"))};
    yg_value_destroy(&s);
    return st;
}

static void server_reset(const char *server)
{
    yg_value_t *r = control(server, "POST", "/reset");
    yg_value_destroy(&r);
}

/* --- mode "provider": the provider layer alone on one loop ----------------- */

typedef struct {
    zloop_t *loop;
    yg_evloop_t *ev;
    yg_providers_t *providers;
    yg_llm_client_t *client;
    long pending;
    long failed;
    char first_error[YG_ERROR_MESSAGE_MAX];
} prov_t;

static void prov_done(void *arg, const yg_llm_reply_t *reply, const yg_llm_failure_t *failure)
{
    prov_t *p = arg;
    p->pending--;
    if (!reply || strcmp(reply->text, W4_FIXED_REPLY) != 0) {
        if (!p->failed++)
            snprintf(p->first_error, sizeof p->first_error, "%s",
                     failure ? failure->message : reply->text);
    }
}

static int prov_check(zloop_t *loop, int id, void *arg)
{
    (void)loop;
    (void)id;
    return ((prov_t *)arg)->pending <= 0 ? -1 : 0;
}

static void prov_burst(prov_t *p, long first, long count)
{
    yg_llm_callbacks_t cb = {NULL, prov_done};
    for (long k = first; k < first + count; k++) {
        char q[64];
        snprintf(q, sizeof q, "question %ld", k);
        yg_value_t *msg = yg_map_new();
        yg_map_set(msg, "role", yg_str_new("user"));
        yg_map_set(msg, "content", yg_str_new(q));
        yg_value_t *msgs = yg_list_new();
        yg_list_append(msgs, msg);
        yg_llm_request_t req = {.provider = "openai", .temperature = 0.7, .messages = msgs,
                                .prompt_name = "w4_question"};
        if (!yg_llm_call_start(p->client, &req, &cb, p))
            bench_die("out of memory starting call %ld", k);
        p->pending++;
        yg_value_destroy(&msgs);
    }
    int id = zloop_timer(p->loop, 1, 0, prov_check, p);
    zloop_start(p->loop);
    zloop_timer_end(p->loop, id);
    if (p->pending > 0)
        bench_die("%ld calls did not finish", p->pending);
    if (p->failed)
        bench_die("%ld calls failed; first: %s", p->failed, p->first_error);
}

/* --- mode "runtime": through the coordinator and the node actor ------------ */

typedef struct {
    yg_client_t *client;
    yg_graph_t *graph;
    long pending;
    long failed;
    char first_error[YG_ERROR_MESSAGE_MAX];
} rt_t;

static void rt_done(const yg_result_t *r, void *arg)
{
    rt_t *b = arg;
    b->pending--;
    const char *reply = yg_value_str(yg_map_get(r->state, "reply"));
    if (r->status != YG_RUN_COMPLETED || !reply || strcmp(reply, W4_FIXED_REPLY) != 0) {
        if (!b->failed++) {
            char *state = yg_result_compat_json(r, false);
            snprintf(b->first_error, sizeof b->first_error, "status %s: %.400s (state %.400s)",
                     yg_run_status_name(r->status), r->error.message, state ? state : "?");
            free(state);
        }
    }
}

static void rt_burst(rt_t *b, const char *prefix, long first, long count)
{
    for (long k = first; k < first + count; k++) {
        char q[64], thread[64];
        snprintf(q, sizeof q, "question %ld", k);
        snprintf(thread, sizeof thread, "w4-%s-%ld", prefix, k);
        yg_value_t *input = yg_map_new();
        yg_map_set(input, "prompt", yg_str_new(q));
        yg_run_opts_t opts = {.thread_id = thread};
        int64_t id = yg_run_graph_async(b->client, b->graph, input, &opts, rt_done, b);
        yg_value_destroy(&input);
        if (id <= 0)
            bench_die("submit failed: %s", yg_strerror((int)id));
        b->pending++;
    }
    while (b->pending > 0) {
        int rc = yg_client_wait(b->client, BENCH_WAIT_MS);
        if (rc < 0)
            bench_die("client wait failed: %d", rc);
        if (rc == 0 && b->pending > 0)
            bench_die("%ld runs got no result within %d ms", b->pending, BENCH_WAIT_MS);
    }
    if (b->failed)
        bench_die("%ld runs failed; first: %s", b->failed, b->first_error);
}

/* --- main ------------------------------------------------------------------- */

static void raise_fd_limit(long c)
{
    /* One socket per concurrent request (+ the runtime's own): use the
     * hard limit (20000 on this machine). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < c + 256)
        bench_die("open-file limit %ld is too low for %ld concurrent requests",
                  (long)rl.rlim_cur, c);
}

int main(int argc, char **argv)
{
    long c = 1000;
    const char *mode = "runtime";
    const char *given_server = NULL;
    const char *given_graph = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--c") == 0 && i + 1 < argc)
            c = bench_arg_long(argv[++i], 1, W4_MAX_C, "--c");
        else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
            mode = argv[++i];
        else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc)
            given_server = argv[++i];
        else if (strcmp(argv[i], "--graph") == 0 && i + 1 < argc)
            given_graph = argv[++i];
        else
            bench_die("usage: bench_w4 [--c N] [--mode runtime|provider] [--server URL] "
                      "[--graph PATH]");
    }
    bool runtime_mode = strcmp(mode, "runtime") == 0;
    if (!runtime_mode && strcmp(mode, "provider") != 0)
        bench_die("--mode must be runtime or provider");
    raise_fd_limit(c);
    signal(SIGPIPE, SIG_IGN);

    char server[256];
    if (given_server)
        snprintf(server, sizeof server, "%s", given_server);
    else
        server_spawn(server, sizeof server);
    atexit(server_stop);
    char base[512];
    snprintf(base, sizeof base, "%s/v1?delay_ms=%d", server, W4_DELAY_MS);
    setenv("OPENAI_BASE_URL", base, 1);
    setenv("OPENAI_MODEL", "fake-model", 1);
    setenv("LLM_MAX_RETRIES", "1", 1);  /* a failure must show, not be retried away */

    prov_t p = {0};
    rt_t b = {0};
    yg_runtime_t *rt = NULL;
    if (runtime_mode) {
        yg_runtime_opts_t o;
        yg_runtime_opts_init(&o);
        o.log_level = YG_LOG_ERROR;
        o.max_concurrency = (int)c;  /* every run of a burst in flight at once */
        yg_error_t err = {0};
        rt = yg_runtime_new(&o, &err);
        if (!rt)
            bench_die("runtime: %s", err.message);
        char graph[BENCH_PATH_MAX];
        bench_graph_path(graph, sizeof graph, given_graph, "w4_llm.yaml");
        b.graph = bench_load(rt, graph);
        b.client = yg_client_new(rt);
        if (!b.client)
            bench_die("cannot create a client");
        for (long k = 0; k < W4_WARMUP; k++)
            rt_burst(&b, "warm", k, 1);
    } else {
        p.loop = zloop_new();
        p.ev = yg_evloop_new(p.loop);
        p.providers = yg_providers_new(NULL, NULL);
        if (yg_providers_register_http(p.providers) != YG_OK)
            bench_die("cannot register the HTTP providers");
        p.client = yg_llm_client_new(p.providers, p.ev);
        if (!p.client)
            bench_die("cannot create the LLM client");
        for (long k = 0; k < W4_WARMUP; k++)
            prov_burst(&p, k, 1);
    }

    double base_rss = bench_rss_reset();
    server_reset(server);
    double t0 = bench_now_s();
    if (runtime_mode)
        rt_burst(&b, "cold", 0, c);
    else
        prov_burst(&p, 0, c);
    double wall = bench_now_s() - t0;
    server_stats_t cold = server_stats(server);

    server_reset(server);
    t0 = bench_now_s();
    if (runtime_mode)
        rt_burst(&b, "hot", c, c);
    else
        prov_burst(&p, c, c);
    double warm_wall = bench_now_s() - t0;
    server_stats_t warm = server_stats(server);
    double peak = bench_peak_rss();

    if (cold.requests != c || warm.requests != c)
        bench_die("the server saw %lld and %lld requests, wanted %ld each",
                  (long long)cold.requests, (long long)warm.requests, c);
    printf("%s c=%ld wall_s=%.4f warm_wall_s=%.4f runs_per_s=%.0f peak_rss_mb=%.1f "
           "base_rss_mb=%.1f llm_max_inflight=%lld llm_server_cpu_ms=%.0f "
           "llm_server_cpu_ms_warm=%.0f\n",
           runtime_mode ? (c >= 10000 ? "W4big" : "W4")
                        : (c >= 10000 ? "W4big-provider-only" : "W4-provider-only"),
           c, wall, warm_wall, (double)c / wall, peak, base_rss, (long long)cold.max_inflight,
           cold.cpu_ms, warm.cpu_ms);
    fflush(stdout);

    if (runtime_mode) {
        yg_client_destroy(&b.client);
        yg_runtime_destroy(&rt);
    } else {
        yg_llm_client_destroy(&p.client);
        yg_providers_destroy(&p.providers);
        yg_evloop_destroy(&p.ev);
        zloop_destroy(&p.loop);
    }
    return 0;
}
