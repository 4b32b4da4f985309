/*  lot_store_metrics - the persister's metrics: its chunks, its group commits, its files  */
#include "lot_store_metrics.h"
#include "lot_chunk_metrics.h"

#include <stdlib.h>

#define SECONDS_BUCKETS { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, \
                          0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 }

enum { S_CHUNKS, S_BETS, S_WRITE, S_SYNC, S_BETS_SIZE, S_JOURNAL_SIZE, S_PARKED,
       S_FAMILIES };

static const lot_metric_family_t s_families [S_FAMILIES] = {
    [S_CHUNKS] = {
        .name = "lottery_commit_chunks", .type = LOT_METRIC_HISTOGRAM,
        .help = "Chunks per group commit of the persister.",
        .buckets = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512 } },
    [S_BETS] = {
        .name = "lottery_commit_bets", .type = LOT_METRIC_HISTOGRAM,
        .help = "Bets per group commit of the persister.",
        .buckets = { 1, 10, 100, 1000, 2500, 5000, 10000, 25000, 50000, 100000 } },
    [S_WRITE] = {
        .name = "lottery_commit_write_seconds", .type = LOT_METRIC_HISTOGRAM,
        .help = "Time a group commit took to write the bets file and the journal.",
        .unit = 1e-9, .buckets = SECONDS_BUCKETS },
    [S_SYNC] = {
        .name = "lottery_commit_sync_seconds", .type = LOT_METRIC_HISTOGRAM,
        .help = "Time a group commit took to make both files durable.",
        .unit = 1e-9, .buckets = SECONDS_BUCKETS },
    [S_BETS_SIZE] = {
        .name = "lottery_bets_file_bytes", .type = LOT_METRIC_GAUGE,
        .help = "Size of the bets file, durable." },
    [S_JOURNAL_SIZE] = {
        .name = "lottery_journal_bytes", .type = LOT_METRIC_GAUGE,
        .help = "Size of the bets file's journal, durable." },
    [S_PARKED] = {
        .name = "lottery_parked_chunks", .type = LOT_METRIC_GAUGE,
        .help = "Chunks the persister holds back until the bets before them come." },
};

struct _lot_store_metrics_t {
    lot_chunk_metrics_t *chunks;
    lot_metric_t *series [S_FAMILIES];
    uint64_t group;             //  The last group observed
};

lot_store_metrics_t *
lot_store_metrics_new (lot_metrics_t *metrics, long agencies)
{
    if (!metrics)
        return NULL;
    lot_store_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->chunks = lot_chunk_metrics_new (metrics, "persister", agencies);
    lot_chunk_metrics_storing (self->chunks);
    for (int i = 0; i < S_FAMILIES; i++)
        self->series [i] = lot_metrics_series (metrics, &s_families [i], NULL);
    self->group = UINT64_MAX;
    return self;
}

void
lot_store_metrics_destroy (lot_store_metrics_t **self_p)
{
    if (*self_p) {
        lot_store_metrics_t *self = *self_p;
        lot_chunk_metrics_destroy (&self->chunks);
        free (self);
        *self_p = NULL;
    }
}

void
lot_store_metrics_chunk (lot_store_metrics_t *self, uint32_t agency, uint32_t bets,
                         lot_store_verdict_t verdict, const char *reason)
{
    if (!self)
        return;
    if (!reason && verdict == LOT_STORE_APPEND)
        lot_chunk_metrics_stored (self->chunks, agency, bets);
    else
        lot_chunk_metrics_answered (self->chunks, agency, reason);
}

void
lot_store_metrics_batch (lot_store_metrics_t *self, lot_store_t *store, int parked)
{
    if (!self)
        return;
    lot_store_stats_t stats;
    lot_store_stats (store, &stats);
    //  The first call (at start) learns the group the journal stands at:
    //  a group written before a restart is not this process's to observe
    if (self->group != UINT64_MAX && stats.group != self->group) {
        lot_metric_add (self->series [S_CHUNKS], stats.chunks);
        lot_metric_add (self->series [S_BETS], stats.bets);
        lot_metric_add (self->series [S_WRITE], (uint64_t) stats.write_ns);
        lot_metric_add (self->series [S_SYNC], (uint64_t) stats.sync_ns);
    }
    self->group = stats.group;
    lot_metric_set (self->series [S_BETS_SIZE], (int64_t) stats.bets_size);
    lot_metric_set (self->series [S_JOURNAL_SIZE], (int64_t) stats.journal_size);
    lot_metric_set (self->series [S_PARKED], parked);
}
