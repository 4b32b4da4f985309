/*  lottery-loadgen - many v1 agencies at once, against any server

    Measures the server, not a client: every chunk of every agency is
    read, checked and encoded before the clock starts (lot_swarm), and
    then one epoll thread drives one state machine per agency, all
    connecting at once: 'B' and the chunks, stop-and-wait, then the
    winners query on a second connection. With --watch it reads what the
    server processes spent over the run from /proc (lot_procstat). After
    the run it checks the bets file line by line against the input files,
    and each agency's winners against the bets of its input that play the
    winning number (lot_verify).

    Prints a key=value result line (appended to --output as well) and a
    line for people (lot_tally). Exits 1 when the run or a check fails, 2
    on bad arguments.
*/
#include "lot_fail.h"
#include "lot_procstat.h"
#include "lot_swarm.h"
#include "lot_tally.h"
#include "lot_verify.h"
#include "lot_bet.h"
#include "lot_codec.h"

#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define USAGE \
    "usage: lottery-loadgen --server HOST:PORT[,HOST:PORT...] --data DIR --agencies N\n" \
    "                       --bets-file PATH [--max-amount 100] [--max-bytes 8192]\n" \
    "                       [--output FILE] [--timeout SECONDS] [--watch PID[,PID...]]\n" \
    "Agency n sends DIR/agency-n.csv in chunks of at most --max-amount bets\n" \
    "and --max-bytes encoded bytes, as bin/lottery-client does with protocol\n" \
    "version 1, to the ((n - 1) mod count)th server given; PATH is the server's\n" \
    "bets file, checked after the run. --watch: the server's processes, whose\n" \
    "CPU time and context switches (every thread) over the run are reported.\n"

typedef struct {
    //  Arguments
    const char *servers;
    const char *data_dir;
    unsigned agencies;
    const char *bets_file;
    unsigned max_amount;
    size_t max_bytes;
    const char *output;
    long timeout;                   //  Seconds the run may take
    const char *watch;
    //  The parts
    lot_swarm_t *swarm;
    lot_tally_t *tally;
    lot_verify_t *verify;
    lot_procstat_t *procstat;       //  NULL without --watch
} self_t;

static void
s_self_destroy (self_t **self_p)
{
    if (*self_p) {
        self_t *self = *self_p;
        lot_swarm_destroy (&self->swarm);
        lot_tally_destroy (&self->tally);
        lot_verify_destroy (&self->verify);
        lot_procstat_destroy (&self->procstat);
        free (self);
        *self_p = NULL;
    }
}

//  Returns 0, 1 after printing the usage for --help, or -1.
static int
s_self_parse_args (self_t *self, int argc, char *argv [])
{
    static const struct option options [] = {
        { .name = "server", .has_arg = required_argument, .val = 's' },
        { .name = "data", .has_arg = required_argument, .val = 'd' },
        { .name = "agencies", .has_arg = required_argument, .val = 'n' },
        { .name = "bets-file", .has_arg = required_argument, .val = 'f' },
        { .name = "max-amount", .has_arg = required_argument, .val = 'a' },
        { .name = "max-bytes", .has_arg = required_argument, .val = 'b' },
        { .name = "output", .has_arg = required_argument, .val = 'o' },
        { .name = "timeout", .has_arg = required_argument, .val = 't' },
        { .name = "watch", .has_arg = required_argument, .val = 'w' },
        { .name = "help", .has_arg = no_argument, .val = 'h' },
        { .name = NULL }
    };
    unsigned agencies = 0, amount = 100, bytes = LOT_CHUNK_MAX_DEFAULT, timeout = 600;
    int option;
    while ((option = getopt_long (argc, argv, "", options, NULL)) != -1) {
        lot_span_t value = { .data = optarg, .size = optarg ? strlen (optarg) : 0 };
        int rc = 0;
        switch (option) {
            case 's': self->servers = optarg; break;
            case 'd': self->data_dir = optarg; break;
            case 'f': self->bets_file = optarg; break;
            case 'o': self->output = optarg; break;
            case 'w': self->watch = optarg; break;
            case 'n': rc = lot_bet_parse_uint (value, 6, 100000, &agencies); break;
            case 'a': rc = lot_bet_parse_uint (value, 5, UINT16_MAX, &amount); break;
            case 'b': rc = lot_bet_parse_uint (value, 5, UINT16_MAX, &bytes); break;
            case 't': rc = lot_bet_parse_uint (value, 6, 86400, &timeout); break;
            default: rc = -1;
        }
        if (option == 'h') {
            fputs (USAGE, stdout);
            return 1;
        }
        if (rc) {
            fputs (USAGE, stderr);
            return -1;
        }
    }
    if (!self->servers || !self->data_dir || !self->bets_file || agencies == 0
    ||  amount == 0 || optind < argc) {
        fputs (USAGE, stderr);
        return -1;
    }
    self->agencies = agencies;
    self->max_amount = amount;
    self->max_bytes = bytes;
    self->timeout = timeout;
    return 0;
}

//  From the arguments; NULL after --help (*status 0) or bad arguments (2).
static self_t *
s_self_new (int argc, char *argv [], int *status)
{
    self_t *self = calloc (1, sizeof *self);
    assert (self);
    int rc = s_self_parse_args (self, argc, argv);
    if (rc == 0 && self->watch && !(self->procstat = lot_procstat_new (self->watch))) {
        fprintf (stderr, "lottery-loadgen: --watch %s is not PID[,PID...]\n", self->watch);
        rc = -1;
    }
    if (rc) {
        *status = rc > 0 ? 0 : 2;
        s_self_destroy (&self);
        return NULL;
    }
    //  Every agency holds a connection, and then its input file is open
    //  while the bets file is checked
    struct rlimit files;
    if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit (RLIMIT_NOFILE, &files);
    }
    self->swarm = lot_swarm_new (self->agencies, self->max_amount, self->max_bytes);
    self->verify = lot_verify_new (self->data_dir, self->agencies);
    return self;
}

//  Resolves the servers and encodes every agency's chunks.
static int
s_self_prepare (self_t *self)
{
    if (lot_swarm_resolve (self->swarm, self->servers)
    ||  lot_swarm_encode (self->swarm, self->data_dir))
        return -1;
    self->tally = lot_tally_new (self->agencies, lot_swarm_chunks (self->swarm),
                                 lot_swarm_bets (self->swarm), self->max_amount);
    if (!self->tally)
        return lot_fail (0, "out of memory");
    printf ("loadgen: %u agencies, %zu bets in %zu chunks encoded; %s\n",
            self->agencies, lot_swarm_bets (self->swarm), lot_swarm_chunks (self->swarm),
            self->servers);
    fflush (stdout);
    return 0;
}

//  The run, between two readings of the watched processes.
static int
s_self_run (self_t *self)
{
    if (self->procstat && lot_procstat_read (self->procstat))
        return -1;
    if (lot_swarm_run (self->swarm, self->tally, self->verify, self->timeout))
        return -1;
    if (self->procstat) {
        if (lot_procstat_read (self->procstat))
            return -1;
        lot_tally_set_server (self->tally, lot_procstat_cpu_seconds (self->procstat),
                              lot_procstat_switches (self->procstat),
                              lot_procstat_voluntary (self->procstat));
    }
    return 0;
}

int
main (int argc, char *argv [])
{
    int status;
    self_t *self = s_self_new (argc, argv, &status);
    if (!self)
        return status;
    int rc = s_self_prepare (self);
    if (rc == 0)
        rc = s_self_run (self);
    if (rc == 0)
        rc = lot_verify_check (self->verify, self->bets_file);
    if (rc == 0)
        rc = lot_tally_report (self->tally, self->output);
    s_self_destroy (&self);
    return rc ? 1 : 0;
}
