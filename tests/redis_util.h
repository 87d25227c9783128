/*
 * redis_util.h - a private redis-server for one test (header-only).
 *
 * redis_server_start picks a free loopback port (bind 127.0.0.1:0, read it
 * back, close), starts `redis-server --port P --bind 127.0.0.1 --save ''
 * --appendonly no --daemonize no` as a child and waits until PING answers.
 * The child gets SIGTERM if the test process dies (PR_SET_PDEATHSIG), so a
 * failed assertion does not leave servers behind.  A missing redis-server
 * is a failure with a clear message, never a skip.  YG_REDIS_SERVER names
 * another binary.
 *
 * The synchronous hiredis calls here are test scaffolding (tests may
 * block); the library never uses them.
 */
#ifndef YG_TEST_REDIS_UTIL_H
#define YG_TEST_REDIS_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long a server may take to answer its first PING. */
#define REDIS_UTIL_START_MS 10000
/* Attempts with a fresh port when another process took the one we chose. */
#define REDIS_UTIL_PORT_ATTEMPTS 5
#define REDIS_UTIL_POLL_MS 10

typedef struct redis_server {
    pid_t pid;
    int port;
    bool paused;
    char url[64];
    char unix_path[108]; /* the server also listens on this unix socket */
    char error[512];
} redis_server_t;

static inline void redis_util_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A loopback port nobody listens on right now; 0 on failure. */
static inline int redis_util_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    int port = 0;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0
        && getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

/* A blocking connection to the server (NULL if it does not answer). */
static inline redisContext *redis_util_connect(const redis_server_t *s)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

static inline bool redis_util_ping(const redis_server_t *s)
{
    redisContext *c = redis_util_connect(s);
    if (!c)
        return false;
    redisReply *r = redisCommand(c, "PING");
    bool ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    redisFree(c);
    return ok;
}

static inline pid_t redis_util_spawn(int port, const char *unix_path)
{
    const char *bin = getenv("YG_REDIS_SERVER");
    if (!bin || !*bin)
        bin = "redis-server";
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    /* Child: die with the test; quiet; no disk persistence. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(1);
    int devnull = open("/dev/null", O_RDWR);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
    }
    if (chdir("/tmp") != 0)
        _exit(126);
    execlp(bin, bin, "--port", port_text, "--bind", "127.0.0.1", "--save", "", "--appendonly",
           "no", "--daemonize", "no", "--dir", "/tmp", "--dbfilename",
           "yg-test-never-written.rdb", "--unixsocket", unix_path, "--unixsocketperm", "700",
           (char *)NULL);
    _exit(127);
}

/* Start on s->port (0: pick one).  false with s->error on failure. */
static inline bool redis_server_start(redis_server_t *s)
{
    int wanted = s->port;
    for (int attempt = 0; attempt < REDIS_UTIL_PORT_ATTEMPTS; attempt++) {
        s->port = wanted ? wanted : redis_util_free_port();
        if (!s->port) {
            snprintf(s->error, sizeof s->error, "cannot find a free loopback port: %s",
                     strerror(errno));
            return false;
        }
        snprintf(s->unix_path, sizeof s->unix_path, "/tmp/yg-test-redis-%d.sock", s->port);
        s->pid = redis_util_spawn(s->port, s->unix_path);
        if (s->pid < 0) {
            snprintf(s->error, sizeof s->error, "fork: %s", strerror(errno));
            return false;
        }
        s->paused = false;
        for (int waited = 0; waited < REDIS_UTIL_START_MS; waited += REDIS_UTIL_POLL_MS) {
            int status;
            if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
                s->pid = 0;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                    snprintf(s->error, sizeof s->error,
                             "redis-server is not installed (or not on PATH): these tests need "
                             "it; run scripts/install-deps.sh");
                    return false;
                }
                break; /* port taken meanwhile? try another */
            }
            if (redis_util_ping(s)) {
                snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d", s->port);
                return true;
            }
            redis_util_sleep_ms(REDIS_UTIL_POLL_MS);
        }
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
    }
    snprintf(s->error, sizeof s->error, "redis-server did not answer PING on port %d within %d ms",
             s->port, REDIS_UTIL_START_MS);
    return false;
}

/* Stop the server (also when paused) and reap it. */
static inline void redis_server_stop(redis_server_t *s)
{
    if (s->pid <= 0)
        return;
    if (s->paused)
        kill(s->pid, SIGCONT);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    unlink(s->unix_path);
    s->pid = 0;
    s->paused = false;
}

/* Freeze / thaw the server: connections stay open, nothing answers. */
static inline void redis_server_pause(redis_server_t *s)
{
    if (s->pid > 0 && !s->paused && kill(s->pid, SIGSTOP) == 0)
        s->paused = true;
}

static inline void redis_server_resume(redis_server_t *s)
{
    if (s->pid > 0 && s->paused && kill(s->pid, SIGCONT) == 0)
        s->paused = false;
}

/* Run one command synchronously; the reply (freeReplyObject) or NULL. */
static inline redisReply *redis_util_command(const redis_server_t *s, const char *fmt, ...)
{
    redisContext *c = redis_util_connect(s);
    if (!c)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

/* An integer reply, or -1. */
static inline long long redis_util_integer(const redis_server_t *s, const char *fmt, ...)
{
    redisContext *c = redis_util_connect(s);
    if (!c)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

#endif
