/*
 * yg_runtime.c - the embedded runtime: one coordinator actor, the node
 * actors of every loaded graph, the provider registry, and the graphs.
 *
 * Threads: the host's threads call the public functions (graph loading is
 * serialised by a mutex); the coordinator and each node actor are zactor
 * threads.  All share CZMQ's one ZeroMQ context.
 */
#include "yamlgraph/yamlgraph.h"
#include "yamlgraph/yg_worker_api.h"
#include "yg_coordinator.h"
#include "yg_graph.h"
#include "yg_exec.h"
#include "yg_node_actor.h"
#include "yg_llm_http.h"
#include "yg_provider.h"

#include <czmq.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Node actors started per graph are bounded (a graph is a human-written
 * file; this guards against pathological inputs). */
#define YG_RUNTIME_MAX_NODE_ACTORS 100000

struct yg_runtime {
    char id[32];
    yg_runtime_opts_t opts;      /* strings below are owned copies */
    char *checkpointer;
    char *provider;
    char *mock_file;
    char *worker_endpoint;
    char *remote_nodes;          /* "," + list + ",", "*" or NULL (see opts) */
    char worker_bound[256];      /* resolved worker endpoint, "" when none */
    char api_endpoint[128];
    char node_endpoint[128];
    zactor_t *coord;
    yg_providers_t *providers;
    pthread_mutex_t lock;
    zlistx_t *graphs;            /* yg_graph_t * loaded by the host (owned) */
    zlistx_t *actors;            /* zactor_t * node actors (owned) */
    zhashx_t *started;           /* graph hash -> graph whose actors run */
};

static atomic_uint runtime_counter;

void yg_runtime_opts_init(yg_runtime_opts_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->step_limit = YG_DEFAULT_STEP_LIMIT;
    opts->shards = 1;
    opts->log_level = YG_LOG_WARNING;
}

const char *yg_durability_name(yg_durability_t durability)
{
    switch (durability) {
    case YG_DURABILITY_DEFAULT:
        return "default";
    case YG_DURABILITY_SYNC:
        return "sync";
    case YG_DURABILITY_ASYNC:
        return "async";
    }
    return "?";
}

int yg_durability_parse(const char *text, yg_durability_t *out)
{
    if (!text || !out)
        return YG_EINVAL;
    if (strcmp(text, "sync") == 0)
        *out = YG_DURABILITY_SYNC;
    else if (strcmp(text, "async") == 0)
        *out = YG_DURABILITY_ASYNC;
    else
        return YG_EINVAL;
    return YG_OK;
}

static char *dup_opt(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

static int runtime_setup(yg_runtime_t *self, const yg_runtime_opts_t *opts, yg_error_t *err)
{
    bool ok = true;
    self->opts = *opts;
    self->checkpointer = dup_opt(opts->checkpointer, &ok);
    self->provider = dup_opt(opts->provider, &ok);
    self->mock_file = dup_opt(opts->mock_file, &ok);
    self->worker_endpoint = dup_opt(opts->worker_endpoint, &ok);
    if (opts->remote_nodes && opts->remote_nodes[0]) {
        /* ",a,b," so that a node matches with strstr(",name,") */
        size_t n = strlen(opts->remote_nodes);
        self->remote_nodes = malloc(n + 3);
        if (self->remote_nodes) {
            char *o = self->remote_nodes;
            *o++ = ',';
            for (const char *p = opts->remote_nodes; *p; p++)
                if (*p != ' ' && *p != '\t') /* "a, b" is "a,b" */
                    *o++ = *p;
            *o++ = ',';
            *o = '\0';
        } else
            ok = false;
    }
    self->graphs = zlistx_new();
    self->actors = zlistx_new();
    self->started = zhashx_new();
    if (!ok || !self->graphs || !self->actors || !self->started)
        return yg_error_set(err, YG_ENOMEM, "out of memory creating the runtime");
    if (self->remote_nodes && !self->worker_endpoint)
        return yg_error_set(err, YG_EINVAL,
                            "remote_nodes needs a worker_endpoint (no worker could serve them)");
    if (opts->worker_liveness < 0 || opts->worker_liveness > YG_WORKER_MAX_LIVENESS)
        return yg_error_set(err, YG_EINVAL, "worker_liveness must be 0..%d",
                            YG_WORKER_MAX_LIVENESS);
    if (opts->durability != YG_DURABILITY_DEFAULT && opts->durability != YG_DURABILITY_SYNC &&
        opts->durability != YG_DURABILITY_ASYNC)
        return yg_error_set(err, YG_EINVAL, "durability must be YG_DURABILITY_DEFAULT, _SYNC "
                                            "or _ASYNC, not %d",
                            (int)opts->durability);
    if (opts->shards > 1)
        return yg_error_set(err, YG_EUNSUPPORTED,
                            "shards > 1 is not supported yet (runs use one coordinator)");
    if (opts->disable_signal_handlers)
        zsys_handler_set(NULL);
    snprintf(self->id, sizeof self->id, "%d-%u", (int)getpid(),
             atomic_fetch_add(&runtime_counter, 1));

    yg_mock_t *mock = NULL;
    if (self->mock_file) {
        mock = yg_mock_new_from_file(self->mock_file, err);
        if (!mock)
            return err && err->code ? err->code : YG_EINVAL;
    }
    self->providers = yg_providers_new(self->provider, mock);
    yg_mock_destroy(&mock);
    if (!self->providers || yg_providers_register_http(self->providers) != YG_OK)
        return yg_error_set(err, YG_ENOMEM, "out of memory creating the provider registry");

    yg_coord_config_t cfg = { .shard = 0,
                              .checkpointer = self->checkpointer,
                              .worker_endpoint = self->worker_endpoint,
                              .step_limit = opts->step_limit > 0 ? opts->step_limit
                                                                 : YG_DEFAULT_STEP_LIMIT,
                              .max_map_items = opts->max_map_items > 0
                                                   ? opts->max_map_items
                                                   : YG_COORD_DEFAULT_MAX_MAP_ITEMS,
                              .log_level = opts->log_level,
                              .worker_liveness = opts->worker_liveness,
                              .durability = opts->durability };
    snprintf(cfg.runtime_id, sizeof cfg.runtime_id, "%s", self->id);
    self->coord = yg_coordinator_new(&cfg, err);
    if (!self->coord)
        return err && err->code ? err->code : YG_EIO;
    yg_coordinator_api_endpoint(self->id, 0, self->api_endpoint, sizeof self->api_endpoint);
    yg_coordinator_node_endpoint(self->id, 0, self->node_endpoint, sizeof self->node_endpoint);
    if (self->worker_endpoint &&
        yg_coordinator_worker_endpoint(self->coord, self->worker_bound,
                                       sizeof self->worker_bound) != YG_OK)
        return yg_error_set(err, YG_EIO, "cannot read the coordinator's worker endpoint");
    return YG_OK;
}

yg_runtime_t *yg_runtime_new(const yg_runtime_opts_t *opts, yg_error_t *err)
{
    yg_runtime_opts_t defaults;
    if (!opts) {
        yg_runtime_opts_init(&defaults);
        opts = &defaults;
    }
    yg_runtime_t *self = calloc(1, sizeof *self);
    if (!self) {
        yg_error_set(err, YG_ENOMEM, "out of memory creating the runtime");
        return NULL;
    }
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self);
        yg_error_set(err, YG_ENOMEM, "cannot create a mutex");
        return NULL;
    }
    if (runtime_setup(self, opts, err) != YG_OK)
        yg_runtime_destroy(&self);
    return self;
}

void yg_runtime_destroy(yg_runtime_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_runtime_t *self = *self_p;
    /* node actors first (their DEALERs connect to the coordinator), then
     * the coordinator (its sockets, stores, runs), then the graphs. */
    if (self->actors) {
        for (zactor_t *a = zlistx_first(self->actors); a; a = zlistx_next(self->actors))
            zactor_destroy(&a);
        zlistx_destroy(&self->actors);
    }
    zactor_destroy(&self->coord);
    if (self->graphs) {
        for (yg_graph_t *g = zlistx_first(self->graphs); g; g = zlistx_next(self->graphs))
            yg_graph_destroy(&g);
        zlistx_destroy(&self->graphs);
    }
    zhashx_destroy(&self->started);
    yg_providers_destroy(&self->providers);
    free(self->checkpointer);
    free(self->provider);
    free(self->mock_file);
    free(self->worker_endpoint);
    free(self->remote_nodes);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

const char *yg_runtime_api_endpoint(const yg_runtime_t *self)
{
    return self ? self->api_endpoint : NULL;
}

const char *yg_runtime_worker_endpoint(const yg_runtime_t *self)
{
    return self && self->worker_bound[0] ? self->worker_bound : NULL;
}

/* True when opts.remote_nodes keeps this node off the local actors (a map
 * item sub-node is named by its map node). */
static bool node_is_remote(const yg_runtime_t *self, const yg_graph_t *g, const yg_node_t *node)
{
    if (!self->remote_nodes)
        return false;
    if (strcmp(self->remote_nodes, ",*,") == 0)
        return true;
    const yg_node_t *named = node->is_map_sub ? yg_exec_map_parent(g, node) : node;
    const char *names[2] = { node->name, named ? named->name : NULL };
    for (int i = 0; i < 2; i++) {
        size_t n = names[i] ? strlen(names[i]) : 0;
        if (n == 0)
            continue;
        for (const char *p = strstr(self->remote_nodes, names[i]); p;
             p = strstr(p + 1, names[i]))
            if (p[-1] == ',' && p[n] == ',')
                return true;
    }
    return false;
}

/* Start one node actor per executable node of g and of its children. */
static int start_node_actors(yg_runtime_t *self, yg_graph_t *g, int depth, yg_error_t *err)
{
    if (zhashx_lookup(self->started, g->hash_hex))
        return YG_OK;
    if (depth > YG_COORD_MAX_CHILD_DEPTH)
        return yg_error_set(err, YG_ELIMIT, "subgraphs nested too deeply");
    zhashx_insert(self->started, g->hash_hex, g);
    if (zlistx_size(self->actors) + g->nodes_count > YG_RUNTIME_MAX_NODE_ACTORS)
        return yg_error_set(err, YG_ELIMIT, "too many node actors (limit %d)",
                            YG_RUNTIME_MAX_NODE_ACTORS);
    for (size_t i = 0; i < g->nodes_count; i++) {
        yg_node_t *node = g->nodes[i];
        if (node->type == YG_NODE_MAP)
            continue; /* not executable: its sub-node is */
        if (node_is_remote(self, g, node)) {
            /* served by remote workers only; a subgraph's own nodes are
             * still started below unless listed too */
            if (node->type == YG_NODE_SUBGRAPH && node->child) {
                int rc = start_node_actors(self, node->child, depth + 1, err);
                if (rc != YG_OK)
                    return rc;
            }
            continue;
        }
        yg_node_actor_config_t cfg = { 0 };
        cfg.endpoint = self->node_endpoint;
        cfg.graph = g;
        cfg.node = node;
        cfg.providers = self->providers;
        cfg.max_concurrency = self->opts.max_concurrency;
        yg_error_t aerr = { 0 };
        zactor_t *actor = yg_node_actor_new_err(&cfg, &aerr);
        if (!actor)
            return yg_error_set(err, aerr.code ? aerr.code : YG_EIO,
                                "cannot start the node actor for '%s': %s", node->name,
                                aerr.message);
        zlistx_add_end(self->actors, actor);
        if (node->type == YG_NODE_SUBGRAPH && node->child) {
            int rc = start_node_actors(self, node->child, depth + 1, err);
            if (rc != YG_OK)
                return rc;
        }
    }
    return YG_OK;
}

static yg_graph_t *find_locked(yg_runtime_t *self, const char *name_or_path)
{
    char real[PATH_MAX];
    const char *abs = realpath(name_or_path, real) ? real : NULL;
    for (yg_graph_t *g = zlistx_first(self->graphs); g; g = zlistx_next(self->graphs)) {
        if ((g->path && strcmp(g->path, name_or_path) == 0) ||
            (abs && g->path && strcmp(g->path, abs) == 0) ||
            (g->name && strcmp(g->name, name_or_path) == 0))
            return g;
    }
    return NULL;
}

yg_graph_t *yg_runtime_find_graph(yg_runtime_t *self, const char *name_or_path)
{
    if (!self || !name_or_path)
        return NULL;
    pthread_mutex_lock(&self->lock);
    yg_graph_t *g = find_locked(self, name_or_path);
    pthread_mutex_unlock(&self->lock);
    return g;
}

int yg_runtime_load_graph(yg_runtime_t *self, const char *path, yg_graph_t **graph,
                          yg_error_t *err)
{
    if (!self || !path || !graph)
        return yg_error_set(err, YG_EINVAL, "yg_runtime_load_graph: bad arguments");
    *graph = NULL;
    pthread_mutex_lock(&self->lock);
    char real[PATH_MAX];
    yg_graph_t *g = NULL;
    if (realpath(path, real)) {
        for (g = zlistx_first(self->graphs); g; g = zlistx_next(self->graphs))
            if (g->path && strcmp(g->path, real) == 0)
                break;
    }
    int rc = YG_OK;
    if (!g) {
        g = yg_graph_load(path, err);
        if (!g) {
            rc = err && err->code ? err->code : YG_EVALIDATE;
        } else if ((rc = yg_coordinator_add_graph(self->coord, g, err)) != YG_OK) {
            yg_graph_destroy(&g);
        } else {
            zlistx_add_end(self->graphs, g);
            /* the graph stays registered even if an actor fails to start:
             * the runtime owns it from here */
            rc = start_node_actors(self, g, 0, err);
        }
    }
    pthread_mutex_unlock(&self->lock);
    if (rc == YG_OK)
        *graph = g;
    return rc;
}
