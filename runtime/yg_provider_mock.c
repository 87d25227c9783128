/*
 * yg_provider_mock.c - the deterministic offline provider.
 *
 * The script maps a prompt name to a list of replies consumed in order,
 * process-wide (one cursor per prompt, behind a mutex, because several node
 * actor threads may call the same prompt); the last reply repeats once the
 * list is exhausted.  See docs/mock-provider.md for the reply forms.
 *
 * The script value is never modified after construction and is only read
 * (copied) by calling threads; all mutable state is behind `lock`.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yg_provider.h"
#include "yg_schema.h"
#include "yg_yaml.h"

#define MOCK_KEY_DEFAULT "default"
#define MOCK_KEY_LATENCY "latency_ms"

struct yg_mock {
    atomic_int refs;
    pthread_mutex_t lock;
    yg_value_t *script;       /* prompt -> list of replies (normalised) */
    yg_value_t *fallback;     /* list of replies for unknown prompts, or NULL */
    int64_t latency_ms;
    /* guarded by lock: */
    yg_value_t *cursors;      /* prompt -> int (next index) */
    yg_value_t *counts;       /* prompt -> int */
    int64_t total;
    yg_value_t *log[YG_MOCK_LOG_MAX];
    size_t log_head;          /* index of the oldest entry */
    size_t log_size;
};

yg_mock_t *yg_mock_new(void)
{
    yg_mock_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    atomic_init(&self->refs, 1);
    pthread_mutex_init(&self->lock, NULL);
    self->script = yg_map_new();
    self->cursors = yg_map_new();
    self->counts = yg_map_new();
    if (!self->script || !self->cursors || !self->counts) {
        yg_mock_destroy(&self);
        return NULL;
    }
    return self;
}

/* Check one reply form; returns 0 or fills err. */
static int mock_check_reply(const char *prompt, const yg_value_t *r, yg_error_t *err)
{
    if (yg_value_type(r) != YG_MAP)
        return YG_OK;
    const yg_value_t *delay = yg_map_get(r, "delay_ms");
    if (delay) {
        if (yg_value_type(delay) != YG_INT || yg_value_int(delay) < 0
            || yg_value_int(delay) > YG_MOCK_MAX_DELAY_MS)
            return yg_error_set(err, YG_EVALIDATE,
                                "mock script: prompt '%s': delay_ms must be an integer 0..%d",
                                prompt, YG_MOCK_MAX_DELAY_MS);
        if (!yg_map_has(r, "reply"))
            return yg_error_set(err, YG_EVALIDATE,
                                "mock script: prompt '%s': delay_ms needs a 'reply'", prompt);
        return mock_check_reply(prompt, yg_map_get(r, "reply"), err);
    }
    const yg_value_t *e = yg_map_get(r, "error");
    if (e && yg_value_type(e) != YG_MAP && yg_value_type(e) != YG_STR)
        return yg_error_set(err, YG_EVALIDATE,
                            "mock script: prompt '%s': error must be {status, message}", prompt);
    const yg_value_t *calls = yg_map_get(r, "tool_calls");
    if (calls) {
        if (yg_value_type(calls) != YG_LIST)
            return yg_error_set(err, YG_EVALIDATE,
                                "mock script: prompt '%s': tool_calls must be a list", prompt);
        for (size_t i = 0; i < yg_list_size(calls); i++) {
            const yg_value_t *c = yg_list_get(calls, i);
            if (!yg_value_str(yg_map_get(c, "name")))
                return yg_error_set(err, YG_EVALIDATE,
                                    "mock script: prompt '%s': tool_calls[%zu] needs a name",
                                    prompt, i);
        }
    }
    const yg_value_t *tokens = yg_map_get(r, "tokens");
    if (tokens) {
        for (size_t i = 0; i < yg_list_size(tokens); i++)
            if (yg_value_type(yg_list_get(tokens, i)) != YG_STR)
                return yg_error_set(err, YG_EVALIDATE,
                                    "mock script: prompt '%s': tokens must be strings", prompt);
        if (yg_value_type(tokens) != YG_LIST)
            return yg_error_set(err, YG_EVALIDATE,
                                "mock script: prompt '%s': tokens must be a list", prompt);
    }
    return YG_OK;
}

/* A reply or a list of replies -> a list (copied). */
static yg_value_t *mock_normalise(const char *prompt, const yg_value_t *entry, yg_error_t *err)
{
    yg_value_t *list = yg_list_new();
    if (!list) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    if (yg_value_type(entry) == YG_LIST) {
        if (yg_list_size(entry) == 0) {
            yg_value_destroy(&list);
            yg_error_set(err, YG_EVALIDATE, "mock script: prompt '%s': empty reply list", prompt);
            return NULL;
        }
        for (size_t i = 0; i < yg_list_size(entry); i++) {
            if (mock_check_reply(prompt, yg_list_get(entry, i), err)) {
                yg_value_destroy(&list);
                return NULL;
            }
            yg_list_append(list, yg_value_copy(yg_list_get(entry, i)));
        }
    } else {
        if (mock_check_reply(prompt, entry, err)) {
            yg_value_destroy(&list);
            return NULL;
        }
        yg_list_append(list, yg_value_copy(entry));
    }
    return list;
}

yg_mock_t *yg_mock_new_from_value(const yg_value_t *script, yg_error_t *err)
{
    if (script && yg_value_type(script) != YG_MAP && !yg_value_is_null(script)) {
        yg_error_set(err, YG_EVALIDATE, "mock script: expected a map of prompt name -> replies");
        return NULL;
    }
    yg_mock_t *self = yg_mock_new();
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < yg_map_size(script); i++) {
        const char *key = yg_map_key_at(script, i);
        const yg_value_t *entry = yg_map_value_at(script, i);
        if (strcmp(key, MOCK_KEY_LATENCY) == 0) {
            if (yg_value_type(entry) != YG_INT || yg_value_int(entry) < 0
                || yg_value_int(entry) > YG_MOCK_MAX_DELAY_MS) {
                yg_error_set(err, YG_EVALIDATE, "mock script: latency_ms must be an integer 0..%d",
                             YG_MOCK_MAX_DELAY_MS);
                yg_mock_destroy(&self);
                return NULL;
            }
            self->latency_ms = yg_value_int(entry);
            continue;
        }
        yg_value_t *list = mock_normalise(key, entry, err);
        if (!list) {
            yg_mock_destroy(&self);
            return NULL;
        }
        if (strcmp(key, MOCK_KEY_DEFAULT) == 0)
            self->fallback = list;
        else
            yg_map_set(self->script, key, list);
    }
    return self;
}

yg_mock_t *yg_mock_new_from_file(const char *path, yg_error_t *err)
{
    yg_ynode_t *root = yg_yaml_load_file(path, err); /* JSON is YAML too */
    if (!root)
        return NULL;
    yg_value_t *script = yg_ynode_to_value(root);
    yg_ynode_destroy(&root);
    if (!script) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    yg_mock_t *self = yg_mock_new_from_value(script, err);
    yg_value_destroy(&script);
    if (!self && err && err->file[0] == '\0')
        snprintf(err->file, sizeof err->file, "%s", path);
    return self;
}

yg_mock_t *yg_mock_ref(yg_mock_t *self)
{
    if (self)
        atomic_fetch_add(&self->refs, 1);
    return self;
}

static void mock_clear_log(yg_mock_t *self)
{
    for (size_t i = 0; i < self->log_size; i++)
        yg_value_destroy(&self->log[(self->log_head + i) % YG_MOCK_LOG_MAX]);
    self->log_head = self->log_size = 0;
}

void yg_mock_destroy(yg_mock_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_mock_t *self = *self_p;
    *self_p = NULL;
    if (atomic_fetch_sub(&self->refs, 1) != 1)
        return;
    mock_clear_log(self);
    yg_value_destroy(&self->script);
    yg_value_destroy(&self->fallback);
    yg_value_destroy(&self->cursors);
    yg_value_destroy(&self->counts);
    pthread_mutex_destroy(&self->lock);
    free(self);
}

int64_t yg_mock_calls(yg_mock_t *self, const char *prompt)
{
    if (!self)
        return 0;
    pthread_mutex_lock(&self->lock);
    int64_t n = prompt ? yg_value_int(yg_map_get(self->counts, prompt)) : self->total;
    pthread_mutex_unlock(&self->lock);
    return n;
}

yg_value_t *yg_mock_log(yg_mock_t *self)
{
    yg_value_t *list = yg_list_new();
    if (!self || !list)
        return list;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->log_size; i++)
        yg_list_append(list, yg_value_copy(self->log[(self->log_head + i) % YG_MOCK_LOG_MAX]));
    pthread_mutex_unlock(&self->lock);
    return list;
}

void yg_mock_reset(yg_mock_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    mock_clear_log(self);
    yg_value_destroy(&self->cursors);
    yg_value_destroy(&self->counts);
    self->cursors = yg_map_new();
    self->counts = yg_map_new();
    self->total = 0;
    pthread_mutex_unlock(&self->lock);
}

static yg_value_t *mock_log_entry(const yg_llm_request_t *req, const char *provider)
{
    yg_value_t *e = yg_map_new();
    if (!e)
        return NULL;
    const char *model = req->model ? req->model : yg_provider_model(provider);
    yg_map_set(e, "prompt", yg_str_new(req->prompt_name ? req->prompt_name : ""));
    yg_map_set(e, "provider", yg_str_new(provider));
    yg_map_set(e, "requested", req->provider ? yg_str_new(req->provider) : yg_null_new());
    yg_map_set(e, "model", model ? yg_str_new(model) : yg_null_new());
    yg_map_set(e, "temperature", yg_float_new(req->temperature));
    yg_map_set(e, "messages", yg_value_copy(req->messages));
    yg_map_set(e, "schema", yg_bool_new(req->schema != NULL));
    yg_map_set(e, "tools", yg_int_new((int64_t)yg_list_size(req->tools)));
    yg_map_set(e, "stream", yg_bool_new(req->stream));
    return e;
}

/* The reply for a prompt nobody scripted. */
static yg_value_t *mock_default_reply(const yg_llm_request_t *req)
{
    if (req->schema)
        return yg_schema_placeholder(req->schema);
    return yg_str_newf("mock reply for %s", req->prompt_name ? req->prompt_name : "(no prompt)");
}

yg_value_t *yg_mock_next_reply(yg_mock_t *self, const yg_llm_request_t *req,
                               const char *provider, int64_t *delay_ms)
{
    if (!self || !req)
        return NULL;
    const char *prompt = req->prompt_name ? req->prompt_name : "";
    /* Log entries copy the caller's messages: build outside the lock. */
    yg_value_t *entry = mock_log_entry(req, provider);
    const yg_value_t *list = yg_map_get(self->script, prompt);
    if (!list)
        list = self->fallback;
    yg_value_t *reply = NULL;

    pthread_mutex_lock(&self->lock);
    int64_t cursor = yg_value_int(yg_map_get(self->cursors, prompt));
    int64_t count = yg_value_int(yg_map_get(self->counts, prompt));
    yg_map_set(self->cursors, prompt, yg_int_new(cursor + 1));
    yg_map_set(self->counts, prompt, yg_int_new(count + 1));
    self->total++;
    if (entry) {
        if (self->log_size == YG_MOCK_LOG_MAX) {
            yg_value_destroy(&self->log[self->log_head]);
            self->log_head = (self->log_head + 1) % YG_MOCK_LOG_MAX;
            self->log_size--;
        }
        self->log[(self->log_head + self->log_size) % YG_MOCK_LOG_MAX] = entry;
        self->log_size++;
        entry = NULL;
    }
    pthread_mutex_unlock(&self->lock);
    yg_value_destroy(&entry);

    int64_t delay = self->latency_ms;
    if (list) {
        size_t n = yg_list_size(list);
        const yg_value_t *spec = yg_list_get(list, (size_t)cursor < n ? (size_t)cursor : n - 1);
        if (yg_value_type(spec) == YG_MAP && yg_map_has(spec, "delay_ms")) {
            delay = yg_value_int(yg_map_get(spec, "delay_ms"));
            spec = yg_map_get(spec, "reply");
        }
        reply = yg_value_copy(spec);
    } else {
        reply = mock_default_reply(req);
    }
    if (delay_ms)
        *delay_ms = delay;
    return reply;
}
