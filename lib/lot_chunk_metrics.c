/*  lot_chunk_metrics - what became of each chunk, counted by agency  */
#include "lot_chunk_metrics.h"

#include <stdio.h>
#include <stdlib.h>

static const lot_metric_family_t s_chunks = {
    .name = "lottery_chunks_answered_total", .type = LOT_METRIC_COUNTER,
    .help = "Chunks answered, by agency and result (stored, duplicate, rejected) and"
            " the reason of a rejection."
};

static const lot_metric_family_t s_bets = {
    .name = "lottery_bets_stored_total", .type = LOT_METRIC_COUNTER,
    .help = "Bets stored durably in the bets file, by agency."
};

struct _lot_chunk_metrics_t {
    lot_metrics_t *metrics;
    const char *actor;
    long agencies;
    lot_metric_t **chunks;      //  Stored, by agency, found at the first
    lot_metric_t **bets;        //  chunk or at lot_chunk_metrics_storing
                                //  (an actor that stores none shows
                                //  none); [0] is "other"
};

//  The agency's label: its number, or "other" outside 1..agencies.
static const char *
s_agency (lot_chunk_metrics_t *self, uint32_t agency, char label [16])
{
    if (agency < 1 || agency > self->agencies)
        return "other";
    snprintf (label, 16, "%u", agency);
    return label;
}

lot_chunk_metrics_t *
lot_chunk_metrics_new (lot_metrics_t *metrics, const char *actor, long agencies)
{
    if (!metrics)
        return NULL;
    lot_chunk_metrics_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->metrics = metrics;
    self->actor = actor;
    self->agencies = agencies;
    self->chunks = calloc ((size_t) agencies + 1, sizeof *self->chunks);
    self->bets = calloc ((size_t) agencies + 1, sizeof *self->bets);
    if (!self->chunks || !self->bets) {
        lot_chunk_metrics_destroy (&self);
        return NULL;
    }
    return self;
}

void
lot_chunk_metrics_destroy (lot_chunk_metrics_t **self_p)
{
    if (*self_p) {
        lot_chunk_metrics_t *self = *self_p;
        free (self->chunks);
        free (self->bets);
        free (self);
        *self_p = NULL;
    }
}

//  The agency's stored series, found once and kept in its slot.
static uint32_t
s_stored_slot (lot_chunk_metrics_t *self, uint32_t agency)
{
    uint32_t slot = agency <= self->agencies ? agency : 0;
    if (!self->chunks [slot]) {
        char label [16];
        const char *name = s_agency (self, agency, label);
        self->chunks [slot] = lot_metrics_series (self->metrics, &s_chunks, "actor",
                                                  self->actor, "agency", name, "result",
                                                  "stored", "reason", "", NULL);
        self->bets [slot] = lot_metrics_series (self->metrics, &s_bets, "agency", name,
                                                NULL);
    }
    return slot;
}

void
lot_chunk_metrics_storing (lot_chunk_metrics_t *self)
{
    for (long agency = 1; self && agency <= self->agencies; agency++)
        s_stored_slot (self, (uint32_t) agency);
}

void
lot_chunk_metrics_stored (lot_chunk_metrics_t *self, uint32_t agency, uint32_t bets)
{
    if (!self)
        return;
    uint32_t slot = s_stored_slot (self, agency);
    lot_metric_add (self->chunks [slot], 1);
    lot_metric_add (self->bets [slot], bets);
}

void
lot_chunk_metrics_answered (lot_chunk_metrics_t *self, uint32_t agency,
                            const char *reason)
{
    if (!self)
        return;
    char label [16];
    lot_metric_add (lot_metrics_series (self->metrics, &s_chunks, "actor", self->actor,
                                        "agency", s_agency (self, agency, label),
                                        "result", reason ? "rejected" : "duplicate",
                                        "reason", reason ? reason : "", NULL), 1);
}
