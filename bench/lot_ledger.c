/*  lot_ledger - the baseline's bets file: each round's lines in one durable write, then the draw  */
#include "lot_ledger.h"
#include "lot_codec.h"
#include "lot_draw.h"
#include "lot_convert.h"
#include "lot_log.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct _lot_ledger_t {
    const lot_settings_t *settings;
    int bets;                   //  The bets file, appended to
    off_t committed;            //  Its size after the last commit
    char *lines;                //  The round's lines
    size_t capacity;
    size_t used;
    bool *finished;             //  By agency: its last chunk is stored
    long finished_count;
    zchunk_t **answers;         //  By agency: its winners answer, once drawn
};

lot_ledger_t *
lot_ledger_new (const lot_settings_t *settings)
{
    assert (settings);
    lot_ledger_t *self = calloc (1, sizeof *self);
    assert (self);
    self->settings = settings;
    self->finished = calloc ((size_t) settings->agencies + 1, sizeof *self->finished);
    assert (self->finished);
    self->bets = open (settings->bets_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (self->bets < 0 || (self->committed = lseek (self->bets, 0, SEEK_END)) < 0) {
        lot_log_error ("action: open | result: fail | file: %s | reason: %s",
                       settings->bets_file, strerror (errno));
        lot_ledger_destroy (&self);
    }
    return self;
}

void
lot_ledger_destroy (lot_ledger_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        lot_ledger_t *self = *self_p;
        for (long i = 0; self->answers && i <= self->settings->agencies; i++)
            zchunk_destroy (&self->answers [i]);
        free (self->answers);
        free (self->finished);
        free (self->lines);
        if (self->bets >= 0)
            close (self->bets);
        free (self);
        *self_p = NULL;
    }
}

const char *
lot_ledger_add (lot_ledger_t *self, const uint8_t *chunk, size_t size, unsigned *agency,
                bool *last)
{
    size_t used = self->used;
    unsigned count;
    const char *reason = lot_convert_chunk (chunk, size, (unsigned) self->settings->agencies,
                                              &self->lines, &self->capacity, &self->used,
                                              agency, last, &count);
    if (!reason && self->finished [*agency]) {
        reason = "agency already finished";
        self->used = used;
    }
    return reason;
}

//  The round's lines in one write and one fdatasync; on failure they are
//  cut off again. Returns NULL, or why the chunks are refused.
static const char *
s_store (lot_ledger_t *self)
{
    const char *reason = NULL;
    for (size_t done = 0; done < self->used && !reason; ) {
        ssize_t wrote = write (self->bets, self->lines + done, self->used - done);
        if (wrote > 0)
            done += (size_t) wrote;
        else
        if (errno != EINTR)
            reason = errno == ENOSPC ? "bets file write failed: device full"
                                     : "bets file write failed";
    }
    if (!reason && self->settings->bets_fsync && fdatasync (self->bets))
        reason = "bets file write failed";
    if (reason) {
        lot_log_error ("action: guardar | result: fail | reason: %s", strerror (errno));
        if (ftruncate (self->bets, self->committed))
            lot_log_error ("action: truncar | result: fail | reason: %s", strerror (errno));
    }
    else
        self->committed += (off_t) self->used;
    return reason;
}

const char *
lot_ledger_commit (lot_ledger_t *self)
{
    const char *failure = self->used ? s_store (self) : NULL;
    self->used = 0;
    return failure;
}

void
lot_ledger_finish (lot_ledger_t *self, unsigned agency)
{
    if (!self->finished [agency]) {
        self->finished [agency] = true;
        self->finished_count++;
    }
}

//  Reads the bets back and encodes each agency's answer: count, then
//  the documents of its bets that play the winning number.
bool
lot_ledger_draw (lot_ledger_t *self)
{
    long agencies = self->settings->agencies;
    if (self->answers || self->finished_count != agencies)
        return false;
    lot_draw_t *draw = lot_draw_new (agencies);
    self->answers = calloc ((size_t) agencies + 1, sizeof *self->answers);
    assert (draw && self->answers);
    if (lot_draw_read (draw, self->settings->bets_file)) {
        lot_log_error ("action: sorteo | result: fail | reason: cannot read %s",
                       self->settings->bets_file);
        lot_draw_destroy (&draw);
        return true;
    }
    for (long agency = 1; agency <= agencies; agency++) {
        size_t size;
        const char *documents = lot_draw_documents (draw, agency, &size);
        size_t capacity = 2 + 2 * size;
        uint8_t *answer = malloc (capacity);
        assert (answer);
        size_t put = lot_codec_winners_encode (answer, capacity, documents, size);
        //  None when there are more than v1 can say
        self->answers [agency] = put ? zchunk_new (answer, put) : NULL;
        free (answer);
    }
    lot_log_info ("action: sorteo | result: success | detalle: %zu bets, %zu winners",
                  lot_draw_bets (draw), lot_draw_winners (draw));
    lot_draw_destroy (&draw);
    return true;
}

bool
lot_ledger_drawn (lot_ledger_t *self)
{
    return self->answers != NULL;
}

const uint8_t *
lot_ledger_answer (lot_ledger_t *self, unsigned agency, size_t *size)
{
    zchunk_t *answer = self->answers ? self->answers [agency] : NULL;
    *size = answer ? zchunk_size (answer) : 0;
    return answer ? zchunk_data (answer) : NULL;
}
