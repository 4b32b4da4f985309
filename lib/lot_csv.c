/*  lot_csv - a streaming reader of CSV records  */
#include "lot_csv.h"

#include <stdlib.h>
#include <string.h>

#define READ_SIZE (1 << 16)     //  Bytes per read: stdio's 4 kB is a read
                                //  per hundred bets

struct _lot_csv_t {
    FILE *file;
    char *record;           //  The record's raw bytes, unquoted in place
    size_t size;
    size_t capacity;
    char *line;             //  getline's buffer
    size_t line_capacity;
    size_t line_number;     //  Lines read so far
    size_t record_line;     //  Where the last record began
    bool failed;            //  A read failed
};

lot_csv_t *
lot_csv_new (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (file)
        setvbuf (file, NULL, _IOFBF, READ_SIZE);
    return file ? lot_csv_new_stream (file) : NULL;
}

lot_csv_t *
lot_csv_new_stream (FILE *file)
{
    lot_csv_t *self = calloc (1, sizeof *self);
    if (!self) {
        fclose (file);
        return NULL;
    }
    self->file = file;
    return self;
}

void
lot_csv_destroy (lot_csv_t **self_p)
{
    if (*self_p) {
        lot_csv_t *self = *self_p;
        fclose (self->file);
        free (self->record);
        free (self->line);
        free (self);
        *self_p = NULL;
    }
}

static int
s_append (lot_csv_t *self, const char *data, size_t size)
{
    if (self->size + size + 1 > self->capacity) {
        size_t capacity = (self->size + size + 1) * 2;
        char *record = realloc (self->record, capacity);
        if (!record)
            return -1;
        self->record = record;
        self->capacity = capacity;
    }
    memcpy (self->record + self->size, data, size);
    self->size += size;
    return 0;
}

//  Reads whole lines until no quoted field is open: a quoted field may
//  hold line breaks. Only a quote that starts a field opens one; a stray
//  quote inside an unquoted field does not (lot_csv_next rejects that
//  record alone). Returns 1 with a record, 0 at the end, -1 on error.
static int
s_read_record (lot_csv_t *self)
{
    self->size = 0;
    bool quoted = false;
    //  Field start, unquoted field, quoted field, quote in a quoted field
    enum { S_START, S_PLAIN, S_QUOTED, S_QUOTE } state = S_START;
    while (true) {
        ssize_t got = getline (&self->line, &self->line_capacity, self->file);
        if (got < 0) {
            if (ferror (self->file)) {
                self->failed = true;
                return 0;
            }
            return quoted ? -1 : self->size > 0;
        }
        self->line_number++;
        if (!quoted && self->size == 0) {
            self->record_line = self->line_number;
            state = S_START;
        }
        for (ssize_t i = 0; i < got; i++) {
            char c = self->line [i];
            if (state == S_QUOTED)
                state = c == '"' ? S_QUOTE : S_QUOTED;
            else
            if (c == '"')
                state = state == S_PLAIN ? S_PLAIN : S_QUOTED;
            else
                state = c == ',' ? S_START : S_PLAIN;
        }
        quoted = state == S_QUOTED;
        if (s_append (self, self->line, (size_t) got))
            return -1;
        if (!quoted) {
            //  Drop the line end, CRLF or LF
            if (self->size && self->record [self->size - 1] == '\n')
                self->size--;
            if (self->size && self->record [self->size - 1] == '\r')
                self->size--;
            if (self->size > 0)
                return 1;
        }
    }
}

int
lot_csv_next (lot_csv_t *self, lot_span_t *fields, int max_fields)
{
    int rc = s_read_record (self);
    if (rc <= 0)
        return rc;
    char *in = self->record;
    char *end = self->record + self->size;
    int count = 0;
    while (true) {
        if (count == max_fields)
            return -1;
        char *start = in;
        char *out = in;
        if (in < end && *in == '"') {
            in++;
            while (true) {
                if (in == end)
                    return -1;
                if (*in == '"') {
                    if (in + 1 < end && in [1] == '"') {
                        *out++ = '"';
                        in += 2;
                        continue;
                    }
                    in++;
                    break;
                }
                *out++ = *in++;
            }
            if (in < end && *in != ',')
                return -1;
        }
        else {
            while (in < end && *in != ',') {
                if (*in == '"')
                    return -1;
                in++;
            }
            out = in;
        }
        fields [count++] = (lot_span_t) { start, (size_t) (out - start) };
        if (in == end)
            return count;
        in++;                   //  Past the comma
    }
}

bool
lot_csv_failed (lot_csv_t *self)
{
    return self->failed;
}

size_t
lot_csv_line (lot_csv_t *self)
{
    return self->record_line;
}
