/*
 * text_tools_worker.c - a worker process that serves `type: python` tools
 * with C functions (yg_native.h) to a remote coordinator (yg_worker_api.h).
 *
 * graphs/python-worker/graph.yaml names the tool
 *   word_stats: {type: python, module: text_tools, function: word_stats}
 * The coordinator runs everything else and leaves that node to workers:
 *   yamlgraph serve graphs/python-worker/graph.yaml --bind tcp://10.0.0.5:5555 \
 *       --workers tcp://10.0.0.5:5560 --remote-nodes stats
 * and this program, on any host, serves it:
 *   cc -o text-tools-worker text_tools_worker.c $(pkg-config --cflags --libs yamlgraph)
 *   ./text-tools-worker graphs/python-worker/graph.yaml tcp://10.0.0.5:5560
 *
 * Functions run on the node actor's thread: no blocking I/O in them.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <yamlgraph/yamlgraph.h>
#include <yamlgraph/yg_native.h>
#include <yamlgraph/yg_worker_api.h>

/* word_stats(state) -> {stats: {words, sentences}}: a map is the node's
 * state update as-is (spec 4.8). */
static yg_value_t *word_stats(const yg_value_t *state, void *arg, yg_error_t *err)
{
    (void)arg;
    const char *text = yg_value_str(yg_map_get(state, "input"));
    if (!text) {
        yg_error_set(err, YG_EINVAL, "word_stats needs a string state.input");
        return NULL;
    }
    int64_t words = 0, sentences = 0;
    bool in_word = false;
    for (const char *p = text; *p; p++) {
        bool space = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
        if (!space && !in_word)
            words++;
        in_word = !space;
        if (*p == '.' || *p == '!' || *p == '?')
            sentences++;
    }
    yg_value_t *stats = yg_map_new();
    yg_map_set(stats, "words", yg_int_new(words));
    yg_map_set(stats, "sentences", yg_int_new(sentences));
    yg_value_t *update = yg_map_new();
    yg_map_set(update, "stats", stats);
    return update;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s GRAPH tcp://COORDINATOR:PORT [NODES]\n", argv[0]);
        return 2;
    }
    if (yg_native_register("text_tools", "word_stats", word_stats, NULL) != YG_OK)
        return 1;
    /* SIGINT/SIGTERM: blocked in every thread (set before the worker starts
     * its threads) and waited for here */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    yg_worker_opts_t o;
    yg_worker_opts_init(&o);
    o.nodes = argc > 3 ? argv[3] : NULL;
    o.worker_id = "text-tools";
    o.disable_signal_handlers = true;
    yg_error_t err = { 0 };
    yg_worker_t *w = yg_worker_new(argv[1], argv[2], &o, &err);
    if (!w) {
        fprintf(stderr, "text-tools-worker: %s\n", err.message);
        return 1;
    }
    printf("serving text_tools.word_stats for %s\n", argv[2]);
    fflush(stdout);
    int rc = 0;
    for (;;) {
        struct timespec tick = { 0, 200 * 1000 * 1000 };
        if (sigtimedwait(&stop, NULL, &tick) > 0)
            break;
        if (yg_worker_status(w, &err) != YG_OK) { /* e.g. the coordinator rejected it */
            fprintf(stderr, "text-tools-worker: %s\n", err.message);
            rc = 1;
            break;
        }
    }
    yg_worker_destroy(&w); /* goodbye: the coordinator re-dispatches what was here */
    return rc;
}
