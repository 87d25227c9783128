/*
 * yg_worker.h - the remote worker core (public API: yg_worker_api.h).
 *
 * A worker process holds, per loaded graph, one yg_worker_t: the graph,
 * one node actor per served node, and one relay actor.  The node actors
 * are the very same code as in-process ones (yg_node_actor.h); they
 * connect their DEALER to the relay's inproc ROUTER.  The relay owns one
 * tcp DEALER per node actor towards the coordinator's worker endpoint and
 * adds what a connection across hosts needs (protocol in yg_msg.h):
 *
 *   - heartbeats every hb_ms on each connection, and liveness tracking of
 *     the coordinator (any message counts);
 *   - `ready` sent again when the coordinator's heartbeat reply says it
 *     does not know the connection (ZeroMQ reconnected, the coordinator
 *     restarted, or it declared this worker dead): the tasks held until
 *     then are abandoned (cancelled in the actor; their results dropped) -
 *     the coordinator has re-dispatched them;
 *   - `reject` handling: the worker stops serving and reports the reason
 *     (yg_worker_status);
 *   - `bye` on a clean shutdown.
 *
 * Why a relay instead of tcp in the node actor itself: the node actor stays
 * transport-agnostic and identical in both deployments, and the per-host
 * concerns (liveness, re-registration, abandoning stale tasks) live in one
 * place.  The extra inproc hop costs a memcpy per batch.
 */
#ifndef YG_WORKER_H
#define YG_WORKER_H

#include <stdbool.h>

#include "yamlgraph/yg_worker_api.h"

/* Messages drained per socket wake-up. */
#define YG_WORKER_DRAIN_MAX 4096
/* Retry period for bodies the tcp socket refused (EAGAIN). */
#define YG_WORKER_RETRY_MS 5
/* Bodies held per connection while the coordinator cannot take them;
 * beyond it the newest are dropped (the coordinator re-dispatches). */
#define YG_WORKER_MAX_PENDING 100000
/* How long a clean shutdown lets the goodbye reach the coordinator. */
#define YG_WORKER_BYE_LINGER_MS 200
/* Most node actors one worker starts (a graph is a human-written file). */
#define YG_WORKER_MAX_NODES 10000

/* Testing hooks (not public API). */

/* Simulate a network partition: frozen, the worker neither sends (bodies
 * queue, heartbeats stop) nor reads from the coordinator; thawed, queued
 * bodies go out and normal service resumes.  YG_OK or YG_ECLOSED. */
int yg_worker_freeze(yg_worker_t *self, bool frozen);

/* Simulate a crash: stop without goodbye (linger 0) and free everything. */
void yg_worker_kill(yg_worker_t **self_p);

#endif
