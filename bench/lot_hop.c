/*  lottery-hop - what one ZeroMQ hop costs on this machine

    Usage: lottery-hop inproc|tcp same|other [ROUNDS]

    Bounces a 100-byte message ROUNDS times (20,000 by default) between two
    PAIR sockets and prints the median one-way time, half a round trip:

        hop: inproc | cpus: other | rounds: 20000 | one_way_us: 36.1

    inproc: two threads of one process, as embedded mode's actors talk.
    tcp: two processes over loopback, as distributed mode's do; each
    process has its own libzmq I/O thread, as there.
    same: every thread of both ends on the first CPU this process may use;
    other: each end on a CPU of its own. A hop is a thread's wake-up (three
    over tcp: the sender's I/O thread, the receiver's, the receiver), and a
    wake-up on another CPU can cost far more than one on the same CPU, on
    virtual machines most. make bench prints the four figures beside its
    table, to explain the gap between embedded and distributed mode.
    Exits 2 on a usage error, 3 when 'other' is asked of a process allowed
    only one CPU, 1 when the echo does not answer.
*/
#include <czmq.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROGRAM "lottery-hop"
#define MESSAGE_SIZE 100
#define ROUNDS_DEFAULT 20000
#define ROUNDS_MAX 10000000
#define TIMEOUT_MSECS 5000      //  An echo this slow has died

//  The first two CPUs this process may run on; the second is -1 when
//  there is only one.
static void
s_cpus (int *first, int *second)
{
    cpu_set_t set;
    *first = *second = -1;
    if (sched_getaffinity (0, sizeof set, &set))
        return;
    for (int cpu = 0; cpu < CPU_SETSIZE && *second < 0; cpu++)
        if (CPU_ISSET (cpu, &set)) {
            if (*first < 0)
                *first = cpu;
            else
                *second = cpu;
        }
}

//  Pins the calling thread, and the threads it starts later.
static void
s_pin (int cpu)
{
    cpu_set_t set;
    CPU_ZERO (&set);
    CPU_SET (cpu, &set);
    int rc = pthread_setaffinity_np (pthread_self (), sizeof set, &set);
    assert (rc == 0);
}

//  Sends every message back until an empty one comes.
static void
s_echo (zsock_t *socket)
{
    while (true) {
        zframe_t *frame = zframe_recv (socket);
        if (!frame || zframe_size (frame) == 0) {
            zframe_destroy (&frame);
            break;
        }
        zframe_send (&frame, socket, 0);
    }
}

typedef struct {
    const char *endpoint;
    int cpu;
} s_echo_args_t;

static void
s_echo_actor (zsock_t *pipe, void *args)
{
    s_echo_args_t *echo = args;
    s_pin (echo->cpu);
    zsock_t *socket = zsock_new_pair (echo->endpoint);
    assert (socket);
    zsock_signal (pipe, 0);
    s_echo (socket);
    zsock_destroy (&socket);
}

static int
s_compare (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Times ROUNDS round trips one by one; returns the median one-way time,
//  or -1 when the echo stopped answering.
static double
s_bounce (zsock_t *socket, int rounds)
{
    int64_t *nanos = calloc (rounds, sizeof *nanos);
    if (!nanos)
        return -1;
    zsock_set_rcvtimeo (socket, TIMEOUT_MSECS);
    uint8_t message [MESSAGE_SIZE] = { 0 };
    int round;
    for (round = -100; round < rounds; round++) {
        struct timespec start, end;
        clock_gettime (CLOCK_MONOTONIC, &start);
        zframe_t *frame = zframe_new (message, sizeof message);
        zframe_send (&frame, socket, 0);
        frame = zframe_recv (socket);
        clock_gettime (CLOCK_MONOTONIC, &end);
        if (!frame)
            break;
        zframe_destroy (&frame);
        if (round >= 0)         //  The first hundred warm up
            nanos [round] = (end.tv_sec - start.tv_sec) * 1000000000LL
                          + end.tv_nsec - start.tv_nsec;
    }
    double median = -1;
    if (round == rounds) {
        qsort (nanos, rounds, sizeof *nanos, s_compare);
        median = nanos [rounds / 2] / 2000.0;
    }
    free (nanos);
    zframe_t *stop = zframe_new_empty ();
    zframe_send (&stop, socket, ZFRAME_DONTWAIT);
    return median;
}

static double
s_inproc (int mine, int theirs, int rounds)
{
    s_pin (mine);
    zsock_t *socket = zsock_new_pair ("@inproc://hop");
    assert (socket);
    s_echo_args_t echo = { ">inproc://hop", theirs };
    zactor_t *actor = zactor_new (s_echo_actor, &echo);
    double median = s_bounce (socket, rounds);
    zactor_destroy (&actor);
    zsock_destroy (&socket);
    return median;
}

//  The echo end is a child forked before either process starts libzmq,
//  so each has its own context and I/O thread; it binds an ephemeral
//  port and tells it through a pipe.
static double
s_tcp (int mine, int theirs, int rounds)
{
    int ports [2];
    if (pipe (ports))
        return -1;
    pid_t child = fork ();
    if (child < 0)
        return -1;
    if (child == 0) {
        close (ports [0]);
        s_pin (theirs);
        zsock_t *socket = zsock_new_pair ("@tcp://127.0.0.1:*");
        char *bound = socket ? zsock_last_endpoint (socket) : NULL;
        int port = bound ? atoi (strrchr (bound, ':') + 1) : 0;
        zstr_free (&bound);
        if (write (ports [1], &port, sizeof port) != sizeof port || !port)
            _exit (1);
        close (ports [1]);
        s_echo (socket);
        zsock_destroy (&socket);
        zsys_shutdown ();
        _exit (0);
    }
    close (ports [1]);
    int port = 0;
    ssize_t got = read (ports [0], &port, sizeof port);
    close (ports [0]);
    double median = -1;
    if (got == sizeof port && port > 0) {
        s_pin (mine);
        zsock_t *socket = zsock_new_pair (NULL);
        assert (socket);
        if (zsock_connect (socket, "tcp://127.0.0.1:%d", port) == 0)
            median = s_bounce (socket, rounds);
        zsock_destroy (&socket);
    }
    int status;
    waitpid (child, &status, 0);
    return median;
}

int
main (int argc, char *argv [])
{
    bool tcp = argc > 2 && streq (argv [1], "tcp");
    bool other = argc > 2 && streq (argv [2], "other");
    int rounds = argc > 3 ? atoi (argv [3]) : ROUNDS_DEFAULT;
    if (argc < 3 || argc > 4 || (!tcp && !streq (argv [1], "inproc"))
    ||  (!other && !streq (argv [2], "same")) || rounds < 1 || rounds > ROUNDS_MAX) {
        fprintf (stderr, "usage: %s inproc|tcp same|other [ROUNDS]\n", PROGRAM);
        return 2;
    }
    int first, second;
    s_cpus (&first, &second);
    if (first < 0 || (other && second < 0)) {
        fprintf (stderr, "%s: this process may use only one CPU\n", PROGRAM);
        return 3;
    }
    int theirs = other ? second : first;
    double median = tcp ? s_tcp (first, theirs, rounds) : s_inproc (first, theirs, rounds);
    if (median < 0) {
        fprintf (stderr, "%s: the echo did not answer\n", PROGRAM);
        return 1;
    }
    printf ("hop: %s | cpus: %s | rounds: %d | one_way_us: %.1f\n",
            argv [1], argv [2], rounds, median);
    return 0;
}
