/*  lot_draw_metrics - the coordinator's metrics: agencies finished, the draw, its winners  */
#include "lot_draw_metrics.h"
#include "lot_msg.h"

enum { S_EXPECTED, S_FINISHED, S_DONE, S_DURATION, S_FAMILIES };

static const lot_metric_family_t s_families [S_FAMILIES] = {
    [S_EXPECTED] = {
        .name = "lottery_agencies_expected", .type = LOT_METRIC_GAUGE,
        .help = "Agencies the draw waits for (AGENCIES)." },
    [S_FINISHED] = {
        .name = "lottery_agencies_finished", .type = LOT_METRIC_GAUGE,
        .help = "Agencies whose last chunk is stored." },
    [S_DONE] = {
        .name = "lottery_draw_done", .type = LOT_METRIC_GAUGE,
        .help = "1 once the draw has run, else 0." },
    [S_DURATION] = {
        .name = "lottery_draw_duration_seconds", .type = LOT_METRIC_GAUGE, .unit = 1e-3,
        .help = "From the last agency finished to the draw's winners, read back from"
                " the bets file." },
};

static const lot_metric_family_t s_agency_finished = {
    .name = "lottery_agency_finished", .type = LOT_METRIC_GAUGE,
    .help = "1 once the agency's last chunk is stored, else 0."
};

static const lot_metric_family_t s_winners = {
    .name = "lottery_winners", .type = LOT_METRIC_GAUGE,
    .help = "Winning bets of the agency, once the draw has run."
};

struct _lot_draw_metrics_t {
    lot_metrics_t *metrics;
    long agencies;
    lot_metric_t *series [S_FAMILIES];
    lot_metric_t **finished;    //  By agency
};

//  The series of family for an agency.
static lot_metric_t *
s_agency_series (lot_metrics_t *metrics, const lot_metric_family_t *family, long agency)
{
    char label [24];
    snprintf (label, sizeof label, "%ld", agency);
    return lot_metrics_series (metrics, family, "agency", label, NULL);
}

lot_draw_metrics_t *
lot_draw_metrics_new (lot_metrics_t *metrics, long agencies)
{
    if (!metrics)
        return NULL;
    lot_draw_metrics_t *self = calloc (1, sizeof *self);
    if (self)
        self->finished = calloc ((size_t) agencies + 1, sizeof *self->finished);
    if (self && !self->finished)
        lot_draw_metrics_destroy (&self);
    if (!self)
        return NULL;
    self->metrics = metrics;
    self->agencies = agencies;
    for (int i = 0; i < S_FAMILIES; i++)
        self->series [i] = lot_metrics_series (metrics, &s_families [i], NULL);
    lot_metric_set (self->series [S_EXPECTED], agencies);
    for (long agency = 1; agency <= agencies; agency++)
        self->finished [agency] = s_agency_series (metrics, &s_agency_finished, agency);
    return self;
}

void
lot_draw_metrics_destroy (lot_draw_metrics_t **self_p)
{
    if (*self_p) {
        lot_draw_metrics_t *self = *self_p;
        free (self->finished);
        free (self);
        *self_p = NULL;
    }
}

void
lot_draw_metrics_finished (lot_draw_metrics_t *self, long agency, long finished)
{
    if (!self || agency < 1 || agency > self->agencies)
        return;
    lot_metric_set (self->finished [agency], 1);
    lot_metric_set (self->series [S_FINISHED], finished);
}

void
lot_draw_metrics_drawn (lot_draw_metrics_t *self, zmsg_t *winners, int64_t msecs)
{
    if (!self)
        return;
    size_t size;
    const char *documents = lot_msg_winners_first (winners, &size);
    for (long agency = 1; agency <= self->agencies && documents; agency++) {
        lot_metric_set (s_agency_series (self->metrics, &s_winners, agency),
                        (int64_t) lot_msg_winners_count (documents, size));
        documents = lot_msg_winners_next (winners, &size);
    }
    lot_metric_set (self->series [S_DURATION], msecs);
    lot_metric_set (self->series [S_DONE], 1);
}
