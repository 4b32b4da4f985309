/*  lot_csv - a streaming reader of CSV records

    Reads the agency data files and the bets file: CRLF or LF line ends,
    fields quoted only when needed, a quote inside a quoted field doubled,
    line breaks allowed inside quoted fields. Blank lines are skipped.
    Memory grows with the longest record, never with the file.
*/
#ifndef LOT_CSV_H_INCLUDED
#define LOT_CSV_H_INCLUDED

#include "lot_bet.h"

#include <stdio.h>

typedef struct _lot_csv_t lot_csv_t;

//  Opens a file for reading. Returns NULL (errno set) when it cannot.
lot_csv_t *lot_csv_new (const char *path);

//  Reads an open stream, which it then owns (and closes).
lot_csv_t *lot_csv_new_stream (FILE *file);

void lot_csv_destroy (lot_csv_t **self_p);

//  Reads the next record into fields (at most max_fields). Returns the
//  number of fields, 0 at the end of the file, or -1 for a malformed
//  record (too many fields, a stray or unclosed quote): reading may go on.
//  The spans stay valid until the next call.
int lot_csv_next (lot_csv_t *self, lot_span_t *fields, int max_fields);

//  True once a read failed (then lot_csv_next returns 0, as at the end).
bool lot_csv_failed (lot_csv_t *self);

//  The line number where the last record read began (1-based).
size_t lot_csv_line (lot_csv_t *self);

#endif
