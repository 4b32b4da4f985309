/*  lot_feed - the bets an agency sends: read from their source, a chunk at a time

    A feed reads bets one by one from a source and fills chunks with them,
    one bet ahead, so that a chunk knows whether it is the last one and a
    bet that did not fit waits for the next. The sources: an agency data
    file, each record checked by the bet rules (lib/lot_bet) with a fail
    line naming the file and line for a bad one; or the single bet of the
    environment. The pace says when an upload may log how far it is.
    No I/O but the data file's.
*/
#ifndef LOT_FEED_H_INCLUDED
#define LOT_FEED_H_INCLUDED

#include "lot_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Yields bets one by one: 1 with the five fields (valid until the next
//  call), 0 at the end, -1 on a bad record (the source logs why).
typedef int (lot_feed_next_fn) (void *source, lot_span_t fields [LOT_BET_FIELDS]);

typedef struct _lot_feed_t lot_feed_t;

//  A feed of the bets next yields from source. NULL when out of memory.
lot_feed_t *lot_feed_new (lot_feed_next_fn *next, void *source);

void lot_feed_destroy (lot_feed_t **self_p);

//  Reads from source anew, from its next bet: the bet read ahead is
//  forgotten.
void lot_feed_restart (lot_feed_t *self, lot_feed_next_fn *next, void *source);

//  Adds bets to a started chunk: at most max_bets, and only while they
//  fit in the writer's capacity. Sets *last when the feed has no more
//  bets. Returns the bets added, or -1 when the source failed or a bet
//  does not fit even in an empty chunk (lot_feed_oversized).
int lot_feed_fill (lot_feed_t *self, lot_chunk_writer_t *writer,
                   unsigned max_bets, bool *last);

//  True when a bet alone did not fit in a chunk.
bool lot_feed_oversized (lot_feed_t *self);

//  ---------------------------------------------------------------------
//  An agency data file as a source: CSV records of five fields

typedef struct _lot_feed_file_t lot_feed_file_t;

//  Opens the file. Returns NULL (errno set) when it cannot.
lot_feed_file_t *lot_feed_file_new (const char *path);

void lot_feed_file_destroy (lot_feed_file_t **self_p);

//  The next bet of the file (a lot_feed_next_fn): each record checked, a
//  fail line naming the file and line for a bad one.
int lot_feed_file_next (void *self, lot_span_t fields [LOT_BET_FIELDS]);

//  Bets read so far.
size_t lot_feed_file_bets (lot_feed_file_t *self);

const char *lot_feed_file_path (lot_feed_file_t *self);

//  Reads the whole file before anything is sent, so that a bad file never
//  reaches the server, not even its good first part: every record, and
//  every bet alone in a chunk of agency's of max_chunk_bytes. Returns 0
//  with *bets set, or -1 after a fail line.
int lot_feed_file_check (const char *path, lot_span_t agency,
                         size_t max_chunk_bytes, size_t *bets);

//  ---------------------------------------------------------------------
//  One bet as a source

typedef struct _lot_feed_single_t lot_feed_single_t;

//  A source of the bet of fields, which must outlive it. NULL when out
//  of memory.
lot_feed_single_t *lot_feed_single_new (const lot_span_t fields [LOT_BET_FIELDS]);

void lot_feed_single_destroy (lot_feed_single_t **self_p);

//  The bet, once (a lot_feed_next_fn).
int lot_feed_single_next (void *self, lot_span_t fields [LOT_BET_FIELDS]);

//  Makes the bet the next again.
void lot_feed_single_rewind (lot_feed_single_t *self);

//  ---------------------------------------------------------------------
//  The pace of an upload's progress lines: none in its first
//  LOT_FEED_PROGRESS_AFTER ms, then at most one every
//  LOT_FEED_PROGRESS_PERIOD ms. Times are zclock_mono () ms. A value, not
//  a class: one number, kept where it is used.

#define LOT_FEED_PROGRESS_AFTER   2000
#define LOT_FEED_PROGRESS_PERIOD  1000

typedef struct {
    int64_t next;               //  When the next line may go
} lot_feed_pace_t;

void lot_feed_pace_init (lot_feed_pace_t *pace, int64_t start);

//  True when a line may go now; it then counts as gone.
bool lot_feed_pace_due (lot_feed_pace_t *pace, int64_t now);

#endif
