/* The driver shared by bench/c/uv_bench.c (libuv) and bench/c/ebbtide_bench.c (ebbtide's C API):
 * the workloads' sizes, the clocks, and a `main` that speaks the protocol of the benchmark
 * binaries of `cargo xtask bench` (see xtask/src/bench/ffi.rs):
 *
 *     <program> list                          one "<runtime> <workload>" line per workload
 *     <program> <runtime> <workload> <n>      one warm-up run, then n samples as JSON lines
 *
 * Each program defines RUNTIME (its runtime's name in the report) and the two shapes:
 *
 *     int run_echo(int conns, int rounds, sample *out);   // 0 on success
 *     int run_timers(int n, sample *out);
 *
 * The workloads (the same on both):
 *
 * - ffi_echo_1, ffi_echo_64: a TCP echo server and CONNS client connections in one process, on
 *   one thread (libuv's loop, ebbtide's runtime with one worker), on 127.0.0.1. Each client does
 *   ROUNDS round trips of MSG_SIZE bytes: it writes MSG_SIZE bytes, the server reads and writes
 *   back what it read, and the client starts its next round once all MSG_SIZE bytes are back
 *   (and its write completed). libuv's `benchmark-ping-pongs.c` is the 1-connection case
 *   (there a "PING\n" of 5 bytes for a fixed time). Timed: from all connections established to
 *   the last round trip's end.
 * - ffi_timers_1m: libuv's `benchmark-million-timers.c`: TIMERS timers with a timeout that grows
 *   by 1 ms every 1,000 timers (1 ms .. 1,000 ms), all firing. Timed: from the first start to
 *   the last callback, plus what freeing the timers costs (libuv: uv_close of each handle and a
 *   loop run; ebbtide: nothing, a fired timer frees itself). A second line,
 *   ffi_timers_1m_start, is the time to start them all.
 *
 * Every sample carries "ns" (wall time) and "cpu_ns" (user + system CPU time of the whole
 * process over the same span, every thread). The loop or runtime is made before, and freed
 * after, the timed span of each sample.
 */
#ifndef EBBTIDE_BENCH_C_COMMON_H
#define EBBTIDE_BENCH_C_COMMON_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Bytes per ping and per pong. */
#define MSG_SIZE 64
/* The read buffer of each server connection (the network workloads' 4 KiB). */
#define READ_BUF 4096
/* ffi_timers_1m: how many timers, and how many share each 1 ms step of timeout. */
#define TIMERS 1000000
#define TIMERS_PER_MS 1000

typedef struct {
    uint64_t ns;        /* wall time of the timed span */
    uint64_t cpu_ns;    /* process CPU time over it */
    uint64_t start_ns;  /* timers: the time to start them all */
    uint64_t start_cpu_ns;
    uint64_t ops;       /* round trips, or timers fired */
} sample;

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t cpu_now_ns(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* The timeout of timer i, in milliseconds (libuv's million_timers: `if (i % 1000 == 0)
 * timeout++`). */
static inline uint64_t timer_ms(int i) { return (uint64_t)(i / TIMERS_PER_MS) + 1; }

/* A client's ping: MSG_SIZE bytes ending in a newline. */
static const char PING[MSG_SIZE + 1] =
    "PING PING PING PING PING PING PING PING PING PING PING PING PIN\n";

#define CHECK(cond, what)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s: %s:%d: %s\n", RUNTIME, __FILE__, __LINE__, what); \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static int run_echo(int conns, int rounds, sample *out);
static int run_timers(int n, sample *out);

typedef struct {
    const char *name;
    int conns;  /* 0: the timers */
    int rounds; /* round trips per connection */
} workload;

static const workload WORKLOADS[] = {
    {"ffi_echo_1", 1, 20000},
    {"ffi_echo_64", 64, 500},
    {"ffi_timers_1m", 0, 0},
};

static void print_sample(const char *name, uint64_t ns, uint64_t cpu_ns, uint64_t ops) {
    printf("{\"workload\":\"%s\",\"runtime\":\"%s\",\"ns\":%llu,\"cpu_ns\":%llu,\"ops\":%llu,"
           "\"ops_per_sec\":%.0f}\n",
           name, RUNTIME, (unsigned long long)ns, (unsigned long long)cpu_ns,
           (unsigned long long)ops, ns ? (double)ops * 1e9 / (double)ns : 0.0);
}

static int run_one(const workload *w, sample *s) {
    memset(s, 0, sizeof *s);
    return w->conns ? run_echo(w->conns, w->rounds, s) : run_timers(TIMERS, s);
}

int main(int argc, char **argv) {
    size_t count = sizeof WORKLOADS / sizeof WORKLOADS[0];
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        for (size_t i = 0; i < count; i++) printf("%s %s\n", RUNTIME, WORKLOADS[i].name);
        return 0;
    }
    if (argc != 4 || strcmp(argv[1], RUNTIME) != 0) {
        fprintf(stderr, "usage: %s list | %s %s <workload> <samples>\n", argv[0], argv[0], RUNTIME);
        return 2;
    }
    const workload *w = NULL;
    for (size_t i = 0; i < count; i++)
        if (strcmp(argv[2], WORKLOADS[i].name) == 0) w = &WORKLOADS[i];
    if (w == NULL) {
        fprintf(stderr, "%s: unknown workload %s\n", argv[0], argv[2]);
        return 2;
    }
    int samples = atoi(argv[3]);
    sample s;
    if (run_one(w, &s) != 0) return 1; /* warm-up */
    for (int i = 0; i < samples; i++) {
        if (run_one(w, &s) != 0) return 1;
        print_sample(w->name, s.ns, s.cpu_ns, s.ops);
        if (!w->conns) print_sample("ffi_timers_1m_start", s.start_ns, s.start_cpu_ns, s.ops);
        fflush(stdout);
    }
    return 0;
}

#endif
