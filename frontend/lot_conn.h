/*  lot_conn - one agency connection of the front-end: its bytes, its items

    A connection keeps the bytes it received and that are not answered yet
    in one buffer, never more than its limit. The messages at the head of
    the buffer that went into the pipeline are its items, oldest first:
    each waits for its RESULT, and their answers go out in the order the
    messages came, so an item answered early keeps its answer until every
    earlier one has its own. An answered item at the head is popped, and
    its bytes with it. What follows the items is the next message, still
    arriving or not taken yet.

    A position query (how far is the agency stored?) is an item too, with
    no bytes (an item is a lot_item). The front-end's classes own the lists
    the items and the connection are in (lot_conns, lot_pipeline, lot_desk);
    the connection only keeps its handles in them.
*/
#ifndef LOT_CONN_H_INCLUDED
#define LOT_CONN_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>
#include "lot_item.h"

typedef enum {
    LOT_CONN_NEW,               //  Waiting for 'B', 'H', 'W' or 'P'
    LOT_CONN_BETS,              //  Chunks follow (v1 after 'B', v2 after 'H')
    LOT_CONN_WINNERS,           //  A winners query is held
    LOT_CONN_STALLED,           //  An answer would not go: leaving, or
                                //  not reading; ignored for SEND_TIMEOUT
    LOT_CONN_DEAD               //  A CURVE one that reads no answers:
                                //  ignored until it goes
} lot_conn_state_t;

//  The front-end's lists a connection may be in, each its handle there
typedef enum {
    LOT_CONN_LIST_RECENT,       //  lot_conns: every connection, by activity
    LOT_CONN_LIST_STALLED,      //  lot_conns: the stalled ones, oldest first
    LOT_CONN_LIST_HELD,         //  lot_desk: winners queries held
    LOT_CONN_LISTS
} lot_conn_list_t;

typedef struct _lot_conn_t lot_conn_t;

//  A new connection that buffers at most limit bytes. Takes routing_id.
lot_conn_t *lot_conn_new (zframe_t **routing_id_p, const char *peer, size_t limit);

//  Frees the connection with its items; the front-end must have taken
//  them out of its lists.
void lot_conn_destroy (lot_conn_t **self_p);

//  The peer's routing id on the agencies' socket; the connection owns it.
zframe_t *lot_conn_routing_id (lot_conn_t *self);

//  The routing id in hex: the connection's key in the front-end's table.
const char *lot_conn_key (lot_conn_t *self);

//  The key of the connection with this routing id (a plain port's id, or
//  at most LOT_CONN_ID_MAX bytes of the CURVE socket's, which proven
//  says), written without allocating: the front-end looks one up for
//  every read.
#define LOT_CONN_ID_MAX 255
#define LOT_CONN_KEY_MAX (2 + 2 * LOT_CONN_ID_MAX)
void lot_conn_key_of (const void *id, size_t size, bool proven, char key [LOT_CONN_KEY_MAX]);

//  A connection of the agencies' CURVE socket, whose key proved agency:
//  before it goes in the table, as its key changes ("s" and the hex).
void lot_conn_set_proven (lot_conn_t *self, unsigned agency);

//  The agency its key proved, or 0 for a plain TCP connection.
unsigned lot_conn_proven (lot_conn_t *self);

//  The agency's address, for log lines.
const char *lot_conn_peer (lot_conn_t *self);

//  Its state; one that stalls remembers when.
lot_conn_state_t lot_conn_state (lot_conn_t *self);
void lot_conn_set_state (lot_conn_t *self, lot_conn_state_t state);

//  Of a bets connection: 1, 2 or 3; 0 before it says.
int lot_conn_version (lot_conn_t *self);
void lot_conn_set_version (lot_conn_t *self, int version);
//  True for a bets connection that said 'H' (v2 or v3): its chunks are
//  numbered and pipelined. v3 differs from v2 in 'S' alone, and in the
//  'E' its client may send instead of a chunk.
bool lot_conn_numbered (lot_conn_t *self);

//  The agency a bets connection speaks for, or a winners query asks
//  about; 0 before it is known.
unsigned lot_conn_agency (lot_conn_t *self);
void lot_conn_set_agency (lot_conn_t *self, unsigned agency);

//  Where the next chunk goes: v1 numbers it so, v2 checks it while chunks
//  are out. Setting it makes it known (positioned), which a v1 connection
//  waits for before its first chunk.
uint64_t lot_conn_next_position (lot_conn_t *self);
void lot_conn_set_next_position (lot_conn_t *self, uint64_t position);
bool lot_conn_positioned (lot_conn_t *self);

//  Last byte received or answer sent (zclock_mono).
int64_t lot_conn_active_at (lot_conn_t *self);
void lot_conn_set_active_at (lot_conn_t *self, int64_t when);

//  When it last became LOT_CONN_STALLED (zclock_mono).
int64_t lot_conn_stalled_at (lot_conn_t *self);

//  When the first byte of the message not taken yet came, or 0 when none
//  has.
int64_t lot_conn_partial_at (lot_conn_t *self);

//  Its handle in one of the front-end's lists; NULL when not in it.
void *lot_conn_handle (lot_conn_t *self, lot_conn_list_t list);
void lot_conn_set_handle (lot_conn_t *self, lot_conn_list_t list, void *handle);

//  Raises the most bytes the connection may hold, once it is known what
//  it may send without waiting.
void lot_conn_set_limit (lot_conn_t *self, size_t limit);

//  Appends received bytes. Returns -1, keeping none, when they would take
//  the buffer past its limit.
int lot_conn_append (lot_conn_t *self, const void *data, size_t size);

//  The live bytes held (the items', then the next message's): what counts
//  against the limit.
size_t lot_conn_buffered (lot_conn_t *self);

//  The bytes the buffer holds room for.
size_t lot_conn_capacity (lot_conn_t *self);

//  The bytes after the items: the next message, maybe incomplete.
const uint8_t *lot_conn_next (lot_conn_t *self, size_t *size);

//  Forgets the next message's first size bytes, handled with no item.
void lot_conn_skip (lot_conn_t *self, size_t size);

//  Makes the next message's first size bytes an item at the tail: header
//  bytes, then a chunk. Returns the item.
lot_item_t *lot_conn_take (lot_conn_t *self, size_t size, size_t header,
                           uint32_t position, uint32_t count);

//  A position query at the tail.
lot_item_t *lot_conn_take_query (lot_conn_t *self);

//  The chunk of an item; *size is its length.
const uint8_t *lot_conn_chunk (lot_conn_t *self, lot_item_t *item, size_t *size);

//  How many items the connection has.
size_t lot_conn_items (lot_conn_t *self);

//  Its items by age, the oldest 0; NULL past the last.
lot_item_t *lot_conn_item (lot_conn_t *self, size_t index);

//  The oldest unanswered item that a RESULT for (query, position, count)
//  answers, or NULL.
lot_item_t *lot_conn_find (lot_conn_t *self, bool query, uint32_t position,
                           uint32_t count);

//  True when a chunk older than the item is still unanswered.
bool lot_conn_follows (lot_conn_t *self, lot_item_t *item);

//  Removes the oldest item, and its bytes.
void lot_conn_pop (lot_conn_t *self);

//  Forgets every item and every byte.
void lot_conn_clear (lot_conn_t *self);

#endif
