/*
 * bench_w5.c - workload W5 (bench/WORKLOADS): interrupt / resume with the
 * memory checkpointer, through the runtime's actors.  One cycle on thread
 * w5-mem-<k>:
 *   1. run {question: "q<k>"}  -> interrupted, payload "q<k>"
 *   2. resume "a<k>"           -> completed, result == "got:a<k>"
 * The resume goes through the checkpointer (the coordinator loads the
 * thread's latest checkpoint).  After the loop the last thread's state is
 * read back: result set, no next node.
 *
 *   bench_w5 [--cycles T] [--warmup W] [--graph PATH] [--durability sync|async]
 *   (default T 2000, W 100, durability sync: docs/checkpoints.md "Durability")
 *
 * Graph adaptations forced by the spec are described in
 * bench/graphs/w5_interrupt.yaml and bench/README.md.  Prints one line
 * (label W5-async with --durability async):
 *   W5 cycles_per_s=... ms_per_cycle=... peak_rss_mb=... base_rss_mb=...
 */
#include "bench_cycle.h"

int main(int argc, char **argv)
{
    const char *graph_arg = NULL;
    long cycles = 2000, warmup = 100;
    yg_durability_t durability = YG_DURABILITY_SYNC;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            bench_die("option %s needs a value (see the header of bench_w5.c)", argv[i]);
        if (!strcmp(argv[i], "--cycles"))
            cycles = bench_arg_long(argv[++i], 1, 10000000L, "--cycles");
        else if (!strcmp(argv[i], "--warmup"))
            warmup = bench_arg_long(argv[++i], 0, 10000000L, "--warmup");
        else if (!strcmp(argv[i], "--graph"))
            graph_arg = argv[++i];
        else if (!strcmp(argv[i], "--durability")) {
            if (yg_durability_parse(argv[++i], &durability) != YG_OK)
                bench_die("--durability must be sync or async");
        } else
            bench_die("unknown option %s", argv[i]);
    }
    if (yg_native_register("bench", "record", bench_cycle_record, NULL) != YG_OK)
        bench_die("cannot register bench.record");
    char path[BENCH_PATH_MAX];
    bench_graph_path(path, sizeof path, graph_arg, "w5_interrupt.yaml");
    yg_runtime_t *rt = bench_runtime(NULL);
    yg_graph_t *g = bench_load(rt, path);
    yg_client_t *c = yg_client_new(rt);
    if (!c)
        bench_die("out of memory");

    bench_cycle_t b = {.durability = durability, .label = "w5", .thread_prefix = "w5-mem-"};
    long k = 0;
    for (; k < warmup; k++)
        bench_cycle_run(c, g, &b, k);

    double base = bench_rss_reset();
    bench_usage_t u0 = bench_usage();
    double t0 = bench_now_s();
    for (long end = k + cycles; k < end; k++)
        bench_cycle_run(c, g, &b, k);
    double elapsed = bench_now_s() - t0;
    bench_usage_t u1 = bench_usage();
    double peak = bench_peak_rss();
    bench_cycle_check_last(c, g, &b, k - 1);

    printf("%s cycles_per_s=%.1f ms_per_cycle=%.4f peak_rss_mb=%.1f base_rss_mb=%.1f "
           "cycles=%ld cpu_us_per_cycle=%.1f csw_per_cycle=%.2f\n",
           durability == YG_DURABILITY_ASYNC ? "W5-async" : "W5", cycles / elapsed,
           elapsed * 1e3 / cycles, peak, base, cycles,
           (u1.cpu_s - u0.cpu_s) * 1e6 / cycles, (u1.csw - u0.csw) / cycles);
    yg_client_destroy(&c);
    yg_runtime_destroy(&rt);
    return 0;
}
