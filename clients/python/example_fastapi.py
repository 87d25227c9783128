"""A small HTTP front for `yamlgraph serve`, with FastAPI and the asyncio client.

    yamlgraph serve graphs/interview/graph.yaml --bind tcp://127.0.0.1:5555 \\
        --mock graphs/interview/mock.yaml &
    YAMLGRAPH_ENDPOINT=tcp://127.0.0.1:5555 \\
        uvicorn example_fastapi:app --app-dir clients/python --port 8000

    curl -X POST localhost:8000/runs -H 'content-type: application/json' \\
         -d '{"graph": "interview", "thread": "t-1"}'
    curl -X POST localhost:8000/runs/t-1/resume -H 'content-type: application/json' \\
         -d '{"graph": "interview", "value": "Ada"}'
    curl localhost:8000/threads/t-1/state
    curl localhost:8000/graphs

Endpoints:
  POST /runs                     {graph, input?, thread?}  -> run result
  POST /runs/{thread}/resume     {graph, value}            -> run result
  GET  /threads/{thread}/state   ?graph=NAME (optional)    -> latest checkpoint
  GET  /graphs                                             -> graphs served
A run result is {status, thread, run, state, interrupts}.  Errors from the
server become HTTP errors {detail: {code, name, message}}.
"""

import os
from typing import Any, Dict, Optional

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from yamlgraph_client import AsyncClient, YamlGraphError

ENDPOINT = os.environ.get("YAMLGRAPH_ENDPOINT", "tcp://127.0.0.1:5555")
TIMEOUT = float(os.environ.get("YAMLGRAPH_TIMEOUT", "120"))

# yg_error.h names -> HTTP status
HTTP_STATUS = {
    "YG_ENOTFOUND": 404,
    "YG_EINVAL": 400,
    "YG_ETYPE": 400,
    "YG_EPROTO": 400,
    "YG_ELIMIT": 413,
    "YG_EBUSY": 409,
    "YG_ETIMEOUT": 504,
    "YG_ECANCELLED": 409,
    "YG_ECLOSED": 503,
}

app = FastAPI(title="yamlgraph over HTTP")
_client: Optional[AsyncClient] = None


class RunBody(BaseModel):
    graph: str
    input: Dict[str, Any] = {}
    thread: Optional[str] = None


class ResumeBody(BaseModel):
    graph: str
    value: Any = None


def client() -> AsyncClient:
    # created on first use, inside the server's event loop
    global _client
    if _client is None:
        _client = AsyncClient(ENDPOINT, timeout=TIMEOUT)
    return _client


@app.on_event("shutdown")
async def _close_client() -> None:
    global _client
    if _client is not None:
        await _client.close()
        _client = None


def http_error(e: YamlGraphError) -> HTTPException:
    return HTTPException(status_code=HTTP_STATUS.get(e.name, 500),
                         detail={"code": e.code, "name": e.name, "message": e.message})


def result_json(r) -> Dict[str, Any]:
    return {"status": r.status, "thread": r.thread, "run": r.run, "state": r.state,
            "interrupts": r.interrupts}


@app.post("/runs")
async def start_run(body: RunBody):
    try:
        return result_json(await client().run(body.graph, body.input, thread=body.thread))
    except YamlGraphError as e:
        raise http_error(e)


@app.post("/runs/{thread}/resume")
async def resume_run(thread: str, body: ResumeBody):
    try:
        return result_json(await client().resume(body.graph, thread, body.value))
    except YamlGraphError as e:
        raise http_error(e)


@app.get("/threads/{thread}/state")
async def thread_state(thread: str, graph: Optional[str] = None):
    try:
        s = await client().state(thread, graph=graph)
    except YamlGraphError as e:
        raise http_error(e)
    return {"thread": s.get("thread"), "step": s.get("step"), "state": s.get("state"),
            "interrupts": s.get("interrupts")}


@app.get("/graphs")
async def list_graphs():
    try:
        return await client().graphs()
    except YamlGraphError as e:
        raise http_error(e)
