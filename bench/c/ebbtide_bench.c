/* The C benchmarks of bench/c/common.h on ebbtide's C API (ffi/include/ebbtide.h): the same
 * shapes as bench/c/uv_bench.c, as alike as the two APIs allow.
 *
 * Build (from the workspace root, after `cargo build --release -p ebbtide-ffi`; `cargo xtask
 * bench --only ffi_` does both):
 *
 *     gcc -O2 -std=c11 -Wall -Wextra -I ffi/include bench/c/ebbtide_bench.c \
 *         target/release/libebbtide_ffi.a -lpthread -ldl -lm -o target/ffi-bench/ebbtide_bench
 *
 * One runtime with one worker thread (the thread in `ebbtide_rt_run`), as libuv's one loop.
 *
 * Echo: the server reads into its connection's buffer and writes back what it read, then reads
 * again (ebbtide's API has one read at a time per stream, so there is no free list to keep). A
 * client writes its ping and reads the pong with both operations in flight together, into a
 * 4 KiB buffer as libuv's client (a read that fills its buffer leaves the socket counted as
 * readable, so a 64-byte buffer would cost one more `recv`, answered EAGAIN, per round trip).
 */
#define RUNTIME "ebbtide"
#include "common.h"

#include <errno.h>

#include "ebbtide.h"

/* ---- echo ---- */

typedef struct sconn {
    uint64_t stream;
    struct sconn *next;
    char buf[READ_BUF];
} sconn;

typedef struct echo_run echo_run;

typedef struct {
    uint64_t stream;
    echo_run *run;
    int rounds_left;
    int pending; /* the round's write callback and its whole pong */
    size_t got;
    char in[READ_BUF]; /* as libuv's client, which reads into the 4 KiB its alloc_cb gives */
} client;

struct echo_run {
    ebbtide_rt *rt;
    uint64_t listener;
    sconn *conns;
    client *clients;
    int nclients, connected, done;
    uint64_t t0, cpu0, t1, cpu1;
};

static void server_read(void *user, int64_t result);

static void server_written(void *user, int64_t result) {
    sconn *c = user;
    if (result < 0 ||
        ebbtide_tcp_read(c->stream, c->buf, sizeof c->buf, server_read, c) != 0)
        ebbtide_tcp_close(c->stream);
}

static void server_read(void *user, int64_t result) {
    sconn *c = user;
    if (result <= 0 ||
        ebbtide_tcp_write_all(c->stream, c->buf, (size_t)result, server_written, c) != 0)
        ebbtide_tcp_close(c->stream);
}

static void on_accept(void *user, int64_t result) {
    echo_run *r = user;
    if (result == -ECANCELED) return;
    CHECK(result > 0, "accept");
    sconn *c = calloc(1, sizeof *c);
    CHECK(c != NULL, "calloc");
    c->stream = (uint64_t)result;
    c->next = r->conns;
    r->conns = c;
    CHECK(ebbtide_tcp_read(c->stream, c->buf, sizeof c->buf, server_read, c) == 0, "read");
    CHECK(ebbtide_tcp_accept(r->rt, r->listener, on_accept, r) == 0, "accept");
}

static void client_round(client *c);
static void client_read(void *user, int64_t result);

static void client_part_done(client *c) {
    if (--c->pending != 0) return;
    if (--c->rounds_left > 0) {
        client_round(c);
        return;
    }
    echo_run *r = c->run;
    if (++r->done == r->nclients) {
        r->t1 = now_ns();
        r->cpu1 = cpu_now_ns();
        ebbtide_rt_stop(r->rt);
    }
}

static void client_written(void *user, int64_t result) {
    CHECK(result == MSG_SIZE, "client write");
    client_part_done(user);
}

static void client_read(void *user, int64_t result) {
    client *c = user;
    CHECK(result > 0, "client read");
    c->got += (size_t)result;
    CHECK(c->got <= MSG_SIZE, "pong too long");
    if (c->got < MSG_SIZE) {
        CHECK(ebbtide_tcp_read(c->stream, c->in, sizeof c->in, client_read, c) == 0, "read");
        return;
    }
    client_part_done(c);
}

static void client_round(client *c) {
    c->got = 0;
    c->pending = 2;
    CHECK(ebbtide_tcp_write_all(c->stream, PING, MSG_SIZE, client_written, c) == 0, "write");
    CHECK(ebbtide_tcp_read(c->stream, c->in, sizeof c->in, client_read, c) == 0, "read");
}

static void client_connected(void *user, int64_t result) {
    client *c = user;
    CHECK(result > 0, "connect");
    c->stream = (uint64_t)result;
    echo_run *r = c->run;
    if (++r->connected < r->nclients) return;
    r->t0 = now_ns();
    r->cpu0 = cpu_now_ns();
    for (int i = 0; i < r->nclients; i++) client_round(&r->clients[i]);
}

static ebbtide_rt *new_runtime(uint32_t tasks) {
    ebbtide_rt_options options = {0};
    options.worker_threads = 1;
    options.task_capacity = tasks;
    ebbtide_rt *rt;
    int rc = ebbtide_rt_new(&options, &rt);
    if (rc != 0) {
        fprintf(stderr, "%s: ebbtide_rt_new: %s\n", RUNTIME, ebbtide_strerror(rc));
        exit(1);
    }
    return rt;
}

static int run_echo(int conns, int rounds, sample *out) {
    echo_run *r = calloc(1, sizeof *r);
    CHECK(r != NULL, "calloc");
    r->clients = calloc((size_t)conns, sizeof *r->clients);
    CHECK(r->clients != NULL, "calloc");
    r->nclients = conns;
    /* Each connection has a read and a write in flight on each side, and an accept. */
    r->rt = new_runtime((uint32_t)(4 * conns + 64));
    CHECK(ebbtide_tcp_listen(r->rt, "127.0.0.1:0", &r->listener) == 0, "listen");
    uint16_t port = 0;
    CHECK(ebbtide_tcp_local_port(r->listener, &port) == 0, "local port");
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
    CHECK(ebbtide_tcp_accept(r->rt, r->listener, on_accept, r) == 0, "accept");
    for (int i = 0; i < conns; i++) {
        client *c = &r->clients[i];
        c->run = r;
        c->rounds_left = rounds;
        CHECK(ebbtide_tcp_connect(r->rt, addr, client_connected, c) == 0, "connect");
    }
    CHECK(ebbtide_rt_run(r->rt) == 0, "run"); /* until the last client's stop */
    CHECK(r->done == conns, "not every client finished");
    out->ns = r->t1 - r->t0;
    out->cpu_ns = r->cpu1 - r->cpu0;
    out->ops = (uint64_t)conns * (uint64_t)rounds;
    for (int i = 0; i < conns; i++) ebbtide_tcp_close(r->clients[i].stream);
    ebbtide_tcp_close(r->listener);
    ebbtide_rt_free(r->rt); /* the server's pending reads end with -ECANCELED */
    for (sconn *c = r->conns, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(r->clients);
    free(r);
    return 0;
}

/* ---- a million timers ---- */

typedef struct {
    ebbtide_rt *rt;
    int fired, n;
} timers_run;

static void timer_fired(void *user, int64_t result) {
    timers_run *t = user;
    CHECK(result == 0, "timer");
    if (++t->fired == t->n) ebbtide_rt_stop(t->rt);
}

static int run_timers(int n, sample *out) {
    timers_run t = {.rt = new_runtime((uint32_t)n + 64), .n = n};
    uint64_t t0 = now_ns(), cpu0 = cpu_now_ns();
    for (int i = 0; i < n; i++) {
        int rc = ebbtide_timer(t.rt, timer_ms(i) * EBBTIDE_NS_PER_MS, timer_fired, &t, NULL);
        if (rc != 0) {
            fprintf(stderr, "%s: timer %d: %s\n", RUNTIME, i, ebbtide_strerror(rc));
            exit(1);
        }
    }
    uint64_t started = now_ns(), started_cpu = cpu_now_ns();
    CHECK(ebbtide_rt_run(t.rt) == 0, "run");
    CHECK(t.fired == n, "not every timer fired");
    out->ns = now_ns() - t0;
    out->cpu_ns = cpu_now_ns() - cpu0;
    out->start_ns = started - t0;
    out->start_cpu_ns = started_cpu - cpu0;
    out->ops = (uint64_t)n;
    ebbtide_rt_free(t.rt);
    return 0;
}
