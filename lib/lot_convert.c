/*  lot_convert - chunks turned into bets-file lines, all or nothing  */
#include "lot_convert.h"
#include "lot_bet.h"
#include "lot_chunk_metrics.h"
#include "lot_codec.h"
#include "lot_log.h"

struct _lot_convert_t {
    unsigned agencies;
    char *lines;                //  Reused for every chunk
    size_t capacity;
    lot_chunk_metrics_t *metrics;   //  Refusals; NULL: metrics off
};

lot_convert_t *
lot_convert_new (const lot_settings_t *settings, const char *actor)
{
    lot_convert_t *self = calloc (1, sizeof *self);
    assert (self);
    self->agencies = (unsigned) settings->agencies;
    self->metrics = lot_chunk_metrics_new (settings->metrics, actor, settings->agencies);
    return self;
}

void
lot_convert_destroy (lot_convert_t **self_p)
{
    if (*self_p) {
        lot_convert_t *self = *self_p;
        free (self->lines);
        lot_chunk_metrics_destroy (&self->metrics);
        free (self);
        *self_p = NULL;
    }
}

//  Formats one valid bet onto the end of *lines, growing it as needed.
//  A buffer not yet allocated is never formatted into: NULL + 0 is
//  undefined behaviour (found by fuzz_codec).
static const char *
s_append_line (const lot_bet_t *bet, char **lines, size_t *capacity, size_t *used)
{
    size_t put;
    while (!*lines
       ||  (put = lot_bet_format_csv (bet, *lines + *used, *capacity - *used)) == 0) {
        size_t grown = *capacity ? *capacity * 2 : 4096;
        char *bigger = realloc (*lines, grown);
        if (!bigger)
            return "out of memory";
        *lines = bigger;
        *capacity = grown;
    }
    *used += put;
    return NULL;
}

const char *
lot_convert_chunk (const uint8_t *chunk, size_t size, unsigned max_agency,
                     char **lines, size_t *capacity, size_t *used,
                     unsigned *agency, bool *last, unsigned *count)
{
    lot_chunk_reader_t reader;
    if (lot_codec_chunk_open (&reader, chunk, size))
        return "malformed chunk";
    *count = reader.count;
    *last = reader.last;
    if (lot_bet_parse_agency (reader.agency, max_agency, agency))
        return "unknown agency";
    size_t start = *used;
    lot_span_t fields [1 + LOT_BET_FIELDS] = { reader.agency };
    const char *reason = NULL;
    int rc;
    lot_bet_t bet;
    while (!reason && (rc = lot_codec_chunk_next (&reader, fields + 1)) == 1)
        if (!(reason = lot_bet_from_fields (&bet, fields, max_agency)))
            reason = s_append_line (&bet, lines, capacity, used);
    if (!reason && rc != 0)
        reason = "malformed chunk";
    if (reason)
        *used = start;          //  All or nothing
    return reason;
}

int
lot_convert_work (lot_convert_t *self, const lot_work_t *work, lot_records_t *records,
                  zmsg_t *rejected)
{
    *records = (lot_records_t) {
        .agency = work->agency, .position = work->position, .follows = work->follows,
        .query = work->size == 0
    };
    unsigned agency = 0, count = 0;
    size_t used = 0;
    const char *reason = NULL;
    if (!records->query) {
        reason = lot_convert_chunk (work->chunk, work->size, self->agencies, &self->lines,
                                    &self->capacity, &used, &agency, &records->last, &count);
        //  The front-end named the chunk after the agency in it
        if (!reason && agency != records->agency)
            reason = "chunk for another agency";
    }
    records->count = count;
    if (reason) {
        lot_log_error ("action: apuesta_recibida | result: fail | cantidad: %u"
                       " | reason: %s", count, reason);
        lot_chunk_metrics_answered (self->metrics, records->agency, reason);
        lot_result_t result = {
            .agency = records->agency, .position = records->position,
            .count = count, .reason = (char *) reason
        };
        lot_msg_add_result (rejected, &result);
        return -1;
    }
    records->lines = (const uint8_t *) self->lines;
    records->size = used;
    return 0;
}
