/*  lot_draw - reads the bets file back and finds each agency's winners

    The draw runs once, over every bet stored, so it is the one reader of
    the whole file and must keep up with it (10 M bets, about 450 MB, in a
    fraction of a second). It reads large blocks and looks at each line
    from its end: the number, birthdate and document never hold a comma or
    a quote, so the last three fields are found without parsing the names
    (which may be quoted and hold commas). Only the agency, the document
    and the number are checked; a line that is not a bet of this draw is
    counted and reported, never used. A large file is read in parts, one
    thread each, as many as there are cores (up to LOT_DRAW_PARTS_MAX).
*/
#ifndef LOT_DRAW_H_INCLUDED
#define LOT_DRAW_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>

typedef struct _lot_draw_t lot_draw_t;

#define LOT_DRAW_PARTS_MAX   4
#define LOT_DRAW_SKIPS_KEPT  100    //  Skipped lines whose numbers are kept

//  A draw among agencies 1..agencies. NULL when out of memory.
lot_draw_t *lot_draw_new (long agencies);
void lot_draw_destroy (lot_draw_t **self_p);

//  Reads the whole file. Returns 0, or -1 (errno set) when it cannot be
//  opened or read.
int lot_draw_read (lot_draw_t *self, const char *path);

//  Scans whole lines (the last may lack its line end), as the next lines
//  of the file.
void lot_draw_scan (lot_draw_t *self, const char *data, size_t size);

size_t lot_draw_bets (lot_draw_t *self);
size_t lot_draw_winners (lot_draw_t *self);
size_t lot_draw_skipped (lot_draw_t *self);
//  The numbers (from 1) of the first LOT_DRAW_SKIPS_KEPT skipped lines.
const size_t *lot_draw_skipped_lines (lot_draw_t *self, size_t *count);

//  An agency's winning documents, each followed by a newline.
const char *lot_draw_documents (lot_draw_t *self, long agency, size_t *size);

#endif
