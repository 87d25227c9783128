/*
 * yg_prompt_api.c - prompt execution without a graph (yg_prompt_api.h):
 * lookup, rendering (spec 7.2-7.5), the model call on the caller's zloop,
 * structured-output validation (spec 7.6), concurrent batches in input
 * order, and blocking wrappers on a private loop.
 */
#define _GNU_SOURCE
#include "yamlgraph/yg_prompt_api.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "yg_exec.h"
#include "yg_graph.h"
#include "yg_llm_http.h"
#include "yg_prompt.h"
#include "yg_provider.h"
#include "yg_schema.h"
#include "yg_template.h"

#define PROMPT_DEFAULT_TEMPERATURE 0.7
/* Loaded prompt files kept per executor (one per distinct name). */
#define PROMPT_CACHE_MAX 256
/* Largest concurrent batch (memory safety). */
#define PROMPT_BATCH_MAX 100000

typedef struct prompt_group prompt_group_t;

typedef struct prompt_cache_entry {
    char *key;
    yg_prompt_t *prompt;
    struct prompt_cache_entry *next;
} prompt_cache_entry_t;

typedef struct prompt_job {
    yg_prompt_exec_t *exec;
    int64_t id;
    yg_prompt_done_fn *done;
    void *arg;
    yg_prompt_token_fn *on_token;
    void *token_arg;
    yg_llm_call_t *call;
    yg_timer_t *timer;           /* delivers an early failure from the loop */
    const yg_value_t *schema;    /* borrowed from the cached prompt */
    int code;
    yg_error_t error;
    prompt_group_t *group;       /* concurrent batch member, or NULL */
    size_t index;
    struct prompt_job *prev, *next;
} prompt_job_t;

struct prompt_group {
    yg_prompt_exec_t *exec;
    int64_t id;
    size_t n;
    size_t remaining;
    yg_value_t *results;
    prompt_job_t **jobs;
    yg_prompts_done_fn *done;
    void *arg;
    yg_timer_t *timer;           /* empty batch: report from the loop */
    struct prompt_group *prev, *next;
};

struct yg_prompt_exec {
    zloop_t *loop;
    yg_evloop_t *ev;
    yg_providers_t *providers;
    yg_llm_client_t *client;
    int64_t next_id;
    prompt_job_t *jobs;
    size_t active;
    prompt_group_t *groups;
    prompt_cache_entry_t *cache;
    size_t cache_count;
};

/* --- executor --------------------------------------------------------------- */

yg_prompt_exec_t *yg_prompt_exec_new(void *zloop, const yg_prompt_exec_opts_t *opts,
                                     yg_error_t *err)
{
    if (!zloop) {
        yg_error_set(err, YG_EINVAL, "prompt executor: a zloop is required");
        return NULL;
    }
    yg_prompt_exec_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    self->loop = zloop;
    self->next_id = 1;
    yg_mock_t *mock = NULL;
    if (opts && opts->mock_file && !(mock = yg_mock_new_from_file(opts->mock_file, err))) {
        free(self);
        return NULL;
    }
    self->ev = yg_evloop_new(self->loop);
    self->providers = yg_providers_new(opts ? opts->provider_override : NULL, mock);
    yg_mock_destroy(&mock);
    if (self->providers && yg_providers_register_http(self->providers) != YG_OK)
        yg_providers_destroy(&self->providers);
    if (self->ev && self->providers)
        self->client = yg_llm_client_new(self->providers, self->ev);
    if (!self->client) {
        yg_error_set(err, YG_ENOMEM, "prompt executor: cannot create the LLM client");
        yg_prompt_exec_destroy(&self);
        return NULL;
    }
    return self;
}

static void job_unlink_free(prompt_job_t *job)
{
    yg_prompt_exec_t *self = job->exec;
    if (job->prev)
        job->prev->next = job->next;
    else
        self->jobs = job->next;
    if (job->next)
        job->next->prev = job->prev;
    self->active--;
    yg_llm_call_cancel(self->client, &job->call);
    yg_evloop_cancel(self->ev, &job->timer);
    free(job);
}

static void group_unlink_free(prompt_group_t *g)
{
    yg_prompt_exec_t *self = g->exec;
    if (g->prev)
        g->prev->next = g->next;
    else
        self->groups = g->next;
    if (g->next)
        g->next->prev = g->prev;
    for (size_t i = 0; i < g->n; i++)
        if (g->jobs[i])
            job_unlink_free(g->jobs[i]);
    yg_evloop_cancel(self->ev, &g->timer);
    yg_value_destroy(&g->results);
    free(g->jobs);
    free(g);
}

void yg_prompt_exec_destroy(yg_prompt_exec_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_prompt_exec_t *self = *self_p;
    *self_p = NULL;
    while (self->groups)
        group_unlink_free(self->groups);
    while (self->jobs)
        job_unlink_free(self->jobs);
    yg_llm_client_destroy(&self->client);
    yg_providers_destroy(&self->providers);
    yg_evloop_destroy(&self->ev);
    while (self->cache) {
        prompt_cache_entry_t *e = self->cache;
        self->cache = e->next;
        yg_prompt_destroy(&e->prompt);
        free(e->key);
        free(e);
    }
    free(self);
}

size_t yg_prompt_exec_active(const yg_prompt_exec_t *self)
{
    return self ? self->active : 0;
}

/* --- prompt files ------------------------------------------------------------- */

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_yaml_ext(const char *s)
{
    size_t n = strlen(s);
    return (n > 5 && strcmp(s + n - 5, ".yaml") == 0) || (n > 4 && strcmp(s + n - 4, ".yml") == 0);
}

/* The loaded prompt for name (cached per executor; borrowed). */
static yg_prompt_t *prompt_get(yg_prompt_exec_t *self, const char *name, const char *prompts_dir,
                               yg_error_t *err)
{
    char *key = NULL;
    if (asprintf(&key, "%s\n%s", prompts_dir ? prompts_dir : "", name) < 0) {
        yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    for (prompt_cache_entry_t *e = self->cache; e; e = e->next)
        if (strcmp(e->key, key) == 0) {
            free(key);
            return e->prompt;
        }
    char *path = NULL;
    if (has_yaml_ext(name) && is_file(name)) {
        path = strdup(name);
    } else {
        if (prompts_dir) {
            /* spec 1.4 step 2 with D = prompts_dir, then the default steps */
            yg_prompt_lookup_t with_dir = {NULL, prompts_dir, false, false};
            path = yg_prompt_resolve(name, &with_dir, NULL);
        }
        if (!path) {
            yg_prompt_lookup_t lookup = {NULL, NULL, false, false};
            path = yg_prompt_resolve(name, &lookup, err);
        }
    }
    yg_prompt_t *prompt = path ? yg_prompt_load_file(name, path, err) : NULL;
    free(path);
    if (!prompt) {
        free(key);
        return NULL;
    }
    if (self->cache_count < PROMPT_CACHE_MAX) {
        prompt_cache_entry_t *e = calloc(1, sizeof *e);
        if (e) {
            e->key = key;
            e->prompt = prompt;
            e->next = self->cache;
            self->cache = e;
            self->cache_count++;
            return prompt;
        }
    }
    /* Cached prompts are borrowed by calls in flight, so none is evicted:
     * past the bound, refuse clearly. */
    free(key);
    yg_prompt_destroy(&prompt);
    yg_error_set(err, YG_ELIMIT, "more than %d distinct prompts on one executor", PROMPT_CACHE_MAX);
    return NULL;
}

/* Messages for the prompt: [system (if non-empty), user] (spec 7.1). */
static yg_value_t *prompt_messages(const yg_prompt_t *p, const yg_value_t *vars, yg_error_t *err)
{
    if (!p->user) {
        yg_error_set(err, YG_ETEMPLATE, "prompt '%s' (%s) has no `user` template", p->name, p->path);
        return NULL;
    }
    if (yg_tmpl_check_required(p->system, p->user, vars, p->name, err) != YG_OK)
        return NULL;
    char *system = p->system ? yg_tmpl_render(p->system, vars, NULL, err) : strdup("");
    char *user = system ? yg_tmpl_render(p->user, vars, NULL, err) : NULL;
    if (!system || !user) {
        free(system);
        free(user);
        if (err && !err->code)
            yg_error_set(err, YG_ENOMEM, "out of memory");
        return NULL;
    }
    yg_value_t *msgs = yg_list_new();
    if (system[0]) {
        yg_value_t *m = yg_map_new();
        yg_map_set(m, "role", yg_str_new("system"));
        yg_map_set(m, "content", yg_str_new(system));
        yg_list_append(msgs, m);
    }
    yg_value_t *m = yg_map_new();
    yg_map_set(m, "role", yg_str_new("user"));
    yg_map_set(m, "content", yg_str_new(user));
    yg_list_append(msgs, m);
    free(system);
    free(user);
    return msgs;
}

/* --- completion ------------------------------------------------------------- */

static void group_job_done(prompt_job_t *job, int code, const yg_value_t *value,
                           const yg_error_t *error);

/* Report a job's outcome and free it. */
static void job_finish(prompt_job_t *job, int code, const yg_value_t *value, const yg_error_t *error)
{
    if (job->group) {
        group_job_done(job, code, value, error);
        return;
    }
    yg_prompt_result_t r = {0};
    r.id = job->id;
    r.code = code;
    r.value = code == YG_OK ? value : NULL;
    if (error)
        r.error = *error;
    yg_prompt_done_fn *done = job->done;
    void *arg = job->arg;
    job->call = NULL;
    job_unlink_free(job);
    done(&r, arg);
}

static void on_job_timer(void *arg)
{
    prompt_job_t *job = arg;
    job->timer = NULL;
    job_finish(job, job->code, NULL, &job->error);
}

static void on_job_token(void *arg, const char *text, size_t len)
{
    prompt_job_t *job = arg;
    if (job->on_token && len)
        job->on_token(text, len, job->token_arg);
}

static void on_job_done(void *arg, const yg_llm_reply_t *reply, const yg_llm_failure_t *failure)
{
    prompt_job_t *job = arg;
    job->call = NULL;  /* the client frees the call after this returns */
    yg_error_t err = {0};
    if (failure) {
        yg_error_set(&err, failure->code ? failure->code : YG_ELLM, "%s", failure->message);
        job_finish(job, err.code, NULL, &err);
        return;
    }
    yg_value_t *value = NULL;
    int code = YG_OK;
    if (job->schema) {
        yg_value_t *parsed = reply->structured ? yg_value_ref((yg_value_t *)reply->structured)
                                               : yg_json_decode(reply->text, strlen(reply->text),
                                                                NULL, &err);
        code = parsed ? yg_schema_validate(job->schema, parsed, &value, &err) : YG_ESCHEMA;
        if (!parsed)
            yg_error_set(&err, YG_ESCHEMA, "structured output is not JSON: %s", err.message);
        yg_value_destroy(&parsed);
    } else {
        value = yg_str_new(reply->text);
        code = value ? YG_OK : YG_ENOMEM;
    }
    job_finish(job, code, value, &err);
    yg_value_destroy(&value);
}

/* --- starting ---------------------------------------------------------------- */

static prompt_job_t *job_new(yg_prompt_exec_t *self)
{
    prompt_job_t *job = calloc(1, sizeof *job);
    if (!job)
        return NULL;
    job->exec = self;
    job->id = self->next_id++;
    job->next = self->jobs;
    if (self->jobs)
        self->jobs->prev = job;
    self->jobs = job;
    self->active++;
    return job;
}

/* Render and start the call; a failure is delivered from the loop.
 * Returns YG_OK or YG_ENOMEM (the job is then freed). */
static int job_start(prompt_job_t *job, const char *name, const yg_value_t *vars,
                     const yg_prompt_opts_t *opts, bool stream)
{
    yg_prompt_exec_t *self = job->exec;
    yg_prompt_opts_t defaults = {0};
    if (!opts)
        opts = &defaults;
    yg_error_t err = {0};
    yg_value_t *empty = vars ? NULL : yg_map_new();
    yg_prompt_t *p = prompt_get(self, name, opts->prompts_dir, &err);
    yg_value_t *msgs = p ? prompt_messages(p, vars ? vars : empty, &err) : NULL;
    yg_value_destroy(&empty);
    if (msgs) {
        job->schema = stream ? NULL : p->schema;  /* no structured output when streaming */
        yg_llm_request_t req = {
            .provider = yg_provider_resolve(opts->provider ? opts->provider : p->provider),
            .temperature = opts->has_temperature ? opts->temperature : PROMPT_DEFAULT_TEMPERATURE,
            .messages = msgs,
            .schema = job->schema,
            .schema_name = job->schema ? p->schema_name : NULL,
            .stream = stream,
            .timeout_s = opts->timeout_s,
            .prompt_name = p->name,
        };
        yg_llm_callbacks_t cb = {on_job_token, on_job_done};
        job->call = yg_llm_call_start(self->client, &req, &cb, job);
        yg_value_destroy(&msgs);
        if (job->call)
            return YG_OK;
        yg_error_set(&err, YG_ENOMEM, "out of memory starting the model call");
    }
    job->code = err.code ? err.code : YG_ENOMEM;
    job->error = err;
    job->timer = yg_evloop_timer(self->ev, 0, on_job_timer, job);
    if (job->timer)
        return YG_OK;
    job_unlink_free(job);
    return YG_ENOMEM;
}

static int64_t start_one(yg_prompt_exec_t *self, const char *prompt, const yg_value_t *vars,
                         const yg_prompt_opts_t *opts, bool stream, yg_prompt_token_fn *on_token,
                         void *token_arg, yg_prompt_done_fn *done, void *arg)
{
    if (!self || !prompt || !done || (vars && yg_value_type(vars) != YG_MAP))
        return YG_EINVAL;
    prompt_job_t *job = job_new(self);
    if (!job)
        return YG_ENOMEM;
    job->done = done;
    job->arg = arg;
    job->on_token = on_token;
    job->token_arg = token_arg;
    int64_t id = job->id;
    return job_start(job, prompt, vars, opts, stream) == YG_OK ? id : YG_ENOMEM;
}

int64_t yg_prompt_execute_async(yg_prompt_exec_t *self, const char *prompt,
                                const yg_value_t *vars, const yg_prompt_opts_t *opts,
                                yg_prompt_done_fn *done, void *arg)
{
    return start_one(self, prompt, vars, opts, false, NULL, NULL, done, arg);
}

int64_t yg_prompt_stream_async(yg_prompt_exec_t *self, const char *prompt, const yg_value_t *vars,
                               const yg_prompt_opts_t *opts, yg_prompt_token_fn *on_token,
                               void *token_arg, yg_prompt_done_fn *done, void *arg)
{
    return start_one(self, prompt, vars, opts, true, on_token, token_arg, done, arg);
}

/* --- concurrent batches ------------------------------------------------------- */

static void group_report(prompt_group_t *g, int code, const yg_error_t *error)
{
    yg_prompts_done_fn *done = g->done;
    void *arg = g->arg;
    yg_value_t *results = code == YG_OK ? yg_value_ref(g->results) : NULL;
    yg_error_t e = {0};
    if (error)
        e = *error;
    group_unlink_free(g);  /* cancels the members still in flight */
    done(code, results, code == YG_OK ? NULL : &e, arg);
    yg_value_destroy(&results);
}

static void group_job_done(prompt_job_t *job, int code, const yg_value_t *value,
                           const yg_error_t *error)
{
    prompt_group_t *g = job->group;
    size_t index = job->index;
    /* error may point into the job: copy it before the job goes */
    yg_error_t cause = {0};
    if (error)
        cause = *error;
    g->jobs[index] = NULL;
    job->call = NULL;
    job_unlink_free(job);
    if (code != YG_OK) {
        yg_error_t e = {0};
        yg_error_set(&e, code, "prompt %zu of %zu: %s", index + 1, g->n,
                     cause.message[0] ? cause.message : yg_strerror(code));
        group_report(g, code, &e);
        return;
    }
    yg_list_set(g->results, index, yg_value_ref((yg_value_t *)value));
    if (--g->remaining == 0)
        group_report(g, YG_OK, NULL);
}

static void on_group_timer(void *arg)
{
    prompt_group_t *g = arg;
    g->timer = NULL;
    group_report(g, YG_OK, NULL);
}

int64_t yg_prompts_execute_concurrent_async(yg_prompt_exec_t *self, const yg_prompt_spec_t *specs,
                                            size_t n, yg_prompts_done_fn *done, void *arg)
{
    if (!self || !done || (n && !specs) || n > PROMPT_BATCH_MAX)
        return YG_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!specs[i].prompt || (specs[i].vars && yg_value_type(specs[i].vars) != YG_MAP))
            return YG_EINVAL;
    prompt_group_t *g = calloc(1, sizeof *g);
    if (!g)
        return YG_ENOMEM;
    g->exec = self;
    g->id = self->next_id++;
    g->n = n;
    g->remaining = n;
    g->done = done;
    g->arg = arg;
    g->results = yg_list_new();
    g->jobs = calloc(n ? n : 1, sizeof *g->jobs);
    g->next = self->groups;
    if (self->groups)
        self->groups->prev = g;
    self->groups = g;
    bool ok = g->results && g->jobs;
    for (size_t i = 0; ok && i < n; i++)
        ok = yg_list_append(g->results, yg_null_new()) == YG_OK;
    for (size_t i = 0; ok && i < n; i++) {
        prompt_job_t *job = job_new(self);
        ok = job != NULL;
        if (!ok)
            break;
        job->group = g;
        job->index = i;
        g->jobs[i] = job;
        if (job_start(job, specs[i].prompt, specs[i].vars, specs[i].opts, false) != YG_OK) {
            g->jobs[i] = NULL;  /* job_start freed it */
            ok = false;
        }
    }
    if (ok && n == 0)
        ok = (g->timer = yg_evloop_timer(self->ev, 0, on_group_timer, g)) != NULL;
    if (!ok) {
        group_unlink_free(g);
        return YG_ENOMEM;
    }
    return g->id;
}

int yg_prompt_cancel(yg_prompt_exec_t *self, int64_t id)
{
    if (!self)
        return YG_EINVAL;
    for (prompt_group_t *g = self->groups; g; g = g->next)
        if (g->id == id) {
            group_unlink_free(g);
            return YG_OK;
        }
    for (prompt_job_t *j = self->jobs; j; j = j->next)
        if (j->id == id && !j->group) {
            job_unlink_free(j);
            return YG_OK;
        }
    return YG_ENOTFOUND;
}

/* --- blocking wrappers ------------------------------------------------------- */

typedef struct {
    bool done;
    int code;
    yg_value_t *value;
    yg_error_t error;
} blocking_t;

static void blocking_done(const yg_prompt_result_t *r, void *arg)
{
    blocking_t *b = arg;
    b->done = true;
    b->code = r->code;
    b->error = r->error;
    b->value = r->value ? yg_value_ref((yg_value_t *)r->value) : NULL;
}

static void blocking_batch_done(int code, const yg_value_t *results, const yg_error_t *error,
                                void *arg)
{
    blocking_t *b = arg;
    b->done = true;
    b->code = code;
    if (error)
        b->error = *error;
    b->value = results ? yg_value_ref((yg_value_t *)results) : NULL;
}

static int blocking_check(zloop_t *loop, int timer_id, void *arg)
{
    (void)loop;
    (void)timer_id;
    return ((blocking_t *)arg)->done ? -1 : 0;
}

typedef enum { BLOCK_ONE, BLOCK_STREAM, BLOCK_BATCH } block_kind_t;

static int blocking_run(block_kind_t kind, const char *prompt, const yg_value_t *vars,
                        const yg_prompt_opts_t *opts, yg_prompt_token_fn *on_token,
                        void *token_arg, const yg_prompt_spec_t *specs, size_t n,
                        yg_value_t **result, yg_error_t *err)
{
    if (!result)
        return yg_error_set(err, YG_EINVAL, "result pointer is required");
    *result = NULL;
    zloop_t *loop = zloop_new();
    if (!loop)
        return yg_error_set(err, YG_ENOMEM, "out of memory");
    /* The caller's SIGINT must not silently end our private loop early. */
    zloop_set_nonstop(loop, true);
    yg_prompt_exec_t *ex = yg_prompt_exec_new(loop, NULL, err);
    if (!ex) {
        zloop_destroy(&loop);
        return err && err->code ? err->code : YG_ENOMEM;
    }
    blocking_t b = {0};
    int64_t id = kind == BLOCK_BATCH
                     ? yg_prompts_execute_concurrent_async(ex, specs, n, blocking_batch_done, &b)
                 : kind == BLOCK_STREAM
                     ? yg_prompt_stream_async(ex, prompt, vars, opts, on_token, token_arg,
                                              blocking_done, &b)
                     : yg_prompt_execute_async(ex, prompt, vars, opts, blocking_done, &b);
    if (id > 0) {
        int tid = zloop_timer(loop, 1, 0, blocking_check, &b);
        zloop_start(loop);
        zloop_timer_end(loop, tid);
    }
    yg_prompt_exec_destroy(&ex);
    zloop_destroy(&loop);
    if (id <= 0)
        return yg_error_set(err, (int)id, "cannot start the prompt: %s", yg_strerror((int)id));
    if (!b.done)
        return yg_error_set(err, YG_ECANCELLED, "the prompt loop ended before the result");
    if (b.code != YG_OK) {
        if (err)
            *err = b.error;
        yg_value_destroy(&b.value);
        return b.code;
    }
    *result = b.value;
    return YG_OK;
}

int yg_prompt_execute(const char *prompt, const yg_value_t *vars, const yg_prompt_opts_t *opts,
                      yg_value_t **result, yg_error_t *err)
{
    return blocking_run(BLOCK_ONE, prompt, vars, opts, NULL, NULL, NULL, 0, result, err);
}

int yg_prompt_stream(const char *prompt, const yg_value_t *vars, const yg_prompt_opts_t *opts,
                     yg_prompt_token_fn *on_token, void *token_arg, yg_value_t **result,
                     yg_error_t *err)
{
    return blocking_run(BLOCK_STREAM, prompt, vars, opts, on_token, token_arg, NULL, 0, result,
                        err);
}

int yg_prompts_execute_concurrent(const yg_prompt_spec_t *specs, size_t n, yg_value_t **results,
                                  yg_error_t *err)
{
    return blocking_run(BLOCK_BATCH, NULL, NULL, NULL, NULL, NULL, specs, n, results, err);
}
