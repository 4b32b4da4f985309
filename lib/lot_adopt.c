/*  lot_adopt - the bets file's lines past its journal's last record, taken back  */
#include "lot_adopt.h"
#include "lot_bet.h"
#include "lot_csv.h"
#include "lot_file.h"
#include "lot_journal.h"

#include <assert.h>
#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK_SIZE (1 << 16)    //  Read at once; a line is far shorter

//  True when line (size bytes, its newline included) is a bet of an
//  agency in 1..max_agency exactly as a commit writes it: parsed by the
//  CSV reader, checked by the bet's rules but the clock's, and formatted
//  back to the same bytes (1, setting *agency), or not (0); -1 when it
//  cannot be checked (no memory for its stream).
static int
s_bet_line (const char *line, size_t size, unsigned max_agency, uint32_t *agency)
{
    if (size < 2 || line [size - 2] != '\r' || size > LOT_BET_CSV_MAX)
        return 0;
    FILE *stream = fmemopen ((void *) line, size, "r");
    lot_csv_t *csv = stream ? lot_csv_new_stream (stream) : NULL;
    if (!csv)
        return -1;
    lot_span_t fields [7];
    lot_bet_t bet;
    char out [LOT_BET_CSV_MAX];
    bool valid = lot_csv_next (csv, fields, 7) == 6
              && !lot_bet_from_stored_fields (&bet, fields, max_agency)
              && lot_bet_format_csv (&bet, out, sizeof out) == size
              && memcmp (out, line, size) == 0;
    lot_csv_destroy (&csv);
    if (valid)
        *agency = bet.agency;
    return valid;
}

//  One adoption: the run of one agency's lines being read, and the
//  records written so far
typedef struct {
    const lot_adopt_t *tail;
    uint32_t agency;                //  The run's; 0: none yet
    uint32_t count;
    uint64_t start;
    uint64_t end;
    uint32_t crc;
    char *records;
    size_t size;
    size_t max;
} self_t;

//  Ends the run: its record goes to the records, and its agency stores
//  its lines.
static void
s_self_end_run (self_t *self)
{
    const lot_adopt_t *tail = self->tail;
    if (self->agency == 0)
        return;
    if (self->size + LOT_JOURNAL_RECORD_MAX > self->max) {
        self->max = self->max ? 2 * self->max : 4096;
        self->records = realloc (self->records, self->max);
        assert (self->records);
    }
    lot_journal_record_t record = {
        .agency = self->agency, .position = tail->stored [self->agency],
        .count = self->count, .last = false, .group = tail->group,
        .end = self->end, .lines_crc = self->crc
    };
    self->size += lot_journal_record_format (&record, self->records + self->size);
    tail->stored [self->agency] += self->count;
    if (tail->lines)
        tail->lines (tail->arg, self->agency, self->start, self->end - self->start);
    self->agency = self->count = self->crc = 0;
}

//  Takes one line at offset at (size bytes, newline included): 1 when
//  adopted, 0 when the adoption ends before it, -1 on an error.
static int
s_self_take (self_t *self, const char *line, size_t size, uint64_t at, char **error)
{
    const lot_adopt_t *tail = self->tail;
    uint32_t agency = 0;
    int bet = s_bet_line (line, size, UINT_MAX, &agency);
    if (bet < 0) {
        if (error)
            *error = zsys_sprintf ("cannot check the lines of the bets file %s: %s",
                                   tail->bets_path, strerror (errno));
        return -1;
    }
    //  A bet of an agency above AGENCIES may be a confirmed one of a run
    //  with more agencies: never cut, for the operator
    if (bet && agency > tail->agencies) {
        if (error)
            *error = zsys_sprintf ("the bets file %s holds bets of agency %" PRIu32
                                   " past its journal's last record, and AGENCIES is"
                                   " %ld: start with AGENCIES %" PRIu32 " or more",
                                   tail->bets_path, agency, tail->agencies, agency);
        return -1;
    }
    uint32_t running = agency == self->agency ? self->count : 0;
    if (!bet || tail->finished [agency]
    ||  tail->stored [agency] + (uint64_t) running >= UINT32_MAX)
        return 0;
    if (agency != self->agency) {
        s_self_end_run (self);
        self->agency = agency;
        self->start = at;
    }
    self->count++;
    self->crc = (uint32_t) crc32 (self->crc, (const Bytef *) line, (uInt) size);
    self->end = at + size;
    return 1;
}

int64_t
lot_adopt (const lot_adopt_t *tail, uint64_t *to, char **records, size_t *records_size,
           char **error)
{
    size_t capacity = BLOCK_SIZE + LOT_BET_CSV_MAX;
    char *block = malloc (capacity);
    assert (block);
    self_t self = { .tail = tail };
    int64_t adopted = 0;
    uint64_t at = tail->from;
    int rc = 1;
    while (rc == 1 && at < tail->size) {
        size_t size = tail->size - at < capacity ? (size_t) (tail->size - at) : capacity;
        if (lot_file_read_at (tail->bets_fd, block, size, at)) {
            if (error)
                *error = zsys_sprintf ("cannot read the bets file %s: %s", tail->bets_path,
                                       strerror (errno));
            rc = -1;
            break;
        }
        size_t used = 0;
        const char *newline;
        while (rc == 1 && (newline = memchr (block + used, '\n', size - used))) {
            size_t line = (size_t) (newline - block) + 1 - used;
            if ((rc = s_self_take (&self, block + used, line, at + used, error)) == 1) {
                used += line;
                adopted++;
            }
        }
        //  A line that does not fit in a whole block is not a bet
        if (rc == 1 && (used == 0 || size < capacity))
            rc = 0;
        at += used;
    }
    free (block);
    if (rc < 0) {
        free (self.records);
        return -1;
    }
    s_self_end_run (&self);
    *to = at;
    *records = self.records;
    *records_size = self.size;
    return adopted;
}
