/*  lot_feed - the bets an agency sends: read from their source, a chunk at a time  */
#include "lot_feed.h"
#include "lot_csv.h"
#include "lot_log.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct _lot_feed_t {
    lot_feed_next_fn *next;
    void *source;
    lot_span_t pending [LOT_BET_FIELDS];
    bool has_pending;
    bool oversized;             //  A bet alone did not fit in a chunk
};

struct _lot_feed_file_t {
    lot_csv_t *csv;
    char *path;
    size_t bets;                //  Bets read so far
};

struct _lot_feed_single_t {
    lot_span_t fields [LOT_BET_FIELDS];
    bool taken;
};

//  ---------------------------------------------------------------------
//  The feed

lot_feed_t *
lot_feed_new (lot_feed_next_fn *next, void *source)
{
    lot_feed_t *self = malloc (sizeof *self);
    if (self)
        lot_feed_restart (self, next, source);
    return self;
}

void
lot_feed_destroy (lot_feed_t **self_p)
{
    free (*self_p);
    *self_p = NULL;
}

void
lot_feed_restart (lot_feed_t *self, lot_feed_next_fn *next, void *source)
{
    assert (next);
    *self = (lot_feed_t) { .next = next, .source = source };
}

int
lot_feed_fill (lot_feed_t *self, lot_chunk_writer_t *writer, unsigned max_bets,
               bool *last)
{
    assert (max_bets > 0);
    unsigned added = 0;
    bool ended = false;
    while (added < max_bets) {
        if (!self->has_pending) {
            int rc = self->next (self->source, self->pending);
            if (rc < 0)
                return -1;
            if (rc == 0) {
                ended = true;
                break;
            }
            self->has_pending = true;
        }
        if (lot_codec_chunk_add (writer, self->pending)) {
            if (writer->count == 0) {
                self->oversized = true;
                return -1;
            }
            break;              //  It starts the next chunk
        }
        self->has_pending = false;
        added++;
    }
    //  A full chunk reads one bet ahead: it is the last when none follows
    if (!self->has_pending && !ended) {
        int rc = self->next (self->source, self->pending);
        if (rc < 0)
            return -1;
        self->has_pending = rc > 0;
    }
    *last = !self->has_pending;
    return (int) added;
}

bool
lot_feed_oversized (lot_feed_t *self)
{
    return self->oversized;
}

//  ---------------------------------------------------------------------
//  The data file

lot_feed_file_t *
lot_feed_file_new (const char *path)
{
    lot_feed_file_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->path = strdup (path);
    self->csv = self->path ? lot_csv_new (path) : NULL;
    if (!self->csv) {
        int error = errno;
        lot_feed_file_destroy (&self);
        errno = error;
    }
    return self;
}

void
lot_feed_file_destroy (lot_feed_file_t **self_p)
{
    if (*self_p) {
        lot_feed_file_t *self = *self_p;
        lot_csv_destroy (&self->csv);
        free (self->path);
        free (self);
        *self_p = NULL;
    }
}

int
lot_feed_file_next (void *source, lot_span_t fields [LOT_BET_FIELDS])
{
    lot_feed_file_t *self = source;
    lot_span_t record [LOT_BET_FIELDS + 1];
    int count = lot_csv_next (self->csv, record, LOT_BET_FIELDS + 1);
    if (count == 0 && lot_csv_failed (self->csv)) {
        lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                       " | reason: read error", self->path);
        return -1;
    }
    if (count == 0)
        return 0;
    size_t line = lot_csv_line (self->csv);
    if (count != LOT_BET_FIELDS) {
        lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                       " | line: %zu | reason: %s", self->path, line,
                       count < 0 ? "malformed record (a stray or unclosed quote,"
                                   " or more than 5 fields)"
                                 : "expected 5 fields");
        return -1;
    }
    //  A UTF-8 byte order mark is no part of the first name
    if (self->bets == 0 && record [0].size >= 3
    &&  memcmp (record [0].data, "\xEF\xBB\xBF", 3) == 0) {
        record [0].data += 3;
        record [0].size -= 3;
    }
    lot_bet_t bet;
    lot_bet_field_t field;
    const char *reason = lot_bet_check_fields (&bet, record, &field);
    if (reason) {
        lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                       " | line: %zu | field: %s | reason: %s",
                       self->path, line, lot_bet_field_name (field), reason);
        return -1;
    }
    memcpy (fields, record, LOT_BET_FIELDS * sizeof record [0]);
    self->bets++;
    return 1;
}

size_t
lot_feed_file_bets (lot_feed_file_t *self)
{
    return self->bets;
}

const char *
lot_feed_file_path (lot_feed_file_t *self)
{
    return self->path;
}

int
lot_feed_file_check (const char *path, lot_span_t agency, size_t max_chunk_bytes,
                     size_t *bets)
{
    lot_feed_file_t *self = lot_feed_file_new (path);
    uint8_t *chunk = self ? malloc (max_chunk_bytes) : NULL;
    if (!chunk) {
        lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                       " | reason: %s", path, strerror (self ? ENOMEM : errno));
        lot_feed_file_destroy (&self);
        return -1;
    }
    lot_span_t fields [LOT_BET_FIELDS];
    int rc;
    while ((rc = lot_feed_file_next (self, fields)) > 0) {
        lot_chunk_writer_t writer;
        if (lot_codec_chunk_start (&writer, chunk, max_chunk_bytes, agency)
        ||  lot_codec_chunk_add (&writer, fields)) {
            lot_log_error ("action: archivo_apuestas | result: fail | file: %s"
                           " | line: %zu | reason: the bet does not fit in"
                           " max_chunk_bytes (%zu)", path,
                           lot_csv_line (self->csv), max_chunk_bytes);
            rc = -1;
            break;
        }
    }
    *bets = self->bets;
    free (chunk);
    lot_feed_file_destroy (&self);
    if (rc < 0)
        return -1;
    lot_log_debug ("action: archivo_apuestas | result: success | file: %s"
                   " | cantidad: %zu", path, *bets);
    return 0;
}

//  ---------------------------------------------------------------------
//  The single bet

lot_feed_single_t *
lot_feed_single_new (const lot_span_t fields [LOT_BET_FIELDS])
{
    lot_feed_single_t *self = calloc (1, sizeof *self);
    if (self)
        memcpy (self->fields, fields, sizeof self->fields);
    return self;
}

void
lot_feed_single_destroy (lot_feed_single_t **self_p)
{
    free (*self_p);
    *self_p = NULL;
}

int
lot_feed_single_next (void *source, lot_span_t fields [LOT_BET_FIELDS])
{
    lot_feed_single_t *self = source;
    if (self->taken)
        return 0;
    memcpy (fields, self->fields, sizeof self->fields);
    self->taken = true;
    return 1;
}

void
lot_feed_single_rewind (lot_feed_single_t *self)
{
    self->taken = false;
}

//  ---------------------------------------------------------------------
//  The pace

void
lot_feed_pace_init (lot_feed_pace_t *pace, int64_t start)
{
    pace->next = start + LOT_FEED_PROGRESS_AFTER;
}

bool
lot_feed_pace_due (lot_feed_pace_t *pace, int64_t now)
{
    if (now < pace->next)
        return false;
    pace->next = now + LOT_FEED_PROGRESS_PERIOD;
    return true;
}
