/*
 * test_ckpt_crash.c - durability of the file checkpoint store: a process
 * killed while saving loses nothing it acknowledged; torn and damaged
 * tails are recovered; damage in the middle is refused; the file lock
 * holds across processes and dies with its holder.
 *
 * The record layout walked here is the documented one (docs/checkpoints.md):
 * an 8-byte file header, then records of [u32 length][u32 crc(length)]
 * [u32 crc(payload)][payload].
 */
#include "testutil_ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FILE_HEADER 8
#define RECORD_HEADER 12
/* Saves the child keeps in flight (so group commits happen). */
#define CHILD_IN_FLIGHT 4
/* Acknowledgements the parent waits for before killing the child. */
#define ACKS_BEFORE_KILL 60
#define CRASH_THREAD "crash"

/* --- helpers ------------------------------------------------------------- */

/* Ids the parent can predict: zero-padded step numbers sort in order. */
static void step_id(char *buf, size_t size, int64_t step)
{
    snprintf(buf, size, "step-%010lld", (long long)step);
}

static yg_checkpoint_t *step_ckpt(const char *thread, int64_t step)
{
    yg_checkpoint_t *c = yg_checkpoint_new(thread, "");
    char id[64];
    step_id(id, sizeof id, step);
    c->id = strdup(id);
    if (step > 0) {
        step_id(id, sizeof id, step - 1);
        c->parent_id = strdup(id);
    }
    c->step = step;
    yg_map_set(c->values, "counter", yg_int_new(step));
    /* A key that changes every 7 steps and one that never changes. */
    yg_map_set(c->values, "slow", yg_int_new(step / 7));
    yg_map_set(c->values, "fixed", yg_str_new("constant value kept by reference"));
    c->interrupts = yg_list_new();
    yg_value_t *interrupt = yg_map_new();
    yg_map_set(interrupt, "id", yg_str_newf("ask:%lld", (long long)step));
    yg_map_set(interrupt, "node", yg_str_new("ask"));
    yg_map_set(interrupt, "value", yg_str_newf("question %lld", (long long)step));
    yg_list_append(c->interrupts, interrupt);
    return c;
}

static yg_ckpt_t *open_store(zloop_t *loop, const char *name)
{
    yg_error_t err = {0};
    yg_ckpt_t *store = yg_ckpt_file_new(loop, store_path(name), &err);
    ck_assert_msg(store != NULL, "open %s: %s", name, err.message);
    return store;
}

static yg_checkpoint_t *load_step(yg_ckpt_t *store, zloop_t *loop, const char *thread,
                                  int64_t step, int *status)
{
    char id[64];
    ctx_t ctx = {.pending = 1};
    if (step < 0) {
        ck_assert_int_eq(yg_ckpt_load_latest(store, thread, "", on_load, &ctx), YG_OK);
    } else {
        step_id(id, sizeof id, step);
        ck_assert_int_eq(yg_ckpt_load(store, thread, "", id, on_load, &ctx), YG_OK);
    }
    wait_all(loop, &ctx);
    *status = ctx.status;
    return ctx.loaded;
}

static size_t count_history(yg_ckpt_t *store, zloop_t *loop, const char *thread)
{
    ctx_t ctx = {.pending = 1};
    ck_assert_int_eq(yg_ckpt_list(store, thread, "", 0, on_list, &ctx), YG_OK);
    wait_all(loop, &ctx);
    ck_assert_int_eq(ctx.status, YG_OK);
    size_t n = yg_list_size(ctx.history);
    yg_value_destroy(&ctx.history);
    return n;
}

/* Assert the checkpoint of step is present and exactly what was saved. */
static void assert_step(yg_ckpt_t *store, zloop_t *loop, const char *thread, int64_t step)
{
    int status = 0;
    yg_checkpoint_t *got = load_step(store, loop, thread, step, &status);
    ck_assert_msg(got != NULL, "step %lld missing (status %d)", (long long)step, status);
    yg_checkpoint_t *want = step_ckpt(thread, step);
    ck_assert_int_eq(got->step, step);
    ck_assert(yg_value_equal(got->values, want->values));
    ck_assert(yg_value_equal(got->interrupts, want->interrupts));
    yg_checkpoint_destroy(&want);
    yg_checkpoint_destroy(&got);
}

/* Save steps [0, n) one after another. */
static void save_steps(yg_ckpt_t *store, zloop_t *loop, const char *thread, int64_t from,
                       int64_t n)
{
    ctx_t ctx = {0};
    for (int64_t s = from; s < from + n; s++) {
        yg_checkpoint_t *c = step_ckpt(thread, s);
        ctx.pending++;
        ck_assert_int_eq(yg_ckpt_save(store, c, on_done, &ctx), YG_OK);
        yg_checkpoint_destroy(&c);
        wait_all(loop, &ctx);
        ck_assert_int_eq(ctx.status, YG_OK);
    }
}

static off_t size_of(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_size;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Offsets of every record in the file (at most max); returns the count. */
static size_t record_offsets(const char *path, off_t *offsets, size_t max)
{
    size_t len = 0;
    unsigned char *data = (unsigned char *)testutil_read_file(path, &len);
    ck_assert_ptr_nonnull(data);
    size_t n = 0;
    for (size_t off = FILE_HEADER; off + RECORD_HEADER <= len && n < max;) {
        offsets[n++] = (off_t)off;
        off += RECORD_HEADER + le32(data + off);
    }
    free(data);
    return n;
}

static void patch_file(const char *path, off_t offset, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, bytes, n, offset), (ssize_t)n);
    close(fd);
}

/* --- the child that gets killed ------------------------------------------ */

typedef struct {
    yg_ckpt_t *store;
    int ack_fd;
    int64_t next_step;
} child_t;

static void child_save_next(child_t *child);

static void child_on_saved(int status, const yg_error_t *err, void *arg)
{
    child_t *child = arg;
    if (status != YG_OK)
        _exit(3);
    /* The step is acknowledged: tell the parent (steps complete in order,
     * so the parent can recover the number from the count too). */
    static int64_t acked = 0;
    if (write(child->ack_fd, &acked, sizeof acked) != (ssize_t)sizeof acked)
        _exit(4);
    acked++;
    child_save_next(child);
}

static void child_save_next(child_t *child)
{
    yg_checkpoint_t *c = step_ckpt(CRASH_THREAD, child->next_step++);
    if (yg_ckpt_save(child->store, c, child_on_saved, child) != YG_OK)
        _exit(5);
    yg_checkpoint_destroy(&c);
}

static void child_main(const char *path, int ack_fd)
{
    zsys_handler_set(NULL);
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    child_t child = {.ack_fd = ack_fd};
    child.store = yg_ckpt_file_new(loop, path, &err);
    if (!child.store)
        _exit(2);
    for (int i = 0; i < CHILD_IN_FLIGHT; i++)
        child_save_next(&child);
    zloop_start(loop); /* runs until SIGKILL */
    _exit(6);
}

/* --- tests ------------------------------------------------------------------- */

START_TEST(test_kill_during_saves)
{
    const char *path = store_path("kill");
    unlink(path);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        child_main(path, fds[1]);
    }
    close(fds[1]);
    int64_t acked = -1, value;
    int count = 0;
    while (count < ACKS_BEFORE_KILL && read(fds[0], &value, sizeof value) == sizeof value) {
        ck_assert_int_eq(value, acked + 1);
        acked = value;
        count++;
    }
    ck_assert_int_eq(count, ACKS_BEFORE_KILL);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ck_assert_int_eq(waitpid(pid, &wstatus, 0), pid);
    ck_assert(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL);
    /* Acknowledgements already in the pipe count too. */
    while (read(fds[0], &value, sizeof value) == sizeof value) {
        ck_assert_int_eq(value, acked + 1);
        acked = value;
    }
    close(fds[0]);

    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = open_store(loop, "kill");
    for (int64_t s = 0; s <= acked; s++)
        assert_step(store, loop, CRASH_THREAD, s);
    /* The newest record is whole: at least the last acknowledged step,
     * plus at most the saves that were in flight. */
    int status;
    yg_checkpoint_t *latest = load_step(store, loop, CRASH_THREAD, -1, &status);
    ck_assert_ptr_nonnull(latest);
    ck_assert_int_ge(latest->step, acked);
    ck_assert_int_le(latest->step, acked + CHILD_IN_FLIGHT);
    size_t history = count_history(store, loop, CRASH_THREAD);
    ck_assert_uint_eq(history, (size_t)latest->step + 1);
    /* And the thread carries on. */
    save_steps(store, loop, CRASH_THREAD, latest->step + 1, 3);
    yg_checkpoint_destroy(&latest);
    yg_ckpt_destroy(&store);
    store = open_store(loop, "kill");
    assert_step(store, loop, CRASH_THREAD, (int64_t)history + 2);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

/* Write 20 steps, close, damage the tail in a given way, reopen. */
#define TAIL_STEPS 20

static void write_twenty(const char *name)
{
    unlink(store_path(name));
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = open_store(loop, name);
    save_steps(store, loop, "tail", 0, TAIL_STEPS);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}

/* Reopen; expect steps [0, last] present and nothing after; the file is
 * cut back to expect_size; a new save then works. */
static void expect_recovered(const char *name, int64_t last, off_t expect_size)
{
    zloop_t *loop = zloop_new();
    yg_ckpt_t *store = open_store(loop, name);
    ck_assert_int_eq(size_of(store_path(name)), expect_size);
    for (int64_t s = 0; s <= last; s++)
        assert_step(store, loop, "tail", s);
    int status;
    yg_checkpoint_t *latest = load_step(store, loop, "tail", -1, &status);
    ck_assert_int_eq(latest->step, last);
    yg_checkpoint_destroy(&latest);
    ck_assert_uint_eq(count_history(store, loop, "tail"), (size_t)last + 1);
    save_steps(store, loop, "tail", last + 1, 1);
    yg_ckpt_destroy(&store);
    store = open_store(loop, name);
    assert_step(store, loop, "tail", last + 1);
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}

START_TEST(test_torn_last_record)
{
    write_twenty("torn");
    const char *path = store_path("torn");
    off_t offsets[64];
    size_t n = record_offsets(path, offsets, 64);
    ck_assert_uint_eq(n, TAIL_STEPS);
    /* Cut the last record in the middle of its payload. */
    off_t full = size_of(path);
    ck_assert_int_eq(truncate(path, full - 5), 0);
    expect_recovered("torn", TAIL_STEPS - 2, offsets[TAIL_STEPS - 1]);
}
END_TEST

START_TEST(test_torn_header)
{
    write_twenty("header");
    const char *path = store_path("header");
    off_t full = size_of(path);
    /* Three bytes of a next header, then a full header with no payload. */
    patch_file(path, full, "\x40\x00\x00", 3);
    expect_recovered("header", TAIL_STEPS - 1, full);
    full = size_of(path);
    off_t offsets[64];
    size_t n = record_offsets(path, offsets, 64);
    size_t len = 0;
    char *data = testutil_read_file(path, &len);
    /* Re-append the last record's header only (its payload never landed). */
    patch_file(path, full, data + offsets[n - 1], RECORD_HEADER);
    free(data);
    expect_recovered("header", TAIL_STEPS, full);
}
END_TEST

START_TEST(test_zero_tail)
{
    write_twenty("zeros");
    const char *path = store_path("zeros");
    off_t full = size_of(path);
    char zeros[4096] = {0};
    patch_file(path, full, zeros, sizeof zeros);
    expect_recovered("zeros", TAIL_STEPS - 1, full);
}
END_TEST

START_TEST(test_flipped_last_record)
{
    write_twenty("flip");
    const char *path = store_path("flip");
    off_t offsets[64];
    ck_assert_uint_eq(record_offsets(path, offsets, 64), TAIL_STEPS);
    off_t full = size_of(path);
    unsigned char byte = 0x5a;
    patch_file(path, full - 3, &byte, 1);
    expect_recovered("flip", TAIL_STEPS - 2, offsets[TAIL_STEPS - 1]);
}
END_TEST

/* Damage in the middle is not a torn write: refuse to open, touch nothing. */
START_TEST(test_middle_damage_refused)
{
    const char *what[] = {"payload", "length"};
    for (int k = 0; k < 2; k++) {
        write_twenty("middle");
        const char *path = store_path("middle");
        off_t offsets[64];
        ck_assert_uint_eq(record_offsets(path, offsets, 64), TAIL_STEPS);
        off_t full = size_of(path);
        unsigned char byte = 0xff;
        off_t at = k == 0 ? offsets[7] + RECORD_HEADER + 5 : offsets[7] + 1;
        patch_file(path, at, &byte, 1);
        zloop_t *loop = zloop_new();
        yg_error_t err = {0};
        ck_assert_msg(yg_ckpt_file_new(loop, path, &err) == NULL, "%s damage accepted", what[k]);
        ck_assert_int_eq(err.code, YG_EPARSE);
        ck_assert_ptr_nonnull(strstr(err.message, "corrupt record at offset"));
        ck_assert_int_eq(size_of(path), full);
        zloop_destroy(&loop);
    }
}
END_TEST

/* The lock is per process and released when its holder dies. */
START_TEST(test_lock_across_processes)
{
    const char *path = store_path("lockproc");
    unlink(path);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        zsys_handler_set(NULL);
        zloop_t *loop = zloop_new();
        yg_error_t err = {0};
        yg_ckpt_t *store = yg_ckpt_file_new(loop, path, &err);
        char ok = store ? 'y' : 'n';
        if (write(fds[1], &ok, 1) != 1)
            _exit(2);
        pause();
        _exit(0);
    }
    close(fds[1]);
    char ok = 0;
    ck_assert_int_eq(read(fds[0], &ok, 1), 1);
    ck_assert_int_eq(ok, 'y');
    zloop_t *loop = zloop_new();
    yg_error_t err = {0};
    ck_assert_ptr_null(yg_ckpt_file_new(loop, path, &err));
    ck_assert_int_eq(err.code, YG_EBUSY);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fds[0]);
    yg_ckpt_t *store = open_store(loop, "lockproc");
    yg_ckpt_destroy(&store);
    zloop_destroy(&loop);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("ckpt_crash");
    TCase *tc = tcase_create("crash");
    tcase_add_test(tc, test_kill_during_saves);
    tcase_add_test(tc, test_torn_last_record);
    tcase_add_test(tc, test_torn_header);
    tcase_add_test(tc, test_zero_tail);
    tcase_add_test(tc, test_flipped_last_record);
    tcase_add_test(tc, test_middle_damage_refused);
    tcase_add_test(tc, test_lock_across_processes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(crash_suite(), 60);
}
