/*
 * yg_exec_loop.c - yg_evloop_t: a binary min-heap of timers driven by one
 * zloop timer.
 */
#include "yg_exec.h"

#include <stdlib.h>

struct yg_timer {
    int64_t when;     /* zclock_mono() ms */
    uint64_t seq;     /* FIFO among equal deadlines; also bounds one drain */
    size_t index;     /* position in the heap */
    yg_timer_fn *fn;
    void *arg;
};

struct yg_evloop {
    zloop_t *loop;
    yg_timer_t **heap;
    size_t size;
    size_t cap;
    uint64_t next_seq;
    int zid;          /* armed zloop timer id, -1 when none */
    int64_t armed_when;
};

static bool timer_before(const yg_timer_t *a, const yg_timer_t *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_place(yg_evloop_t *self, size_t i, yg_timer_t *t)
{
    self->heap[i] = t;
    t->index = i;
}

static void heap_up(yg_evloop_t *self, size_t i)
{
    yg_timer_t *t = self->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(t, self->heap[parent]))
            break;
        heap_place(self, i, self->heap[parent]);
        i = parent;
    }
    heap_place(self, i, t);
}

static void heap_down(yg_evloop_t *self, size_t i)
{
    yg_timer_t *t = self->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= self->size)
            break;
        if (child + 1 < self->size && timer_before(self->heap[child + 1], self->heap[child]))
            child++;
        if (!timer_before(self->heap[child], t))
            break;
        heap_place(self, i, self->heap[child]);
        i = child;
    }
    heap_place(self, i, t);
}

static void heap_remove(yg_evloop_t *self, yg_timer_t *t)
{
    size_t i = t->index;
    self->size--;
    if (i == self->size)
        return;
    yg_timer_t *moved = self->heap[self->size];
    heap_place(self, i, moved);
    heap_down(self, i);
    if (moved->index == i)
        heap_up(self, i);
}

static int evloop_on_zloop_timer(zloop_t *loop, int timer_id, void *arg);

/* Make sure a zloop timer fires no later than the earliest deadline. */
static void evloop_arm(yg_evloop_t *self)
{
    if (self->size == 0)
        return; /* an armed timer firing with nothing due is harmless */
    int64_t earliest = self->heap[0]->when;
    if (self->zid >= 0 && self->armed_when <= earliest)
        return;
    if (self->zid >= 0)
        zloop_timer_end(self->loop, self->zid);
    int64_t delay = earliest - zclock_mono();
    if (delay < 0)
        delay = 0;
    self->zid = zloop_timer(self->loop, (size_t)delay, 1, evloop_on_zloop_timer, self);
    self->armed_when = earliest;
}

static int evloop_on_zloop_timer(zloop_t *loop, int timer_id, void *arg)
{
    yg_evloop_t *self = arg;
    if (timer_id == self->zid)
        self->zid = -1;
    int64_t now = zclock_mono();
    /* Timers added by callbacks of this drain wait for the next wake-up, so
     * a callback that re-arms itself with delay 0 cannot starve the loop. */
    uint64_t limit = self->next_seq;
    while (self->size > 0 && self->heap[0]->when <= now && self->heap[0]->seq < limit) {
        yg_timer_t *t = self->heap[0];
        heap_remove(self, t);
        yg_timer_fn *fn = t->fn;
        void *fn_arg = t->arg;
        free(t);
        fn(fn_arg);
    }
    evloop_arm(self);
    return 0;
}

yg_evloop_t *yg_evloop_new(zloop_t *loop)
{
    if (!loop)
        return NULL;
    yg_evloop_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->loop = loop;
    self->zid = -1;
    return self;
}

void yg_evloop_destroy(yg_evloop_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_evloop_t *self = *self_p;
    for (size_t i = 0; i < self->size; i++)
        free(self->heap[i]);
    if (self->zid >= 0)
        zloop_timer_end(self->loop, self->zid);
    free(self->heap);
    free(self);
    *self_p = NULL;
}

zloop_t *yg_evloop_zloop(yg_evloop_t *self)
{
    return self ? self->loop : NULL;
}

yg_timer_t *yg_evloop_timer(yg_evloop_t *self, int64_t delay_ms, yg_timer_fn *fn, void *arg)
{
    if (!self || !fn)
        return NULL;
    if (self->size == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        yg_timer_t **heap = realloc(self->heap, cap * sizeof *heap);
        if (!heap)
            return NULL;
        self->heap = heap;
        self->cap = cap;
    }
    yg_timer_t *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    t->when = zclock_mono() + (delay_ms > 0 ? delay_ms : 0);
    t->seq = self->next_seq++;
    t->fn = fn;
    t->arg = arg;
    heap_place(self, self->size++, t);
    heap_up(self, t->index);
    evloop_arm(self);
    return t;
}

void yg_evloop_cancel(yg_evloop_t *self, yg_timer_t **timer_p)
{
    if (!self || !timer_p || !*timer_p)
        return;
    heap_remove(self, *timer_p);
    free(*timer_p);
    *timer_p = NULL;
}

size_t yg_evloop_pending(const yg_evloop_t *self)
{
    return self ? self->size : 0;
}
