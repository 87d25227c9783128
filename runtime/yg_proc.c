/*
 * yg_proc.c - non-blocking child processes (see yg_proc.h).
 *
 * zloop may still call a poller's handler in the iteration in which the
 * poller was removed, so the poll callbacks never get a proc pointer: their
 * argument is the long-lived yg_procs_t and the proc is found by fd.
 */
#define _GNU_SOURCE
#include "yg_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "yg_exec.h"
#include "yg_pytext.h"

extern char **environ;

/* Bytes read from a pipe per read() call. */
#define YG_PROC_READ_CHUNK 65536
/* Upper bound on environment entries we pass (inherited + added). */
#define YG_PROC_MAX_ENV 65536

typedef struct proc_buf {
    char *data;
    size_t len;
    size_t cap;
} proc_buf_t;

struct yg_proc {
    yg_procs_t *owner;
    pid_t pid;
    int out_fd;           /* -1 once closed */
    int err_fd;
    int pid_fd;           /* pidfd, -1 when unavailable or closed */
    bool reaped;
    int wstatus;
    bool cancelled;       /* orphan: reap silently */
    yg_proc_status_t forced; /* TIMEOUT / TOO_BIG when we killed it, else EXITED */
    bool killed;
    proc_buf_t out;
    proc_buf_t err;
    size_t max_output;
    double timeout_s;
    char *spawn_error;    /* set when posix_spawn failed */
    yg_timer_t *timeout_timer;
    yg_timer_t *poll_timer;   /* waitpid polling (no pidfd) or async spawn-failure report */
    yg_proc_done_fn *done;
    void *arg;
    yg_proc_t *next;
};

struct yg_procs {
    yg_evloop_t *ev;
    yg_proc_t *list;      /* running and orphaned procs */
    size_t active;        /* not finished, not cancelled */
};

static bool proc_check_finished(yg_proc_t *self);

yg_procs_t *yg_procs_new(yg_evloop_t *ev)
{
    if (!ev)
        return NULL;
    yg_procs_t *self = calloc(1, sizeof *self);
    if (self)
        self->ev = ev;
    return self;
}

size_t yg_procs_active(const yg_procs_t *self)
{
    return self ? self->active : 0;
}

static void proc_unpoll(yg_proc_t *self, int *fd)
{
    if (*fd < 0)
        return;
    zmq_pollitem_t item = {NULL, *fd, ZMQ_POLLIN, 0};
    zloop_poller_end(yg_evloop_zloop(self->owner->ev), &item);
    close(*fd);
    *fd = -1;
}

static void proc_free(yg_proc_t *self)
{
    yg_procs_t *owner = self->owner;
    for (yg_proc_t **pp = &owner->list; *pp; pp = &(*pp)->next) {
        if (*pp == self) {
            *pp = self->next;
            break;
        }
    }
    proc_unpoll(self, &self->out_fd);
    proc_unpoll(self, &self->err_fd);
    proc_unpoll(self, &self->pid_fd);
    yg_evloop_cancel(owner->ev, &self->timeout_timer);
    yg_evloop_cancel(owner->ev, &self->poll_timer);
    free(self->out.data);
    free(self->err.data);
    free(self->spawn_error);
    free(self);
}

void yg_procs_destroy(yg_procs_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    yg_procs_t *self = *self_p;
    while (self->list) {
        yg_proc_t *p = self->list;
        if (p->pid > 0 && !p->reaped) {
            kill(-p->pid, SIGKILL);
            kill(p->pid, SIGKILL);
            /* The only wait in this module: the process was just sent
             * SIGKILL, so it is gone as soon as the kernel tears it down. */
            while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        proc_free(p);
    }
    free(self);
    *self_p = NULL;
}

static yg_proc_t *procs_find_fd(yg_procs_t *self, int fd)
{
    for (yg_proc_t *p = self->list; p; p = p->next)
        if (p->out_fd == fd || p->err_fd == fd || p->pid_fd == fd)
            return p;
    return NULL;
}

static void proc_kill(yg_proc_t *self, yg_proc_status_t why)
{
    if (self->killed || self->pid <= 0)
        return;
    self->killed = true;
    self->forced = why;
    if (!self->reaped) {
        kill(-self->pid, SIGKILL);
        kill(self->pid, SIGKILL);
    }
    /* Grandchildren may keep the pipes open; we no longer care about output. */
    proc_unpoll(self, &self->out_fd);
    proc_unpoll(self, &self->err_fd);
}

static int buf_append(proc_buf_t *b, const char *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *n = realloc(b->data, cap);
        if (!n)
            return -1;
        b->data = n;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

/* Drain one pipe until EAGAIN or EOF. */
static void proc_read_pipe(yg_proc_t *self, int *fd, proc_buf_t *buf)
{
    char chunk[YG_PROC_READ_CHUNK];
    for (;;) {
        ssize_t n = read(*fd, chunk, sizeof chunk);
        if (n > 0) {
            if (self->out.len + self->err.len + (size_t)n > self->max_output
                || buf_append(buf, chunk, (size_t)n) != 0) {
                proc_kill(self, YG_PROC_TOO_BIG);
                return;
            }
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        proc_unpoll(self, fd); /* EOF or a read error */
        return;
    }
}

static void proc_try_reap(yg_proc_t *self)
{
    if (self->reaped || self->pid <= 0)
        return;
    int status = 0;
    pid_t r = waitpid(self->pid, &status, WNOHANG);
    if (r == self->pid || (r < 0 && errno == ECHILD)) {
        self->reaped = true;
        self->wstatus = r == self->pid ? status : 0;
        proc_unpoll(self, &self->pid_fd);
    }
}

static int procs_on_fd(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    yg_proc_t *self = procs_find_fd(arg, item->fd);
    if (!self)
        return 0; /* stale event for an fd already closed */
    if (item->fd == self->out_fd)
        proc_read_pipe(self, &self->out_fd, &self->out);
    else if (item->fd == self->err_fd)
        proc_read_pipe(self, &self->err_fd, &self->err);
    else if (item->fd == self->pid_fd)
        proc_try_reap(self);
    proc_check_finished(self);
    return 0;
}

static void proc_on_poll_timer(void *arg)
{
    yg_proc_t *self = arg;
    self->poll_timer = NULL;
    proc_try_reap(self);
    if (proc_check_finished(self))
        return;
    if (!self->reaped && self->pid > 0)
        self->poll_timer = yg_evloop_timer(self->owner->ev, YG_PROC_POLL_MS, proc_on_poll_timer, self);
}

static void proc_on_timeout(void *arg)
{
    yg_proc_t *self = arg;
    self->timeout_timer = NULL;
    proc_kill(self, YG_PROC_TIMEOUT);
    proc_check_finished(self);
}

/* Deliver the result once the process is reaped and its pipes are closed.
 * Returns true when self was freed. */
static bool proc_check_finished(yg_proc_t *self)
{
    bool spawn_failed = self->spawn_error != NULL;
    if (!spawn_failed && (!self->reaped || self->out_fd >= 0 || self->err_fd >= 0))
        return false;
    if (self->cancelled) {
        proc_free(self);
        return true;
    }
    yg_proc_result_t r;
    memset(&r, 0, sizeof r);
    r.out = self->out.data ? self->out.data : "";
    r.out_len = self->out.len;
    r.err = self->err.data ? self->err.data : "";
    r.err_len = self->err.len;
    r.timeout_s = self->timeout_s;
    r.max_output = self->max_output;
    if (spawn_failed) {
        r.status = YG_PROC_SPAWN_FAILED;
        r.error = self->spawn_error;
    } else if (self->killed) {
        r.status = self->forced;
    } else if (WIFEXITED(self->wstatus)) {
        r.status = YG_PROC_EXITED;
        r.exit_code = WEXITSTATUS(self->wstatus);
    } else {
        r.status = YG_PROC_SIGNALED;
        r.signal = WIFSIGNALED(self->wstatus) ? WTERMSIG(self->wstatus) : 0;
        r.exit_code = -r.signal;
    }
    self->owner->active--;
    yg_proc_done_fn *done = self->done;
    void *arg = self->arg;
    self->done = NULL;
    done(arg, &r);
    proc_free(self);
    return true;
}

static void proc_on_spawn_failed(void *arg)
{
    yg_proc_t *self = arg;
    self->poll_timer = NULL;
    proc_check_finished(self);
}

/* environ plus the additions (added names replace inherited ones). */
static char **proc_build_env(const yg_value_t *add)
{
    size_t inherited = 0;
    while (environ && environ[inherited] && inherited < YG_PROC_MAX_ENV)
        inherited++;
    size_t extra = yg_map_size(add);
    char **envp = calloc(inherited + extra + 1, sizeof *envp);
    if (!envp)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < inherited; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t name_len = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < extra && !replaced; j++) {
            const char *k = yg_map_key_at(add, j);
            replaced = strlen(k) == name_len && memcmp(k, environ[i], name_len) == 0;
        }
        if (!replaced && !(envp[n++] = strdup(environ[i])))
            goto fail;
    }
    for (size_t j = 0; j < extra; j++) {
        const yg_value_t *v = yg_map_value_at(add, j);
        char *text = yg_value_type(v) == YG_STR ? strdup(yg_value_str(v)) : yg_pytext_str(v);
        if (!text)
            goto fail;
        size_t size = strlen(yg_map_key_at(add, j)) + strlen(text) + 2;
        envp[n] = malloc(size);
        if (envp[n])
            snprintf(envp[n], size, "%s=%s", yg_map_key_at(add, j), text);
        free(text);
        if (!envp[n++])
            goto fail;
    }
    return envp;
fail:
    for (size_t i = 0; i < n; i++)
        free(envp[i]);
    free(envp);
    return NULL;
}

static void free_env(char **envp)
{
    for (size_t i = 0; envp && envp[i]; i++)
        free(envp[i]);
    free(envp);
}

static int proc_poll_fd(yg_proc_t *self, int fd)
{
    zmq_pollitem_t item = {NULL, fd, ZMQ_POLLIN, 0};
    zloop_t *loop = yg_evloop_zloop(self->owner->ev);
    if (zloop_poller(loop, &item, procs_on_fd, self->owner) != 0)
        return -1;
    /* POLLHUP arrives as ZMQ_POLLERR; we handle it (EOF), so stay registered. */
    zloop_poller_set_tolerant(loop, &item);
    return 0;
}

/* Spawn; on failure sets self->spawn_error and returns -1. */
static int proc_spawn(yg_proc_t *self, const yg_proc_opts_t *opts)
{
    int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    char **envp = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    bool fa_init = false, attr_init = false;
    int rc = -1;
    char msg[512];

    struct stat st;
    if (opts->working_dir && opts->working_dir[0]
        && (stat(opts->working_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        int e = errno ? errno : ENOTDIR;
        if (stat(opts->working_dir, &st) == 0)
            e = ENOTDIR;
        snprintf(msg, sizeof msg, "Execution error: [Errno %d] %s: '%s'", e, strerror(e),
                 opts->working_dir);
        goto done;
    }
    if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
        snprintf(msg, sizeof msg, "Execution error: pipe: %s", strerror(errno));
        goto done;
    }
    if (!(envp = proc_build_env(opts->env))) {
        snprintf(msg, sizeof msg, "Execution error: out of memory");
        goto done;
    }
    if (posix_spawn_file_actions_init(&fa) != 0 || posix_spawnattr_init(&attr) != 0) {
        snprintf(msg, sizeof msg, "Execution error: out of memory");
        goto done;
    }
    fa_init = attr_init = true;
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
    if (opts->working_dir && opts->working_dir[0])
        posix_spawn_file_actions_addchdir_np(&fa, opts->working_dir);
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    int reset[] = {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        sigaddset(&defaults, reset[i]);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                        | POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"/bin/sh", "-c", (char *)opts->command, NULL};
    int err = posix_spawn(&self->pid, "/bin/sh", &fa, &attr, argv, envp);
    if (err != 0) {
        self->pid = 0;
        if (opts->working_dir && opts->working_dir[0] && (err == ENOENT || err == ENOTDIR
                                                          || err == EACCES))
            snprintf(msg, sizeof msg, "Execution error: [Errno %d] %s: '%s'", err,
                     strerror(err), opts->working_dir);
        else
            snprintf(msg, sizeof msg, "Execution error: %s", strerror(err));
        goto done;
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    out_pipe[1] = err_pipe[1] = -1;
    fcntl(out_pipe[0], F_SETFL, fcntl(out_pipe[0], F_GETFL) | O_NONBLOCK);
    fcntl(err_pipe[0], F_SETFL, fcntl(err_pipe[0], F_GETFL) | O_NONBLOCK);
    self->out_fd = out_pipe[0];
    self->err_fd = err_pipe[0];
    out_pipe[0] = err_pipe[0] = -1;
#ifdef SYS_pidfd_open
    /* Probe once: kernels (and valgrind) without pidfd_open fall back to
     * polling, without retrying the syscall for every process. */
    static atomic_bool pidfd_missing;
    if (!atomic_load(&pidfd_missing)) {
        self->pid_fd = (int)syscall(SYS_pidfd_open, self->pid, 0);
        if (self->pid_fd < 0 && errno == ENOSYS)
            atomic_store(&pidfd_missing, true);
    }
#endif
    rc = 0;
done:
    if (rc != 0)
        self->spawn_error = strdup(msg);
    for (int i = 0; i < 2; i++) {
        if (out_pipe[i] >= 0)
            close(out_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
    }
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_init)
        posix_spawnattr_destroy(&attr);
    free_env(envp);
    return rc;
}

yg_proc_t *yg_proc_start(yg_procs_t *procs, const yg_proc_opts_t *opts, yg_proc_done_fn *done,
                         void *arg)
{
    if (!procs || !opts || !opts->command || !done)
        return NULL;
    yg_proc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->owner = procs;
    self->out_fd = self->err_fd = self->pid_fd = -1;
    self->max_output = opts->max_output ? opts->max_output : YG_PROC_DEFAULT_MAX_OUTPUT;
    self->timeout_s = opts->timeout_s;
    self->done = done;
    self->arg = arg;
    self->next = procs->list;
    procs->list = self;
    procs->active++;

    if (proc_spawn(self, opts) != 0) {
        if (!self->spawn_error) {
            procs->active--;
            proc_free(self);
            return NULL;
        }
        /* Report asynchronously: callers rely on "never from inside start". */
        self->poll_timer = yg_evloop_timer(procs->ev, 0, proc_on_spawn_failed, self);
        if (!self->poll_timer) {
            procs->active--;
            proc_free(self);
            return NULL;
        }
        return self;
    }
    if (proc_poll_fd(self, self->out_fd) != 0 || proc_poll_fd(self, self->err_fd) != 0
        || (self->pid_fd >= 0 && proc_poll_fd(self, self->pid_fd) != 0)) {
        yg_proc_t *p = self;
        procs->active--;
        p->cancelled = true;
        proc_kill(p, YG_PROC_TIMEOUT);
        while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        proc_free(p);
        return NULL;
    }
    if (self->pid_fd < 0)
        self->poll_timer = yg_evloop_timer(procs->ev, YG_PROC_POLL_MS, proc_on_poll_timer, self);
    if (opts->timeout_s > 0) {
        double ms = opts->timeout_s * 1000.0;
        self->timeout_timer = yg_evloop_timer(procs->ev, ms > 1e12 ? (int64_t)1e12 : (int64_t)ms,
                                              proc_on_timeout, self);
    }
    return self;
}

void yg_proc_cancel(yg_procs_t *procs, yg_proc_t **self_p)
{
    if (!procs || !self_p || !*self_p)
        return;
    yg_proc_t *self = *self_p;
    *self_p = NULL;
    if (self->cancelled)
        return;
    self->cancelled = true;
    self->done = NULL;
    procs->active--;
    yg_evloop_cancel(procs->ev, &self->timeout_timer);
    if (self->spawn_error) {
        proc_free(self);
        return;
    }
    proc_kill(self, YG_PROC_TIMEOUT);
    proc_try_reap(self);
    if (self->reaped) {
        proc_free(self);
        return;
    }
    /* Keep reaping in the background (pidfd poller or the poll timer). */
    if (self->pid_fd < 0 && !self->poll_timer)
        self->poll_timer = yg_evloop_timer(procs->ev, YG_PROC_POLL_MS, proc_on_poll_timer, self);
}
