/* The C benchmarks of bench/c/common.h on libuv (Debian's libuv1-dev): the same shapes as
 * bench/c/ebbtide_bench.c, as alike as the two APIs allow.
 *
 * Build (from the workspace root; `cargo xtask bench --only ffi_` does it):
 *
 *     gcc -O2 -std=c11 -Wall -Wextra bench/c/uv_bench.c -o target/ffi-bench/uv_bench -luv
 *
 * Echo: the server reads continuously (`uv_read_start`); each read lands in a buffer taken from
 * its connection's free list (one buffer in use in steady state) and is written back from it,
 * the buffer going back to the list when the write completes (libuv's own echo server mallocs
 * one per read instead). A client writes its ping from a static buffer and counts the pong's
 * bytes as they come.
 */
#define RUNTIME "libuv"
#include "common.h"

#include <uv.h>

/* ---- echo ---- */

typedef struct wbuf {
    uv_write_t req;
    struct wbuf *next;
    uv_buf_t buf;
    char data[READ_BUF];
} wbuf;

typedef struct sconn {
    uv_tcp_t tcp;
    wbuf *free;
    struct sconn *next;
} sconn;

typedef struct echo_run echo_run;

typedef struct {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    echo_run *run;
    int rounds_left;
    int pending; /* the round's write callback and its whole pong */
    size_t got;
    char in[READ_BUF];
} client;

struct echo_run {
    uv_loop_t loop;
    uv_tcp_t listener;
    sconn *conns;
    client *clients;
    int nclients, connected, done;
    uint64_t t0, cpu0, t1, cpu1;
};

static void conn_closed(uv_handle_t *h) {
    sconn *c = (sconn *)h;
    while (c->free) {
        wbuf *b = c->free;
        c->free = b->next;
        free(b);
    }
    free(c);
}

static void server_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    sconn *c = (sconn *)h;
    wbuf *b = c->free;
    if (b != NULL) {
        c->free = b->next;
    } else {
        b = malloc(sizeof *b);
        CHECK(b != NULL, "malloc");
    }
    *buf = uv_buf_init(b->data, READ_BUF);
}

static void server_written(uv_write_t *req, int status) {
    wbuf *b = (wbuf *)req;
    sconn *c = req->data;
    b->next = c->free;
    c->free = b;
    if (status < 0 && !uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void server_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    sconn *c = (sconn *)s;
    wbuf *b = buf->base ? (wbuf *)(buf->base - offsetof(wbuf, data)) : NULL;
    if (n > 0) {
        b->buf = uv_buf_init(b->data, (unsigned)n);
        b->req.data = c;
        if (uv_write(&b->req, s, &b->buf, 1, server_written) == 0) return;
        n = UV_EPIPE;
    }
    if (b != NULL) {
        b->next = c->free;
        c->free = b;
    }
    if (n < 0 && !uv_is_closing((uv_handle_t *)s)) uv_close((uv_handle_t *)s, conn_closed);
}

static void on_connection(uv_stream_t *listener, int status) {
    echo_run *r = listener->data;
    CHECK(status == 0, "accept");
    sconn *c = calloc(1, sizeof *c);
    CHECK(c != NULL, "calloc");
    CHECK(uv_tcp_init(&r->loop, &c->tcp) == 0, "uv_tcp_init");
    CHECK(uv_accept(listener, (uv_stream_t *)&c->tcp) == 0, "uv_accept");
    uv_tcp_nodelay(&c->tcp, 1);
    c->next = r->conns;
    r->conns = c;
    CHECK(uv_read_start((uv_stream_t *)&c->tcp, server_alloc, server_read) == 0, "uv_read_start");
}

static void client_round(client *c);

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
        uv_stop(&r->loop);
    }
}

static void client_written(uv_write_t *req, int status) {
    CHECK(status == 0, "client write");
    client_part_done(req->data);
}

static void client_round(client *c) {
    static uv_buf_t ping;
    ping = uv_buf_init((char *)PING, MSG_SIZE);
    c->got = 0;
    c->pending = 2;
    c->write.data = c;
    CHECK(uv_write(&c->write, (uv_stream_t *)&c->tcp, &ping, 1, client_written) == 0, "uv_write");
}

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)suggested;
    client *c = h->data;
    *buf = uv_buf_init(c->in, sizeof c->in);
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    (void)buf;
    client *c = s->data;
    if (n == 0) return;
    CHECK(n > 0, "client read");
    c->got += (size_t)n;
    CHECK(c->got <= MSG_SIZE, "pong too long");
    if (c->got == MSG_SIZE) client_part_done(c);
}

static void client_connected(uv_connect_t *req, int status) {
    client *c = req->data;
    CHECK(status == 0, "connect");
    uv_tcp_nodelay(&c->tcp, 1);
    CHECK(uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_read) == 0, "uv_read_start");
    echo_run *r = c->run;
    if (++r->connected < r->nclients) return;
    r->t0 = now_ns();
    r->cpu0 = cpu_now_ns();
    for (int i = 0; i < r->nclients; i++) client_round(&r->clients[i]);
}

static int run_echo(int conns, int rounds, sample *out) {
    echo_run *r = calloc(1, sizeof *r);
    CHECK(r != NULL, "calloc");
    r->clients = calloc((size_t)conns, sizeof *r->clients);
    CHECK(r->clients != NULL, "calloc");
    r->nclients = conns;
    CHECK(uv_loop_init(&r->loop) == 0, "uv_loop_init");
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    CHECK(uv_tcp_init(&r->loop, &r->listener) == 0, "uv_tcp_init");
    CHECK(uv_tcp_bind(&r->listener, (const struct sockaddr *)&addr, 0) == 0, "bind");
    r->listener.data = r;
    CHECK(uv_listen((uv_stream_t *)&r->listener, 1024, on_connection) == 0, "listen");
    struct sockaddr_storage bound;
    int len = sizeof bound;
    CHECK(uv_tcp_getsockname(&r->listener, (struct sockaddr *)&bound, &len) == 0, "getsockname");
    for (int i = 0; i < conns; i++) {
        client *c = &r->clients[i];
        c->run = r;
        c->rounds_left = rounds;
        CHECK(uv_tcp_init(&r->loop, &c->tcp) == 0, "uv_tcp_init");
        c->tcp.data = c;
        c->connect.data = c;
        CHECK(uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&bound, client_connected) == 0,
              "uv_tcp_connect");
    }
    uv_run(&r->loop, UV_RUN_DEFAULT); /* until the last client's uv_stop */
    CHECK(r->done == conns, "not every client finished");
    out->ns = r->t1 - r->t0;
    out->cpu_ns = r->cpu1 - r->cpu0;
    out->ops = (uint64_t)conns * (uint64_t)rounds;
    uv_close((uv_handle_t *)&r->listener, NULL);
    for (int i = 0; i < conns; i++) uv_close((uv_handle_t *)&r->clients[i].tcp, NULL);
    for (sconn *c = r->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, conn_closed);
    }
    uv_run(&r->loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&r->loop) == 0, "uv_loop_close");
    free(r->clients);
    free(r);
    return 0;
}

/* ---- a million timers ---- */

static int timers_fired;

static void timer_fired(uv_timer_t *t) {
    (void)t;
    timers_fired++;
}

static void timer_closed(uv_handle_t *h) { (void)h; }

static int run_timers(int n, sample *out) {
    uv_loop_t loop;
    CHECK(uv_loop_init(&loop) == 0, "uv_loop_init");
    uv_timer_t *timers = malloc((size_t)n * sizeof *timers);
    CHECK(timers != NULL, "malloc");
    timers_fired = 0;
    uint64_t t0 = now_ns(), cpu0 = cpu_now_ns();
    for (int i = 0; i < n; i++) {
        CHECK(uv_timer_init(&loop, &timers[i]) == 0, "uv_timer_init");
        CHECK(uv_timer_start(&timers[i], timer_fired, timer_ms(i), 0) == 0, "uv_timer_start");
    }
    uint64_t started = now_ns(), started_cpu = cpu_now_ns();
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0, "uv_run");
    CHECK(timers_fired == n, "not every timer fired");
    for (int i = 0; i < n; i++) uv_close((uv_handle_t *)&timers[i], timer_closed);
    CHECK(uv_run(&loop, UV_RUN_DEFAULT) == 0, "uv_run");
    out->ns = now_ns() - t0;
    out->cpu_ns = cpu_now_ns() - cpu0;
    out->start_ns = started - t0;
    out->start_cpu_ns = started_cpu - cpu0;
    out->ops = (uint64_t)n;
    CHECK(uv_loop_close(&loop) == 0, "uv_loop_close");
    free(timers);
    return 0;
}
