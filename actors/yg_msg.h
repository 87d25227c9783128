/*
 * yg_msg.h - the internal protocol between the coordinator and node actors.
 *
 * Transport: the coordinator binds a ROUTER socket (inproc for in-process
 * node actors; also tcp for remote workers).  Each node actor (a CZMQ
 * zactor thread, or a remote `yamlgraph worker` process) connects a DEALER
 * to it.  ZMQ_ROUTER_MANDATORY is set on the coordinator side.
 *
 * Framing: every ZMQ message is ONE body frame (the ROUTER side also sees
 * the DEALER's identity frame first).  The body is msgpack: either one
 * message (a map) or a batch (an array of maps) - both sides MUST accept
 * both forms and SHOULD batch everything produced while draining one wake-up
 * (that is how W3 moves 100,000 map items without 200,000 thread wake-ups).
 * Every message map has "t" (its type, a string) and the fields below.
 * Unknown fields are ignored; unknown types are logged and dropped.
 *
 * Messages node actor -> coordinator
 *   "ready"   {graph: <hash hex>, node: <node name>, capacity: int,
 *              worker: <worker id string>}
 *             Sent when the actor starts (and by remote workers after
 *             (re)connecting).  The coordinator keeps, per (graph, node), the
 *             list of identities serving it.
 *   "result"  {run: uint, task: uint, status: "ok"|"interrupt"|"error",
 *              update: map (status ok: the node's state update; for
 *                      status interrupt with interrupt_output_mapping: the
 *                      mapped values to commit with the pause),
 *              interrupt: value (status interrupt: the payload),
 *              error: {code: int, type: str, message: str, node: str}
 *                     (status error: the run aborts with this error),
 *              calls: int (model calls made, for tests and metrics)}
 *   "event"   {run: uint, task: uint, kind: "token"|"log", node: str,
 *              text: str}
 *             Token streaming; the coordinator stamps run/thread/seq and
 *             forwards to subscribers.
 *   "child"   {run: uint, task: uint, op: "run"|"resume", graph: <child
 *              graph hash>, thread: str, input: map | resume: value}
 *             From a subgraph node actor: start (or resume) a child run on
 *             thread <parent thread>:<node>.  The coordinator replies with
 *             "child_done".
 *   "hb"      {worker: str, node: str} heartbeat (remote workers, every
 *             hb_ms).  Any message from an actor proves it alive; a remote
 *             actor silent for hb_ms * liveness is declared dead: it is
 *             dropped from its node's list and its tasks are re-dispatched.
 *   "bye"     {worker: str} a worker shutting down cleanly: dropped at once,
 *             its tasks re-dispatched (no wait for the liveness timeout).
 *
 *   Remote workers add to "ready": hb_ms: int (their heartbeat interval;
 *   absent or 0 = an in-process actor, never declared dead by silence) and
 *   graph_name: str (for error messages).
 *
 *   Results are accepted only from a registered actor and, for a task
 *   assigned to an actor, only from that actor: a late result from a worker
 *   declared dead (its task re-dispatched) is dropped.
 *
 * Messages coordinator -> node actor
 *   "task"    {run: uint, task: uint, thread: str, node: str,
 *              input: map (the state keys the node reads: node->reads, or
 *                     the whole state when node->reads_all),
 *              payload: map (map items only: {<as>: item, _map_index: i};
 *                       merged over input by the node actor),
 *              resume: value (present only when re-executing an
 *                      interrupted node with the resume value),
 *              step: int,
 *              no_spin: true (optional hint: a save of the run is in
 *                      flight at an external store; the node actor does
 *                      not spin-before-block after answering; absent =
 *                      false; receivers that do not know it ignore it)}
 *   "cancel"  {run: uint}  abort every task of that run (in-flight model
 *              calls and child processes are stopped; no result is sent).
 *   "child_done" {run: uint, task: uint, status: "completed"|"interrupted"
 *              |"error", state: map, interrupts: list, error: map}
 *   "hb"      {known: bool} heartbeat reply.  known false: the
 *             coordinator does not (or no longer) count this connection as
 *             a worker (it reconnected, was declared dead, or the
 *             coordinator restarted): the worker abandons the tasks it held
 *             and sends "ready" again.
 *   "reject"  {code: int, type: str, message: str, graph: str, node: str}
 *             answer to a "ready" the coordinator cannot accept: unknown
 *             graph hash (the worker loaded different files) or unknown
 *             node.  The worker stops serving and reports the message.
 */
#ifndef YG_MSG_H
#define YG_MSG_H

#define YG_MSG_TYPE "t"

#define YG_MSG_READY "ready"
#define YG_MSG_RESULT "result"
#define YG_MSG_EVENT "event"
#define YG_MSG_CHILD "child"
#define YG_MSG_HEARTBEAT "hb"
#define YG_MSG_TASK "task"
#define YG_MSG_CANCEL "cancel"
#define YG_MSG_CHILD_DONE "child_done"
#define YG_MSG_REJECT "reject"
#define YG_MSG_BYE "bye"

/* Optional task field: the hint described above. */
#define YG_MSG_NO_SPIN "no_spin"

#define YG_STATUS_OK "ok"
#define YG_STATUS_INTERRUPT "interrupt"
#define YG_STATUS_ERROR "error"

/* Largest body a node actor or coordinator accepts (checked before decoding). */
#define YG_MSG_MAX_BODY (256u * 1024u * 1024u)
/* How many messages one batch may carry before it is flushed. */
#define YG_MSG_BATCH_MAX 512

#endif
