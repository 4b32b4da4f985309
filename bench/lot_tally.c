/*  lot_tally - the load generator's figures: round trips, each agency's
    times, the servers' cost, and the result line they make

    bets/s is every bet over the time from the first connection to the
    last 'O'; the draw, from the last 'O' to the last winners answer.
    Percentiles are nearest rank. The server's CPU and context switches
    are given per 10 M bets and per chunk, so workloads compare.
*/
#include "lot_tally.h"
#include "lot_fail.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _lot_tally_t {
    unsigned agencies;
    size_t chunks;
    size_t bets;
    unsigned max_amount;
    int64_t start;
    int64_t *rtts;                  //  Every chunk's round trip, µs
    size_t rtt_count;
    int64_t *uploaded;              //  By agency: its last 'O'
    int64_t last_answer;
    size_t winners;
    int64_t connect_max;
    bool measured;                  //  The server's cost is known
    double cpu_seconds;
    uint64_t switches;
    uint64_t voluntary;
};

lot_tally_t *
lot_tally_new (unsigned agencies, size_t chunks, size_t bets, unsigned max_amount)
{
    lot_tally_t *self = calloc (1, sizeof *self);
    assert (self);
    self->agencies = agencies;
    self->chunks = chunks;
    self->bets = bets;
    self->max_amount = max_amount;
    self->rtts = malloc ((chunks ? chunks : 1) * sizeof *self->rtts);
    self->uploaded = calloc (agencies, sizeof *self->uploaded);
    if (!self->rtts || !self->uploaded)
        lot_tally_destroy (&self);
    return self;
}

void
lot_tally_destroy (lot_tally_t **self_p)
{
    if (*self_p) {
        lot_tally_t *self = *self_p;
        free (self->rtts);
        free (self->uploaded);
        free (self);
        *self_p = NULL;
    }
}

void
lot_tally_start (lot_tally_t *self)
{
    self->start = zclock_usecs ();
}

void
lot_tally_connected (lot_tally_t *self, int64_t took)
{
    self->connect_max = took > self->connect_max ? took : self->connect_max;
}

void
lot_tally_round_trip (lot_tally_t *self, int64_t took)
{
    assert (self->rtt_count < self->chunks);
    self->rtts [self->rtt_count++] = took;
}

void
lot_tally_uploaded (lot_tally_t *self, unsigned agency, int64_t at)
{
    assert (agency >= 1 && agency <= self->agencies);
    self->uploaded [agency - 1] = at;
}

void
lot_tally_answered (lot_tally_t *self, unsigned agency, int64_t at, size_t winners)
{
    assert (agency >= 1 && agency <= self->agencies);
    self->last_answer = at > self->last_answer ? at : self->last_answer;
    self->winners += winners;
}

void
lot_tally_set_server (lot_tally_t *self, double cpu_seconds, uint64_t switches,
                      uint64_t voluntary)
{
    self->measured = true;
    self->cpu_seconds = cpu_seconds;
    self->switches = switches;
    self->voluntary = voluntary;
}

static int
s_compare_times (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

//  Nearest rank of sorted values: the smallest with at least q of all at
//  or below it.
static int64_t
s_percentile (const int64_t *sorted, size_t count, double q)
{
    size_t rank = (size_t) (q * (double) count + 0.999999);
    return count ? sorted [rank ? rank - 1 : 0] : 0;
}

//  " server_cpu_s=... server_switches=... server_voluntary=..." and the
//  same per 10 M bets and per chunk; empty when nothing was measured.
static char *
s_server_fields (lot_tally_t *self)
{
    if (!self->measured)
        return strdup ("");
    double per_10m = self->bets ? self->cpu_seconds * 1e7 / (double) self->bets : 0;
    double chunks = self->chunks ? (double) self->chunks : 1;
    return zsys_sprintf (" server_cpu_s=%.3f server_switches=%" PRIu64 " server_voluntary=%"
                         PRIu64 " cpu_per_10m_s=%.3f switches_per_chunk=%.3f"
                         " voluntary_per_chunk=%.3f", self->cpu_seconds, self->switches,
                         self->voluntary, per_10m, (double) self->switches / chunks,
                         (double) self->voluntary / chunks);
}

int
lot_tally_report (lot_tally_t *self, const char *output)
{
    //  Upload times, from the start, sorted: the last is the last 'O'
    int64_t *uploads = malloc (self->agencies * sizeof *uploads);
    assert (uploads);
    for (unsigned i = 0; i < self->agencies; i++)
        uploads [i] = self->uploaded [i] - self->start;
    qsort (uploads, self->agencies, sizeof *uploads, s_compare_times);
    qsort (self->rtts, self->rtt_count, sizeof *self->rtts, s_compare_times);
    int64_t last_ok = uploads [self->agencies - 1];
    double upload_s = (double) last_ok / 1e6;
    double rate = upload_s > 0 ? (double) self->bets / upload_s : 0;
    double median = (double) s_percentile (uploads, self->agencies, 0.5) / 1e3;
    double slowest = (double) last_ok / 1e3;
    int64_t p50 = s_percentile (self->rtts, self->rtt_count, 0.5);
    int64_t p99 = s_percentile (self->rtts, self->rtt_count, 0.99);
    double draw_ms = (double) (self->last_answer - self->start - last_ok) / 1e3;
    double spread = median > 0 ? slowest / median : 0;
    char *server = s_server_fields (self);
    char *result = zsys_sprintf (
        "agencies=%u bets=%zu chunks=%zu max_amount=%u upload_s=%.3f bets_per_s=%.0f"
        " rtt_p50_us=%" PRId64 " rtt_p99_us=%" PRId64 " rtt_max_us=%" PRId64
        " draw_ms=%.1f total_s=%.3f agency_median_ms=%.1f agency_slowest_ms=%.1f"
        " slowest_over_median=%.2f connect_max_ms=%.1f winners=%zu%s verified=yes",
        self->agencies, self->bets, self->chunks, self->max_amount, upload_s, rate,
        p50, p99, self->rtt_count ? self->rtts [self->rtt_count - 1] : 0, draw_ms,
        (double) (self->last_answer - self->start) / 1e6, median, slowest, spread,
        (double) self->connect_max / 1e3, self->winners, server);
    printf ("%s\n", result);
    printf ("loadgen: %u agencies, %zu bets in %.2f s: %.0f bets/s; round trip p50 %.2f ms,"
            " p99 %.2f ms; draw %.0f ms; slowest agency %.2fx the median;"
            " bets file and %zu winners checked\n",
            self->agencies, self->bets, upload_s, rate, (double) p50 / 1e3,
            (double) p99 / 1e3, draw_ms, spread, self->winners);
    int rc = 0;
    FILE *file = output ? fopen (output, "a") : NULL;
    if (file) {
        fprintf (file, "%s\n", result);
        rc = fclose (file) ? lot_fail (0, "%s: %s", output, strerror (errno)) : 0;
    }
    else
    if (output)
        rc = lot_fail (0, "%s: %s", output, strerror (errno));
    zstr_free (&result);
    zstr_free (&server);
    free (uploads);
    return rc;
}
