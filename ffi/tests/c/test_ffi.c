/* The C tests of ebbtide's C API (ffi/include/ebbtide.h), built and run by the `ffi` stage of
 * `cargo xtask ci`: plain, under AddressSanitizer and UBSan, and under valgrind. Real loopback
 * sockets, real threads, bounded counts; every test has a watchdog timer that fails it instead
 * of hanging. Prints "N passed, M failed" and exits non-zero on a failure. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ebbtide.h"

static int failures_in_test;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures_in_test++;                                                      \
        }                                                                            \
    } while (0)

#define CHECK_EQ(a, b)                                                                  \
    do {                                                                                \
        long long a_ = (long long)(a), b_ = (long long)(b);                             \
        if (a_ != b_) {                                                                 \
            fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld (%s)\n", __FILE__, \
                    __LINE__, #a, a_, #b, b_, a_ < 0 ? ebbtide_strerror((int)a_) : "");  \
            failures_in_test++;                                                         \
        }                                                                               \
    } while (0)

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A watchdog: a timer that stops the runtime and marks the test failed. */
typedef struct {
    ebbtide_rt *rt;
    int fired;
} watchdog;

static void watchdog_cb(void *user, int64_t result) {
    watchdog *w = user;
    if (result == 0) {
        w->fired = 1;
        ebbtide_rt_stop(w->rt);
    }
}

static uint64_t arm_watchdog(watchdog *w, ebbtide_rt *rt, uint64_t ms) {
    uint64_t id = 0;
    w->rt = rt;
    w->fired = 0;
    CHECK_EQ(ebbtide_timer(rt, ms * EBBTIDE_NS_PER_MS, watchdog_cb, w, &id), 0);
    return id;
}

static void disarm_watchdog(watchdog *w, ebbtide_rt *rt, uint64_t id) {
    CHECK(!w->fired);
    if (w->fired) fprintf(stderr, "  the watchdog fired: the test hung\n");
    /* -ENOENT if it fired; else its callback gets -ECANCELED (at the next run or the free). */
    (void)ebbtide_timer_cancel(rt, id);
}

/* ---- timers in order, cancel ---- */

typedef struct {
    ebbtide_rt *rt;
    int order[8];
    int count;
    int expected;
    int cancelled;
    double started;
} timer_state;

typedef struct {
    timer_state *state;
    int tag;
} timer_arg;

/* The timers' deadlines are this far apart: more than the runtime may stall under valgrind on
 * a loaded machine (20 ms was not, once). Timers that are all overdue when their tasks first
 * run fire in the order they were set, not by deadline (see the crate docs). */
#define TIMER_GAP_MS 100

static void timer_cb(void *user, int64_t result) {
    timer_arg *arg = user;
    timer_state *s = arg->state;
    if (result == -ECANCELED) {
        s->cancelled++;
        return;
    }
    CHECK_EQ(result, 0);
    /* Never early. */
    CHECK(now_ms() - s->started >= arg->tag * TIMER_GAP_MS - 0.5);
    s->order[s->count++] = arg->tag;
    if (s->count == s->expected) ebbtide_rt_stop(s->rt);
}

typedef struct {
    timer_state *s;
    timer_arg args[6];
} timers_setup;

/* Sets the timers from a callback, on a running runtime (so that a slow start, as under
 * valgrind, does not find them all overdue at once, when they fire in the order they were set). */
static void set_timers(void *user, int64_t result) {
    timers_setup *t = user;
    timer_state *s = t->s;
    CHECK_EQ(result, 0);
    s->started = now_ms();
    int tags[5] = {5, 1, 4, 2, 3};
    for (int i = 0; i < 5; i++) {
        t->args[i] = (timer_arg){s, tags[i]};
        CHECK_EQ(ebbtide_timer(s->rt, (uint64_t)tags[i] * TIMER_GAP_MS * EBBTIDE_NS_PER_MS, timer_cb, &t->args[i], NULL), 0);
    }
    /* A long timer, cancelled before it fires: its callback gets -ECANCELED. */
    uint64_t long_id = 0;
    t->args[5] = (timer_arg){s, 1000};
    CHECK_EQ(ebbtide_timer(s->rt, 10000 * EBBTIDE_NS_PER_MS, timer_cb, &t->args[5], &long_id), 0);
    CHECK_EQ(ebbtide_timer_cancel(s->rt, long_id), 0);
    CHECK_EQ(ebbtide_timer_cancel(s->rt, long_id), -ENOENT);
}

static void test_timers_in_order(void) {
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(NULL, &rt), 0);
    timer_state s = {.rt = rt, .expected = 5};
    timers_setup setup = {.s = &s};
    CHECK_EQ(ebbtide_spawn(rt, set_timers, &setup), 0);
    watchdog w;
    uint64_t dog = arm_watchdog(&w, rt, 5000);
    double before = now_ms();
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK(now_ms() - before < 5000);
    CHECK_EQ(s.count, 5);
    for (int i = 0; i < s.count; i++) CHECK_EQ(s.order[i], i + 1);
    CHECK_EQ(s.cancelled, 1);
    disarm_watchdog(&w, rt, dog);
    ebbtide_rt_free(rt);
}

/* ---- TCP echo on loopback ---- */

#define ECHO_ROUNDS 200
#define ECHO_CONNS 4

typedef struct echo_server echo_server;

typedef struct {
    echo_server *server;
    uint64_t stream;
    char buf[4096];
} server_conn;

struct echo_server {
    ebbtide_rt *rt;
    uint64_t listener;
    server_conn conns[ECHO_CONNS];
    int accepted;
    int closed;
    long long echoed;
};

static void server_read_cb(void *user, int64_t result);

static void server_write_cb(void *user, int64_t result) {
    server_conn *c = user;
    if (result < 0) {
        fprintf(stderr, "  server write: %s\n", ebbtide_strerror((int)result));
        return;
    }
    CHECK_EQ(ebbtide_tcp_read(c->stream, c->buf, sizeof c->buf, server_read_cb, c), 0);
}

static void server_read_cb(void *user, int64_t result) {
    server_conn *c = user;
    if (result <= 0) {
        /* 0: the client closed its side. */
        CHECK_EQ(result, 0);
        CHECK_EQ(ebbtide_tcp_close(c->stream), 0);
        CHECK_EQ(ebbtide_tcp_close(c->stream), -EBADF);
        /* The connections' callbacks may run at once on two workers. */
        __atomic_add_fetch(&c->server->closed, 1, __ATOMIC_RELAXED);
        return;
    }
    __atomic_add_fetch(&c->server->echoed, (long long)result, __ATOMIC_RELAXED);
    CHECK_EQ(ebbtide_tcp_write_all(c->stream, c->buf, (size_t)result, server_write_cb, c), 0);
}

static void accept_cb(void *user, int64_t result) {
    echo_server *s = user;
    if (result == -ECANCELED) return; /* the listener was closed */
    CHECK(result > 0);
    if (result <= 0) return;
    server_conn *c = &s->conns[s->accepted++];
    c->server = s;
    c->stream = (uint64_t)result;
    CHECK_EQ(ebbtide_tcp_read(c->stream, c->buf, sizeof c->buf, server_read_cb, c), 0);
    if (s->accepted < ECHO_CONNS) {
        CHECK_EQ(ebbtide_tcp_accept(s->rt, s->listener, accept_cb, s), 0);
    }
}

typedef struct {
    ebbtide_rt *rt;
    int *done;
    uint64_t stream;
    int id;
    int round;
    char out[1000];
    char in[1000];
    size_t got;
    /* The round's write and its echo's last read: the next round starts when both are done (a
     * write's callback may come after the echo arrived, on another worker). */
    int pending;
} client;

static void client_read_cb(void *user, int64_t result);

static void client_send_round(client *c) {
    for (size_t i = 0; i < sizeof c->out; i++) c->out[i] = (char)(c->id * 31 + c->round * 7 + i);
    c->got = 0;
    CHECK_EQ(ebbtide_tcp_write_all(c->stream, c->out, sizeof c->out, NULL, NULL), -EINVAL);
}

static void client_round_part_done(client *c);

static void client_write_cb(void *user, int64_t result) {
    client *c = user;
    CHECK_EQ(result, (int64_t)sizeof c->out);
    client_round_part_done(c);
}

static void client_start_round(client *c) {
    client_send_round(c);
    c->pending = 2;
    CHECK_EQ(ebbtide_tcp_write_all(c->stream, c->out, sizeof c->out, client_write_cb, c), 0);
    CHECK_EQ(ebbtide_tcp_read(c->stream, c->in, sizeof c->in, client_read_cb, c), 0);
    /* One read at a time. */
    CHECK_EQ(ebbtide_tcp_read(c->stream, c->in, sizeof c->in, client_read_cb, c), -EBUSY);
}

static void client_read_cb(void *user, int64_t result) {
    client *c = user;
    CHECK(result > 0);
    if (result <= 0) {
        ebbtide_rt_stop(c->rt);
        return;
    }
    c->got += (size_t)result;
    if (c->got < sizeof c->in) {
        CHECK_EQ(ebbtide_tcp_read(c->stream, c->in + c->got, sizeof c->in - c->got, client_read_cb, c), 0);
        return;
    }
    CHECK(memcmp(c->in, c->out, sizeof c->in) == 0);
    client_round_part_done(c);
}

static void client_round_part_done(client *c) {
    /* Both callbacks of a round may run at once on two workers. */
    if (__atomic_sub_fetch(&c->pending, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (++c->round < ECHO_ROUNDS) {
        client_start_round(c);
        return;
    }
    CHECK_EQ(ebbtide_tcp_close(c->stream), 0);
    /* Clients finish on either worker. */
    if (__atomic_add_fetch(c->done, 1, __ATOMIC_ACQ_REL) == ECHO_CONNS) ebbtide_rt_stop(c->rt);
}

static void connect_cb(void *user, int64_t result) {
    client *c = user;
    CHECK(result > 0);
    if (result <= 0) {
        ebbtide_rt_stop(c->rt);
        return;
    }
    c->stream = (uint64_t)result;
    client_start_round(c);
}

static void test_tcp_echo_with(uint32_t workers) {
    ebbtide_rt_options options = {0};
    options.worker_threads = workers;
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(&options, &rt), 0);
    echo_server server = {.rt = rt};
    CHECK_EQ(ebbtide_tcp_listen(rt, "127.0.0.1:0", &server.listener), 0);
    uint16_t port = 0;
    CHECK_EQ(ebbtide_tcp_local_port(server.listener, &port), 0);
    CHECK(port != 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
    CHECK_EQ(ebbtide_tcp_accept(rt, server.listener, accept_cb, &server), 0);
    CHECK_EQ(ebbtide_tcp_accept(rt, server.listener, accept_cb, &server), -EBUSY);

    int done = 0;
    client clients[ECHO_CONNS];
    memset(clients, 0, sizeof clients);
    for (int i = 0; i < ECHO_CONNS; i++) {
        clients[i].rt = rt;
        clients[i].done = &done;
        clients[i].id = i;
        CHECK_EQ(ebbtide_tcp_connect(rt, addr, connect_cb, &clients[i]), 0);
    }
    watchdog w;
    uint64_t dog = arm_watchdog(&w, rt, 20000);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(__atomic_load_n(&done, __ATOMIC_ACQUIRE), ECHO_CONNS);
    CHECK_EQ(server.accepted, ECHO_CONNS);
    /* The server sees each client's end of stream and closes; give it a moment. */
    watchdog tick = {rt, 0};
    for (int i = 0; i < 200 && __atomic_load_n(&server.closed, __ATOMIC_RELAXED) < ECHO_CONNS; i++) {
        uint64_t t;
        CHECK_EQ(ebbtide_timer(rt, 5 * EBBTIDE_NS_PER_MS, watchdog_cb, &tick, &t), 0);
        ebbtide_rt_run(rt);
    }
    CHECK_EQ(__atomic_load_n(&server.closed, __ATOMIC_RELAXED), ECHO_CONNS);
    CHECK_EQ(__atomic_load_n(&server.echoed, __ATOMIC_RELAXED), (long long)ECHO_CONNS * ECHO_ROUNDS * 1000);
    CHECK_EQ(ebbtide_tcp_close(server.listener), 0);
    disarm_watchdog(&w, rt, dog);
    ebbtide_rt_free(rt);
}

static void test_tcp_echo(void) { test_tcp_echo_with(1); }
static void test_tcp_echo_two_workers(void) { test_tcp_echo_with(2); }

/* ---- refused and reset connections ---- */

typedef struct {
    ebbtide_rt *rt;
    int64_t result;
    int calls;
} one_result;

static void record_and_stop(void *user, int64_t result) {
    one_result *r = user;
    r->result = result;
    r->calls++;
    ebbtide_rt_stop(r->rt);
}

static void test_tcp_errors(void) {
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(NULL, &rt), 0);
    /* A port nobody listens on: bind one, note it, close it. */
    uint64_t listener = 0;
    CHECK_EQ(ebbtide_tcp_listen(rt, "127.0.0.1:0", &listener), 0);
    uint16_t port = 0;
    CHECK_EQ(ebbtide_tcp_local_port(listener, &port), 0);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
    uint64_t again = 0;
    CHECK_EQ(ebbtide_tcp_listen(rt, addr, &again), -EADDRINUSE);
    CHECK_EQ(ebbtide_tcp_close(listener), 0);
    CHECK_EQ(ebbtide_tcp_local_port(listener, &port), -EBADF);

    one_result r = {.rt = rt};
    CHECK_EQ(ebbtide_tcp_connect(rt, addr, record_and_stop, &r), 0);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.result, -ECONNREFUSED);

    CHECK_EQ(ebbtide_tcp_connect(rt, "not an address", record_and_stop, &r), -EINVAL);
    CHECK_EQ(ebbtide_tcp_listen(rt, "localhost:80", &again), -EINVAL);

    /* The server closes a connection: the client's read ends (0), its writes fail in time. */
    CHECK_EQ(ebbtide_tcp_listen(rt, "127.0.0.1:0", &listener), 0);
    CHECK_EQ(ebbtide_tcp_local_port(listener, &port), 0);
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
    one_result accepted = {.rt = rt}, connected = {.rt = rt};
    CHECK_EQ(ebbtide_tcp_accept(rt, listener, record_and_stop, &accepted), 0);
    CHECK_EQ(ebbtide_tcp_connect(rt, addr, record_and_stop, &connected), 0);
    for (int i = 0; i < 100 && (accepted.calls == 0 || connected.calls == 0); i++) ebbtide_rt_run(rt);
    CHECK(accepted.result > 0 && connected.result > 0);
    CHECK_EQ(ebbtide_tcp_close((uint64_t)accepted.result), 0);
    char buf[64];
    r.calls = 0;
    CHECK_EQ(ebbtide_tcp_read((uint64_t)connected.result, buf, sizeof buf, record_and_stop, &r), 0);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.result, 0);
    static char big[1 << 16];
    int64_t last = 1;
    for (int i = 0; i < 200 && last > 0; i++) {
        r.calls = 0;
        CHECK_EQ(ebbtide_tcp_write_all((uint64_t)connected.result, big, sizeof big, record_and_stop, &r), 0);
        CHECK_EQ(ebbtide_rt_run(rt), 0);
        last = r.result;
    }
    CHECK(last == -EPIPE || last == -ECONNRESET);
    CHECK_EQ(ebbtide_tcp_close((uint64_t)connected.result), 0);

    /* Closing a stream with a read pending: the read's callback gets -ECANCELED. */
    accepted.calls = connected.calls = 0;
    CHECK_EQ(ebbtide_tcp_accept(rt, listener, record_and_stop, &accepted), 0);
    CHECK_EQ(ebbtide_tcp_connect(rt, addr, record_and_stop, &connected), 0);
    for (int i = 0; i < 100 && (accepted.calls == 0 || connected.calls == 0); i++) ebbtide_rt_run(rt);
    CHECK(accepted.result > 0 && connected.result > 0);
    r.calls = 0;
    CHECK_EQ(ebbtide_tcp_read((uint64_t)accepted.result, buf, sizeof buf, record_and_stop, &r), 0);
    CHECK_EQ(ebbtide_tcp_close((uint64_t)accepted.result), 0);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(r.calls, 1);
    CHECK_EQ(r.result, -ECANCELED);
    CHECK_EQ(ebbtide_tcp_close((uint64_t)connected.result), 0);
    CHECK_EQ(ebbtide_tcp_close(listener), 0);
    ebbtide_rt_free(rt);
}

/* ---- channel traffic from 4 C threads ---- */

#define CHAN_THREADS 4
#define CHAN_PER_THREAD 2000

typedef struct {
    uint32_t thread;
    uint32_t seq;
    uint64_t check;
} msg;

/* The run stops once all 4 producers have seen their last send complete and the consumer has
 * seen the channel's end: whoever finishes the 5th part stops it. (Stopping when the consumer
 * has everything would be too early: a producer's last send callback may still be queued.) */
static atomic_int chan_parts_done;

static void chan_part_done(ebbtide_rt *rt) {
    if (atomic_fetch_add(&chan_parts_done, 1) + 1 == CHAN_THREADS + 1) ebbtide_rt_stop(rt);
}

typedef struct {
    ebbtide_rt *rt;
    uint64_t chan;
    int thread;
    atomic_int sent_ok;
    msg out;
} producer;

static void send_done(void *user, int64_t result) {
    producer *p = user;
    CHECK_EQ(result, 0);
    atomic_store(&p->sent_ok, 1);
}

static void *producer_main(void *arg) {
    producer *p = arg;
    for (uint32_t seq = 0; seq < CHAN_PER_THREAD; seq++) {
        msg m = {(uint32_t)p->thread, seq, (uint64_t)p->thread * 1000003u + seq};
        if (seq % 2 == 0) {
            /* try_send, backing off while the channel is full. */
            int rc;
            while ((rc = ebbtide_chan_try_send(p->chan, &m)) == -EAGAIN) sched_yield();
            CHECK_EQ(rc, 0);
        } else {
            /* send: the message buffer is the library's until the callback. */
            p->out = m;
            atomic_store(&p->sent_ok, 0);
            CHECK_EQ(ebbtide_chan_send(p->chan, &p->out, send_done, p), 0);
            while (!atomic_load(&p->sent_ok)) sched_yield();
        }
    }
    chan_part_done(p->rt);
    return NULL;
}

typedef struct {
    ebbtide_rt *rt;
    uint64_t chan;
    msg in;
    uint32_t next[CHAN_THREADS];
    int received;
    int closed;
} consumer;

static void recv_cb(void *user, int64_t result) {
    consumer *c = user;
    if (result == 0) {
        c->closed = 1;
        chan_part_done(c->rt);
        return;
    }
    CHECK_EQ(result, (int64_t)sizeof(msg));
    if (result != (int64_t)sizeof(msg)) return;
    CHECK(c->in.thread < CHAN_THREADS);
    if (c->in.thread < CHAN_THREADS) {
        /* Each thread's messages arrive in its order. */
        CHECK_EQ(c->in.seq, c->next[c->in.thread]);
        c->next[c->in.thread] = c->in.seq + 1;
        CHECK_EQ(c->in.check, (uint64_t)c->in.thread * 1000003u + c->in.seq);
    }
    if (++c->received == CHAN_THREADS * CHAN_PER_THREAD) {
        /* Everything arrived: close, and the next receive reports the end. */
        CHECK_EQ(ebbtide_chan_close(c->chan), 0);
    }
    CHECK_EQ(ebbtide_chan_recv(c->chan, &c->in, recv_cb, c), 0);
}

static void test_channel_threads(void) {
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(NULL, &rt), 0);
    uint64_t chan = 0;
    CHECK_EQ(ebbtide_chan_new(rt, 8, sizeof(msg), &chan), 0);
    CHECK_EQ(ebbtide_chan_new(rt, 8, 0, &chan), -EINVAL);
    consumer c = {.rt = rt, .chan = chan};
    atomic_store(&chan_parts_done, 0);
    CHECK_EQ(ebbtide_chan_recv(chan, &c.in, recv_cb, &c), 0);
    producer producers[CHAN_THREADS];
    pthread_t threads[CHAN_THREADS];
    for (int i = 0; i < CHAN_THREADS; i++) {
        producers[i] = (producer){.rt = rt, .chan = chan, .thread = i};
        CHECK_EQ(pthread_create(&threads[i], NULL, producer_main, &producers[i]), 0);
    }
    watchdog w;
    uint64_t dog = arm_watchdog(&w, rt, 60000);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    for (int i = 0; i < CHAN_THREADS; i++) pthread_join(threads[i], NULL);
    CHECK_EQ(c.received, CHAN_THREADS * CHAN_PER_THREAD);
    CHECK(c.closed);
    msg m = {0};
    CHECK_EQ(ebbtide_chan_try_send(chan, &m), -EPIPE);
    CHECK_EQ(ebbtide_chan_try_recv(chan, &m), 0);
    CHECK_EQ(ebbtide_chan_free(chan), 0);
    CHECK_EQ(ebbtide_chan_free(chan), -EBADF);
    CHECK_EQ(ebbtide_chan_try_recv(chan, &m), -EBADF);
    disarm_watchdog(&w, rt, dog);
    ebbtide_rt_free(rt);
}

static void test_channel_try(void) {
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(NULL, &rt), 0);
    uint64_t chan = 0;
    CHECK_EQ(ebbtide_chan_new(rt, 2, sizeof(int), &chan), 0);
    int a = 1, b = 2, c = 3, out = 0;
    CHECK_EQ(ebbtide_chan_try_recv(chan, &out), -EAGAIN);
    CHECK_EQ(ebbtide_chan_try_send(chan, &a), 0);
    CHECK_EQ(ebbtide_chan_try_send(chan, &b), 0);
    CHECK_EQ(ebbtide_chan_try_send(chan, &c), -EAGAIN);
    /* A send that waits for room, then completes when a receive makes some. */
    one_result sent = {.rt = rt};
    CHECK_EQ(ebbtide_chan_send(chan, &c, record_and_stop, &sent), 0);
    CHECK_EQ(ebbtide_chan_try_recv(chan, &out), (int)sizeof(int));
    CHECK_EQ(out, 1);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(sent.calls, 1);
    CHECK_EQ(sent.result, 0);
    CHECK_EQ(ebbtide_chan_try_recv(chan, &out), (int)sizeof(int));
    CHECK_EQ(out, 2);
    CHECK_EQ(ebbtide_chan_try_recv(chan, &out), (int)sizeof(int));
    CHECK_EQ(out, 3);
    /* Freeing a channel with a receive waiting: the receive gets -ECANCELED. */
    one_result got = {.rt = rt};
    CHECK_EQ(ebbtide_chan_recv(chan, &out, record_and_stop, &got), 0);
    CHECK_EQ(ebbtide_chan_free(chan), 0);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(got.calls, 1);
    CHECK_EQ(got.result, -ECANCELED);
    ebbtide_rt_free(rt);
}

/* ---- stale, forged and NULL arguments ---- */

static void never_called(void *user, int64_t result) {
    (void)user;
    (void)result;
    CHECK(!"a callback of a refused call was called");
}

static void test_stale_handles(void) {
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(NULL, NULL), -EINVAL);
    CHECK_EQ(ebbtide_rt_new(NULL, &rt), 0);
    char buf[16];
    uint64_t listener = 0, chan = 0, timer = 0;
    CHECK_EQ(ebbtide_tcp_listen(rt, "127.0.0.1:0", &listener), 0);
    CHECK_EQ(ebbtide_chan_new(rt, 1, sizeof buf, &chan), 0);
    /* Forged handles, and handles of another kind. */
    uint64_t forged[] = {0, 1, 12345, UINT64_MAX, listener + 1, listener ^ (1ull << 30), chan};
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        CHECK_EQ(ebbtide_tcp_read(forged[i], buf, sizeof buf, never_called, NULL), -EBADF);
        CHECK_EQ(ebbtide_tcp_write_all(forged[i], buf, sizeof buf, never_called, NULL), -EBADF);
        CHECK_EQ(ebbtide_tcp_close(forged[i]), -EBADF);
        CHECK_EQ(ebbtide_tcp_accept(rt, forged[i], never_called, NULL), -EBADF);
        CHECK_EQ(ebbtide_timer_cancel(rt, forged[i]), -ENOENT);
    }
    CHECK_EQ(ebbtide_chan_try_send(listener, buf), -EBADF);
    CHECK_EQ(ebbtide_chan_recv(listener, buf, never_called, NULL), -EBADF);
    /* A listener is not a stream. */
    CHECK_EQ(ebbtide_tcp_read(listener, buf, sizeof buf, never_called, NULL), -EBADF);
    /* Stale: closed, then its slot reused by a new handle. */
    CHECK_EQ(ebbtide_tcp_close(listener), 0);
    uint64_t reused = 0;
    CHECK_EQ(ebbtide_tcp_listen(rt, "127.0.0.1:0", &reused), 0);
    CHECK(reused != listener);
    CHECK_EQ(ebbtide_tcp_accept(rt, listener, never_called, NULL), -EBADF);
    CHECK_EQ(ebbtide_tcp_close(listener), -EBADF);
    CHECK_EQ(ebbtide_tcp_close(reused), 0);
    /* NULL pointers and callbacks, zero lengths. */
    CHECK_EQ(ebbtide_rt_run(NULL), -EINVAL);
    CHECK_EQ(ebbtide_spawn(NULL, never_called, NULL), -EINVAL);
    CHECK_EQ(ebbtide_spawn(rt, NULL, NULL), -EINVAL);
    CHECK_EQ(ebbtide_timer(rt, 1, NULL, NULL, &timer), -EINVAL);
    CHECK_EQ(ebbtide_timer(rt, UINT64_MAX, never_called, NULL, &timer), -EINVAL);
    CHECK_EQ(ebbtide_tcp_listen(rt, NULL, &reused), -EINVAL);
    CHECK_EQ(ebbtide_tcp_listen(rt, "127.0.0.1:0", NULL), -EINVAL);
    CHECK_EQ(ebbtide_tcp_local_port(reused, NULL), -EINVAL);
    CHECK_EQ(ebbtide_tcp_connect(rt, NULL, never_called, NULL), -EINVAL);
    CHECK_EQ(ebbtide_chan_send(chan, NULL, never_called, NULL), -EINVAL);
    CHECK_EQ(ebbtide_chan_recv(chan, NULL, never_called, NULL), -EINVAL);
    CHECK_EQ(ebbtide_chan_new(rt, 1, 1, NULL), -EINVAL);
    CHECK_EQ(ebbtide_chan_new(NULL, 1, 1, &chan), -EINVAL);
    CHECK_EQ(ebbtide_chan_new(rt, SIZE_MAX, 2, &timer), -ENOMEM);
    ebbtide_rt_stop(NULL);
    ebbtide_rt_free(NULL);
    /* Every code has a message. */
    CHECK(strcmp(ebbtide_strerror(-EBADF), "bad handle (closed, stale, of another kind, or forged)") == 0);
    CHECK(ebbtide_strerror(EBBTIDE_EPANIC) != NULL);
    CHECK(ebbtide_strerror(-123456) != NULL);
    CHECK(ebbtide_strerror(0) != NULL);
    ebbtide_rt_free(rt);
}

/* ---- a full task pool ---- */

typedef struct {
    ebbtide_rt *rt;
    int calls;
    int expected;
} counter;

static void count_cb(void *user, int64_t result) {
    counter *c = user;
    CHECK_EQ(result, 0);
    if (++c->calls == c->expected) ebbtide_rt_stop(c->rt);
}

static void test_pool_exhaustion(void) {
    ebbtide_rt_options options = {0};
    options.task_capacity = 8;
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(&options, &rt), 0);
    counter c = {.rt = rt};
    int rc = 0, spawned = 0;
    for (int i = 0; i < 100000; i++) {
        rc = ebbtide_spawn(rt, count_cb, &c);
        if (rc != 0) break;
        spawned++;
    }
    CHECK_EQ(rc, -EAGAIN);
    CHECK(spawned >= 1 && spawned <= 64);
    uint64_t id;
    CHECK_EQ(ebbtide_timer(rt, 1, never_called, NULL, &id), -EAGAIN);
    c.expected = spawned;
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(c.calls, spawned);
    /* The tasks ended: room again. */
    c.calls = 0;
    c.expected = 1;
    CHECK_EQ(ebbtide_spawn(rt, count_cb, &c), 0);
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK_EQ(c.calls, 1);
    ebbtide_rt_free(rt);
}

/* ---- stopping from another thread; calls from callbacks ---- */

static void *stopper_main(void *arg) {
    sleep_ms(50);
    ebbtide_rt_stop(arg);
    return NULL;
}

typedef struct {
    ebbtide_rt *rt;
    int run_result;
    int spawned_result;
    int calls;
} nested;

static void nested_inner(void *user, int64_t result) {
    nested *n = user;
    CHECK_EQ(result, 0);
    n->calls++;
}

static void nested_cb(void *user, int64_t result) {
    nested *n = user;
    CHECK_EQ(result, 0);
    n->run_result = ebbtide_rt_run(n->rt);
    n->spawned_result = ebbtide_spawn(n->rt, nested_inner, n);
}

static void test_stop_from_thread(void) {
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(NULL, &rt), 0);
    nested n = {.rt = rt};
    CHECK_EQ(ebbtide_spawn(rt, nested_cb, &n), 0);
    pthread_t stopper;
    CHECK_EQ(pthread_create(&stopper, NULL, stopper_main, rt), 0);
    double before = now_ms();
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    double took = now_ms() - before;
    pthread_join(stopper, NULL);
    CHECK(took >= 40 && took < 5000);
    CHECK_EQ(n.run_result, -EDEADLK);
    CHECK_EQ(n.spawned_result, 0);
    CHECK_EQ(n.calls, 1);
    /* A stop while nobody runs makes the next run return at once. */
    ebbtide_rt_stop(rt);
    before = now_ms();
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    CHECK(now_ms() - before < 1000);
    ebbtide_rt_free(rt);
}

/* ---- freeing a runtime with operations pending ---- */

typedef struct {
    int cancelled;
    int other;
} tally;

static void tally_cb(void *user, int64_t result) {
    tally *t = user;
    if (result == -ECANCELED)
        t->cancelled++;
    else
        t->other++;
}

static void test_free_cancels_pending(void) {
    ebbtide_rt *rt = NULL;
    CHECK_EQ(ebbtide_rt_new(NULL, &rt), 0);
    tally t = {0};
    uint64_t listener = 0, chan = 0, timer = 0;
    char buf[8];
    CHECK_EQ(ebbtide_timer(rt, 60000 * EBBTIDE_NS_PER_MS, tally_cb, &t, &timer), 0);
    CHECK_EQ(ebbtide_tcp_listen(rt, "127.0.0.1:0", &listener), 0);
    CHECK_EQ(ebbtide_tcp_accept(rt, listener, tally_cb, &t), 0);
    CHECK_EQ(ebbtide_chan_new(rt, 1, sizeof buf, &chan), 0);
    CHECK_EQ(ebbtide_chan_recv(chan, buf, tally_cb, &t), 0);
    /* Let them start waiting, then free. */
    uint64_t tick;
    watchdog w;
    CHECK_EQ(ebbtide_timer(rt, 10 * EBBTIDE_NS_PER_MS, watchdog_cb, &w, &tick), 0);
    w.rt = rt;
    CHECK_EQ(ebbtide_rt_run(rt), 0);
    ebbtide_rt_free(rt);
    CHECK_EQ(t.cancelled, 3);
    CHECK_EQ(t.other, 0);
    /* The handles died with the runtime. */
    CHECK_EQ(ebbtide_tcp_close(listener), -EBADF);
    CHECK_EQ(ebbtide_chan_free(chan), -EBADF);
}

typedef struct {
    const char *name;
    void (*run)(void);
} test_case;

int main(int argc, char **argv) {
    test_case tests[] = {
        {"timers_in_order", test_timers_in_order},
        {"tcp_echo", test_tcp_echo},
        {"tcp_echo_two_workers", test_tcp_echo_two_workers},
        {"tcp_errors", test_tcp_errors},
        {"channel_threads", test_channel_threads},
        {"channel_try", test_channel_try},
        {"stale_handles", test_stale_handles},
        {"pool_exhaustion", test_pool_exhaustion},
        {"stop_from_thread", test_stop_from_thread},
        {"free_cancels_pending", test_free_cancels_pending},
    };
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && strstr(tests[i].name, argv[1]) == NULL) continue;
        failures_in_test = 0;
        double start = now_ms();
        tests[i].run();
        printf("test %s ... %s (%.0f ms)\n", tests[i].name, failures_in_test ? "FAILED" : "ok",
               now_ms() - start);
        fflush(stdout);
        if (failures_in_test)
            failed++;
        else
            passed++;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
