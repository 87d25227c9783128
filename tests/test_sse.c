/*
 * test_sse.c - the incremental Server-Sent Events parser (yg_sse.h):
 * field rules, line endings, BOM, limits, and every chunk boundary.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlgraph/yg_error.h"
#include "yg_sse.h"

/* Events are recorded as "event|id|retry|data\n" lines in a log. */
typedef struct {
    char *text;
    size_t len;
    int stop_after;  /* return 1 from the callback after this many events (0 = never) */
    int count;
} sse_log_t;

static int log_event(void *arg, const yg_sse_event_t *ev)
{
    sse_log_t *log = arg;
    ck_assert_uint_eq(strlen(ev->data), ev->data_len);  /* NUL-terminated at data_len */
    int n = snprintf(NULL, 0, "%s|%s|%lld|%s\n", ev->event, ev->id, (long long)ev->retry_ms,
                     ev->data);
    log->text = realloc(log->text, log->len + (size_t)n + 1);
    ck_assert_ptr_nonnull(log->text);
    snprintf(log->text + log->len, (size_t)n + 1, "%s|%s|%lld|%s\n", ev->event, ev->id,
             (long long)ev->retry_ms, ev->data);
    log->len += (size_t)n;
    log->count++;
    return log->stop_after && log->count >= log->stop_after ? 1 : 0;
}

/* Parse `input` split at the given cut points; returns the malloc'd log. */
static char *parse_cuts(const char *input, size_t len, const size_t *cuts, size_t ncuts,
                        bool *pending)
{
    sse_log_t log = {0};
    yg_sse_t *p = yg_sse_new(log_event, &log);
    ck_assert_ptr_nonnull(p);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : len;
        ck_assert_int_eq(yg_sse_feed(p, input + at, end - at), 0);
        at = end;
    }
    bool pend = yg_sse_finish(p);
    if (pending)
        *pending = pend;
    yg_sse_destroy(&p);
    ck_assert_ptr_null(p);
    return log.text ? log.text : strdup("");
}

static char *parse_all(const char *input, bool *pending)
{
    return parse_cuts(input, strlen(input), NULL, 0, pending);
}

static void expect(const char *input, const char *want)
{
    char *got = parse_all(input, NULL);
    ck_assert_msg(strcmp(got, want) == 0, "input <%s>: got <%s>, want <%s>", input, got, want);
    free(got);
}

START_TEST(test_basic_fields)
{
    expect("data: hello\n\n", "message||-1|hello\n");
    expect("data:hello\n\n", "message||-1|hello\n");        /* no space */
    expect("data:  two\n\n", "message||-1| two\n");         /* only one space removed */
    expect("data: a\ndata: b\ndata:\n\n", "message||-1|a\nb\n\n");
    expect("event: delta\ndata: x\n\ndata: y\n\n", "delta||-1|x\nmessage||-1|y\n");
    expect(": keep-alive comment\ndata: x\n\n", "message||-1|x\n");
    expect(":\n\n", "");                                     /* comment only */
    expect("event: ping\n\n", "");                           /* no data: no event */
    expect("event: ping\n\ndata: x\n\n", "message||-1|x\n"); /* type reset after a dropped event */
    expect("data\n\n", "message||-1|\n");                    /* field without colon */
    expect("data\ndata\n\n", "message||-1|\n\n");
    expect("foo: bar\ndata: x\n\n", "message||-1|x\n");      /* unknown field ignored */
    expect("Data: x\n\n", "");                               /* names are case-sensitive */
    expect("\n\n\ndata: x\n\n\n", "message||-1|x\n");
}
END_TEST

START_TEST(test_id_and_retry)
{
    expect("id: 7\nretry: 1500\ndata: x\n\n", "message|7|1500|x\n");
    /* id persists across events; retry ignored unless all digits. */
    expect("id: a\ndata: 1\n\nretry: 15x\ndata: 2\n\nretry:\ndata: 3\n\n",
           "message|a|-1|1\nmessage|a|-1|2\nmessage|a|-1|3\n");
    expect("retry: 99999999999999999999\ndata: x\n\n", "message||-1|x\n"); /* too long */
    expect("id: 1\ndata: a\n\nid\ndata: b\n\n", "message|1|-1|a\nmessage||-1|b\n");
    /* An id containing NUL is ignored. */
    const char in[] = "id: 5\ndata: a\n\nid: x\0y\ndata: b\n\n";
    char *got = parse_cuts(in, sizeof in - 1, NULL, 0, NULL);
    ck_assert_str_eq(got, "message|5|-1|a\nmessage|5|-1|b\n");
    free(got);
}
END_TEST

START_TEST(test_line_endings)
{
    expect("data: a\r\n\r\n", "message||-1|a\n");
    expect("data: a\r\rdata: b\r\r", "message||-1|a\nmessage||-1|b\n");
    expect("data: a\r\ndata: b\rdata: c\n\r\n", "message||-1|a\nb\nc\n");
    /* CR LF is one line end, LF CR is two. */
    expect("data: a\n\rdata: b\n\n", "message||-1|a\nmessage||-1|b\n");
}
END_TEST

START_TEST(test_bom)
{
    expect("\xEF\xBB\xBF" "data: x\n\n", "message||-1|x\n");
    /* Only at the very start: a second BOM makes an unknown field. */
    expect("\xEF\xBB\xBF\xEF\xBB\xBF" "data: x\n\ndata: y\n\n", "message||-1|y\n");
    /* A partial BOM is text. */
    expect("\xEF" "data: x\n\ndata: y\n\n", "message||-1|y\n");
}
END_TEST

START_TEST(test_partial_at_end)
{
    bool pending = false;
    char *got = parse_all("data: x\n\ndata: unterminated\n", &pending);
    ck_assert_str_eq(got, "message||-1|x\n");
    ck_assert(pending);
    free(got);
    got = parse_all("data: x\n\ndata: half", &pending);
    ck_assert_str_eq(got, "message||-1|x\n");
    ck_assert(pending);
    free(got);
    got = parse_all("data: x\n\n", &pending);
    ck_assert(!pending);
    free(got);
}
END_TEST

/* Real provider streams, and splitting them at every boundary (one cut,
 * then every pair of cuts, then byte by byte) gives the same events. */
static const char *const SAMPLES[] = {
    "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\r\n\r\n"
    "data: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\r\n\r\n"
    ": OPENROUTER PROCESSING\r\n\r\n"
    "data: [DONE]\r\n\r\n",
    "\xEF\xBB\xBF" "event: message_start\ndata: {\"type\":\"message_start\"}\n\n"
    "event: content_block_delta\ndata: {\"delta\":{\"text\":\"Hi\"}}\n\n"
    "event: ping\ndata: {}\n\n"
    "event: error\ndata: {\"type\":\"error\",\n"
    "data: \"error\":{\"message\":\"Overloaded\"}}\n\n",
    "id: 1\rretry: 20\revent: x\rdata: a\r\rdata\r\n:c\r\n\r\ndata: b\n\r\n",
};

START_TEST(test_every_chunk_boundary)
{
    for (size_t s = 0; s < sizeof SAMPLES / sizeof SAMPLES[0]; s++) {
        const char *in = SAMPLES[s];
        size_t len = strlen(in);
        char *want = parse_all(in, NULL);
        ck_assert_msg(strlen(want) > 0, "sample %zu gives events", s);
        for (size_t a = 0; a <= len; a++) {
            size_t cut[1] = {a};
            char *got = parse_cuts(in, len, cut, 1, NULL);
            ck_assert_msg(strcmp(got, want) == 0, "sample %zu cut at %zu: <%s> != <%s>", s, a,
                          got, want);
            free(got);
            for (size_t b = a; b <= len && len < 200; b += 1) {
                size_t cuts[2] = {a, b};
                got = parse_cuts(in, len, cuts, 2, NULL);
                ck_assert_msg(strcmp(got, want) == 0, "sample %zu cuts %zu,%zu", s, a, b);
                free(got);
            }
        }
        size_t *bytes = malloc(len * sizeof *bytes);
        for (size_t i = 0; i < len; i++)
            bytes[i] = i;
        char *got = parse_cuts(in, len, bytes, len, NULL);
        ck_assert_str_eq(got, want);
        free(got);
        free(bytes);
        free(want);
    }
}
END_TEST

START_TEST(test_expected_samples)
{
    char *got = parse_all(SAMPLES[0], NULL);
    ck_assert_str_eq(got, "message||-1|{\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n"
                          "message||-1|{\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n"
                          "message||-1|[DONE]\n");
    free(got);
    got = parse_all(SAMPLES[1], NULL);
    ck_assert_str_eq(got, "message_start||-1|{\"type\":\"message_start\"}\n"
                          "content_block_delta||-1|{\"delta\":{\"text\":\"Hi\"}}\n"
                          "ping||-1|{}\n"
                          "error||-1|{\"type\":\"error\",\n\"error\":{\"message\":\"Overloaded\"}}\n");
    free(got);
    got = parse_all(SAMPLES[2], NULL);
    ck_assert_str_eq(got, "x|1|20|a\nmessage|1|20|\nmessage|1|20|b\n");
    free(got);
}
END_TEST

START_TEST(test_callback_stop)
{
    sse_log_t log = {.stop_after = 2};
    yg_sse_t *p = yg_sse_new(log_event, &log);
    const char *in = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    ck_assert_int_eq(yg_sse_feed(p, in, strlen(in)), 1);
    ck_assert_int_eq(log.count, 2);
    yg_sse_destroy(&p);
    free(log.text);
}
END_TEST

START_TEST(test_limits)
{
    sse_log_t log = {0};
    yg_sse_t *p = yg_sse_new(log_event, &log);
    size_t chunk = 1024 * 1024;
    char *big = malloc(chunk);
    memset(big, 'a', chunk);
    memcpy(big, "data: ", 6);
    int rc = 0;
    for (size_t sent = 0; sent <= YG_SSE_MAX_LINE && rc == 0; sent += chunk)
        rc = yg_sse_feed(p, big, chunk);
    ck_assert_int_eq(rc, YG_ELIMIT);
    yg_sse_destroy(&p);

    /* Many data lines: the event bound applies across lines. */
    p = yg_sse_new(log_event, &log);
    big[chunk - 1] = '\n';
    rc = 0;
    for (size_t sent = 0; sent <= YG_SSE_MAX_EVENT && rc == 0; sent += chunk)
        rc = yg_sse_feed(p, big, chunk);
    ck_assert_int_eq(rc, YG_ELIMIT);
    ck_assert_int_eq(log.count, 0);
    yg_sse_destroy(&p);
    free(big);

    ck_assert_ptr_null(yg_sse_new(NULL, NULL));
    ck_assert_int_eq(yg_sse_feed(NULL, "x", 1), YG_EINVAL);
}
END_TEST

START_TEST(test_reset_keeps_id)
{
    sse_log_t log = {0};
    yg_sse_t *p = yg_sse_new(log_event, &log);
    const char *a = "id: 42\ndata: a\n\ndata: partial";
    ck_assert_int_eq(yg_sse_feed(p, a, strlen(a)), 0);
    yg_sse_reset(p);
    const char *b = "\xEF\xBB\xBF" "data: b\n\n";
    ck_assert_int_eq(yg_sse_feed(p, b, strlen(b)), 0);
    ck_assert_str_eq(log.text, "message|42|-1|a\nmessage|42|-1|b\n");
    yg_sse_destroy(&p);
    free(log.text);
}
END_TEST

static Suite *sse_suite(void)
{
    Suite *s = suite_create("sse");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_basic_fields);
    tcase_add_test(tc, test_id_and_retry);
    tcase_add_test(tc, test_line_endings);
    tcase_add_test(tc, test_bom);
    tcase_add_test(tc, test_partial_at_end);
    tcase_add_test(tc, test_every_chunk_boundary);
    tcase_add_test(tc, test_expected_samples);
    tcase_add_test(tc, test_callback_stop);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_reset_keeps_id);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(sse_suite(), 60);
}
