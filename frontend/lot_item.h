/*  lot_item - one request of a connection in the pipeline, and its answer

    An item is a chunk, or a position query (how far is the agency
    stored?), that a connection took from its bytes and handed on: it
    waits for its RESULT, and keeps its answer until every earlier item of
    its connection has its own (lot_conn keeps them in order, and their
    bytes). The pipeline owns the list an item is in; the item only keeps
    its handle there.
*/
#ifndef LOT_ITEM_H_INCLUDED
#define LOT_ITEM_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _lot_conn_t lot_conn_t;
typedef struct _lot_item_t lot_item_t;

//  A chunk of conn: size bytes at start in its stream, header bytes, then
//  the chunk of count bets at position.
lot_item_t *lot_item_new (lot_conn_t *conn, size_t start, size_t size, size_t header,
                          uint32_t position, uint32_t count);

//  A position query of conn, at start in its stream: no bytes.
lot_item_t *lot_item_new_query (lot_conn_t *conn, size_t start);

void lot_item_destroy (lot_item_t **self_p);

//  Its connection.
lot_conn_t *lot_item_conn (lot_item_t *self);

//  True for a position query: no bytes.
bool lot_item_is_query (lot_item_t *self);

//  The chunk's position, and the bets in it from its header.
uint32_t lot_item_position (lot_item_t *self);
uint32_t lot_item_count (lot_item_t *self);

//  Bytes before the chunk ('N' position).
size_t lot_item_header (lot_item_t *self);

//  Where its bytes lie in its connection's stream, and how many (header
//  and chunk).
size_t lot_item_start (lot_item_t *self);
size_t lot_item_size (lot_item_t *self);

//  True when a RESULT for (query, position, count) answers it: it has no
//  answer yet, and is that query or that chunk.
bool lot_item_matches (lot_item_t *self, bool query, uint32_t position, uint32_t count);

//  Gives it its answer: the bytes to write when its turn comes.
void lot_item_set_answer (lot_item_t *self, const void *answer, size_t size);

//  Its answer, maybe of no bytes, once it has one; else NULL.
const uint8_t *lot_item_answer (lot_item_t *self, size_t *size);

//  When it last went to the handlers (zclock_mono).
int64_t lot_item_sent_at (lot_item_t *self);
void lot_item_set_sent_at (lot_item_t *self, int64_t when);

//  The pipeline's list the item is in (NULL: none) and its handle there.
void *lot_item_list (lot_item_t *self, void **handle);
void lot_item_set_list (lot_item_t *self, void *list, void *handle);

#endif
