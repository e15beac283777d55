/* A TCP echo server (and a client) in C on ebbtide's C API: the callbacks of one connection
 * read into its buffer and write the bytes back, with no allocation per read or write.
 *
 * Build (from the workspace root, after `cargo build -p ebbtide-ffi --release`):
 *
 *     gcc -O2 -I ffi/include examples/c/echo.c target/release/libebbtide_ffi.a \
 *         -lpthread -ldl -lm -o target/echo-c
 *
 * Run:
 *
 *     target/echo-c serve 127.0.0.1:7000 [WORKERS]   # an echo server until killed
 *     target/echo-c selftest                         # a server and 8 clients, then exit 0
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebbtide.h"

#define BUF_SIZE 16384
#define MAX_CONNS 1024

/* ---- the server ---- */

typedef struct conn {
    uint64_t stream;
    struct conn *next_free;
    char buf[BUF_SIZE];
} conn;

typedef struct {
    ebbtide_rt *rt;
    uint64_t listener;
    conn conns[MAX_CONNS];
    conn *free_list;
    int open;
} server;

static void on_read(void *user, int64_t result);

/* The one server of the program. With several workers, callbacks run on several threads at
 * once: the free list of connections is under a lock. */
static server *the_server;
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;

static void conn_release(conn *c) {
    ebbtide_tcp_close(c->stream);
    pthread_mutex_lock(&conns_lock);
    c->next_free = the_server->free_list;
    the_server->free_list = c;
    the_server->open--;
    pthread_mutex_unlock(&conns_lock);
}

static conn *conn_take(server *s) {
    pthread_mutex_lock(&conns_lock);
    conn *c = s->free_list;
    if (c != NULL) {
        s->free_list = c->next_free;
        s->open++;
    }
    pthread_mutex_unlock(&conns_lock);
    return c;
}

static void on_written(void *user, int64_t result) {
    conn *c = user;
    if (result < 0) {
        conn_release(c);
        return;
    }
    if (ebbtide_tcp_read(c->stream, c->buf, sizeof c->buf, on_read, c) != 0) conn_release(c);
}

static void on_read(void *user, int64_t result) {
    conn *c = user;
    if (result <= 0) { /* 0: the client is done; < 0: an error (reset, ...) */
        conn_release(c);
        return;
    }
    if (ebbtide_tcp_write_all(c->stream, c->buf, (size_t)result, on_written, c) != 0) conn_release(c);
}

static void on_accept(void *user, int64_t result) {
    server *s = user;
    if (result == -ECANCELED) return; /* the listener was closed */
    if (result > 0) {
        conn *c = conn_take(s);
        if (c == NULL) {
            ebbtide_tcp_close((uint64_t)result); /* full: turn the client away */
        } else {
            c->stream = (uint64_t)result;
            if (ebbtide_tcp_read(c->stream, c->buf, sizeof c->buf, on_read, c) != 0) conn_release(c);
        }
    } else {
        fprintf(stderr, "accept: %s\n", ebbtide_strerror((int)result));
    }
    int rc = ebbtide_tcp_accept(s->rt, s->listener, on_accept, s);
    if (rc != 0) fprintf(stderr, "accept: %s\n", ebbtide_strerror(rc));
}

static int server_start(server *s, ebbtide_rt *rt, const char *addr) {
    memset(s, 0, sizeof *s);
    s->rt = rt;
    the_server = s;
    for (int i = MAX_CONNS - 1; i >= 0; i--) {
        s->conns[i].next_free = s->free_list;
        s->free_list = &s->conns[i];
    }
    int rc = ebbtide_tcp_listen(rt, addr, &s->listener);
    if (rc != 0) {
        fprintf(stderr, "listen on %s: %s\n", addr, ebbtide_strerror(rc));
        return rc;
    }
    return ebbtide_tcp_accept(rt, s->listener, on_accept, s);
}

/* ---- the self-test's clients ---- */

#define CLIENTS 8
#define ROUNDS 100
#define MSG 512

typedef struct {
    ebbtide_rt *rt;
    uint64_t stream;
    int id, round, failed;
    int pending;
    int *done;
    size_t got;
    char out[MSG], in[MSG];
} client;

static void client_round(client *c);

static void client_finish(client *c) {
    if (c->stream) ebbtide_tcp_close(c->stream);
    /* Clients finish on any worker, perhaps two at once. */
    if (__atomic_add_fetch(c->done, 1, __ATOMIC_ACQ_REL) == CLIENTS) ebbtide_rt_stop(c->rt);
}

/* A round ends when both its write's callback and its echo's last read are in (they may come in
 * either order, on two workers at once): the buffers are the library's until then. */
static void client_part_done(client *c) {
    if (__atomic_sub_fetch(&c->pending, 1, __ATOMIC_ACQ_REL) != 0) return;
    if (memcmp(c->in, c->out, MSG) != 0) {
        fprintf(stderr, "client %d: round %d: the echo differs\n", c->id, c->round);
        c->failed = 1;
    }
    if (++c->round == ROUNDS || c->failed) {
        client_finish(c);
    } else {
        client_round(c);
    }
}

static void client_read(void *user, int64_t result) {
    client *c = user;
    if (result <= 0) {
        fprintf(stderr, "client %d: read: %s\n", c->id,
                result == 0 ? "end of stream" : ebbtide_strerror((int)result));
        c->failed = 1;
        client_part_done(c);
        return;
    }
    c->got += (size_t)result;
    if (c->got < MSG) {
        int rc = ebbtide_tcp_read(c->stream, c->in + c->got, MSG - c->got, client_read, c);
        if (rc != 0) {
            c->failed = 1;
            client_part_done(c);
        }
        return;
    }
    client_part_done(c);
}

static void client_written(void *user, int64_t result) {
    client *c = user;
    if (result != MSG) {
        fprintf(stderr, "client %d: write: %s\n", c->id, ebbtide_strerror((int)result));
        c->failed = 1;
    }
    client_part_done(c);
}

static void client_round(client *c) {
    for (int i = 0; i < MSG; i++) c->out[i] = (char)(c->id + c->round * 3 + i);
    c->got = 0;
    c->pending = 2;
    if (ebbtide_tcp_write_all(c->stream, c->out, MSG, client_written, c) != 0) {
        c->failed = 1;
        client_part_done(c);
    }
    if (ebbtide_tcp_read(c->stream, c->in, MSG, client_read, c) != 0) {
        c->failed = 1;
        client_part_done(c);
    }
}

static void client_connected(void *user, int64_t result) {
    client *c = user;
    if (result <= 0) {
        fprintf(stderr, "client %d: connect: %s\n", c->id, ebbtide_strerror((int)result));
        c->failed = 1;
        client_finish(c);
        return;
    }
    c->stream = (uint64_t)result;
    client_round(c);
}

static int selftest(void) {
    ebbtide_rt *rt;
    if (ebbtide_rt_new(NULL, &rt) != 0) return 1;
    static server s;
    if (server_start(&s, rt, "127.0.0.1:0") != 0) return 1;
    uint16_t port = 0;
    ebbtide_tcp_local_port(s.listener, &port);
    char addr[32];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", (unsigned)port);
    static client clients[CLIENTS];
    int done = 0, failed = 0;
    for (int i = 0; i < CLIENTS; i++) {
        clients[i] = (client){.rt = rt, .id = i, .done = &done};
        if (ebbtide_tcp_connect(rt, addr, client_connected, &clients[i]) != 0) return 1;
    }
    ebbtide_rt_run(rt);
    for (int i = 0; i < CLIENTS; i++) failed |= clients[i].failed;
    ebbtide_tcp_close(s.listener);
    ebbtide_rt_free(rt); /* the server's pending reads end with -ECANCELED */
    printf("echo selftest: %d clients x %d round trips of %d bytes: %s\n", CLIENTS, ROUNDS, MSG,
           failed ? "FAILED" : "ok");
    return failed;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "selftest") == 0) return selftest();
    if (argc < 3 || strcmp(argv[1], "serve") != 0) {
        fprintf(stderr, "usage: %s serve IP:PORT [WORKERS] | %s selftest\n", argv[0], argv[0]);
        return 2;
    }
    ebbtide_rt_options options = {0};
    if (argc > 3) options.worker_threads = (uint32_t)atoi(argv[3]);
    ebbtide_rt *rt;
    int rc = ebbtide_rt_new(&options, &rt);
    if (rc != 0) {
        fprintf(stderr, "runtime: %s\n", ebbtide_strerror(rc));
        return 1;
    }
    static server s;
    if (server_start(&s, rt, argv[2]) != 0) return 1;
    printf("echo server on %s\n", argv[2]);
    fflush(stdout);
    ebbtide_rt_run(rt); /* until killed */
    ebbtide_rt_free(rt);
    return 0;
}
