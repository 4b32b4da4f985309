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
    no bytes. The front-end owns the lists the items and the connection
    are in (the handles below); the connection only keeps them.
*/
#ifndef LOT_CONN_H_INCLUDED
#define LOT_CONN_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    LOT_CONN_NEW,               //  Waiting for 'B', 'H', 'W' or 'P'
    LOT_CONN_BETS,              //  Chunks follow (v1 after 'B', v2 after 'H')
    LOT_CONN_WINNERS,           //  A winners query is held
    LOT_CONN_STALLED,           //  An answer would not go: leaving, or
                                //  not reading; ignored for SEND_TIMEOUT
    LOT_CONN_DEAD               //  Reads no answers: ignored until it goes
} lot_conn_state_t;

//  Room for the longest answer: 'E' and a reason of 255 bytes
#define LOT_CONN_ANSWER_MAX (1 + 2 + 255)

typedef struct _lot_conn_t lot_conn_t;

typedef struct {
    lot_conn_t *conn;
    bool query;                 //  A position query: no bytes
    uint32_t position;          //  The chunk's
    uint32_t count;             //  Bets in it, from its header
    size_t header;              //  Bytes before the chunk ('N' position)
    int64_t sent_at;            //  When it last went to the handlers
    void *in_flight_handle;     //  In the front-end's in-flight list
    void *backlog_handle;       //  In its backlog, waiting for room
    void *batch_handle;         //  In the WORK batch being built
    bool answered;              //  answer holds what to write (maybe nothing)
    uint8_t answer [LOT_CONN_ANSWER_MAX];
    size_t answer_size;
    //  Private
    size_t start;               //  Offset of its bytes in the stream
    size_t size;                //  Header and chunk
} lot_conn_item_t;

//  A bets connection speaks for one agency, bound at its 'H' (v2) or its
//  first chunk (v1).
struct _lot_conn_t {
    zframe_t *routing_id;
    char *key;                  //  routing_id in hex: the front-end's key
    char *peer;                 //  The agency's address, for log lines
    lot_conn_state_t state;
    int version;                //  Of a bets connection: 1 or 2
    unsigned agency;            //  Bound (bets), or asked about (winners)
    bool bound;                 //  Holds its agency's bets_of entry
    bool positioned;            //  v1: next_position is known
    uint64_t next_position;     //  Where the next chunk goes: v1 numbers
                                //  it so, v2 checks it while chunks are out
    void *held_handle;          //  In held when non-NULL
    void *stalled_handle;       //  In stalled when non-NULL
    int64_t stalled_at;
    void *recent_handle;        //  In recent, by last activity
    int64_t active_at;          //  Last byte received or answer sent
    int64_t partial_at;         //  First byte of a message not taken, or 0
    //  Private: the buffer and the items
    uint8_t *data;
    size_t head;                //  data [0, head) is answered: squeezed out
                                //  only when room is needed
    size_t size;                //  data [head, size) is live
    size_t capacity;
    size_t limit;               //  Most live bytes data may hold
    size_t taken;               //  data [head, taken) belongs to the items
    size_t dropped;             //  Bytes of the stream gone before data
    lot_conn_item_t **items;    //  Oldest first
    size_t item_count;
    size_t item_capacity;
};

//  A new connection that buffers at most limit bytes. Takes routing_id.
lot_conn_t *lot_conn_new (zframe_t **routing_id_p, const char *peer, size_t limit);

//  Frees the connection with its items; the front-end must have taken
//  them out of its lists.
void lot_conn_destroy (lot_conn_t **self_p);

//  Raises the most bytes the connection may hold, once it is known what
//  it may send without waiting.
void lot_conn_set_limit (lot_conn_t *self, size_t limit);

//  Appends received bytes. Returns -1, keeping none, when they would take
//  the buffer past its limit.
int lot_conn_append (lot_conn_t *self, const void *data, size_t size);

//  The bytes after the items: the next message, maybe incomplete.
const uint8_t *lot_conn_next (lot_conn_t *self, size_t *size);

//  Forgets the next message's first size bytes, handled with no item.
void lot_conn_skip (lot_conn_t *self, size_t size);

//  Makes the next message's first size bytes an item at the tail: header
//  bytes, then a chunk. Returns the item.
lot_conn_item_t *lot_conn_take (lot_conn_t *self, size_t size, size_t header,
                                uint32_t position, uint32_t count);

//  A position query at the tail.
lot_conn_item_t *lot_conn_take_query (lot_conn_t *self);

//  The chunk of an item; *size is its length.
const uint8_t *lot_conn_chunk (lot_conn_t *self, lot_conn_item_t *item, size_t *size);

//  How many items the connection has.
size_t lot_conn_items (lot_conn_t *self);

//  Its items by age, the oldest 0; NULL past the last.
lot_conn_item_t *lot_conn_item (lot_conn_t *self, size_t index);

//  The oldest unanswered item that a RESULT for (query, position, count)
//  answers, or NULL.
lot_conn_item_t *lot_conn_find (lot_conn_t *self, bool query, uint32_t position,
                                uint32_t count);

//  True when a chunk older than the item is still unanswered.
bool lot_conn_follows (lot_conn_t *self, lot_conn_item_t *item);

//  Gives an item its answer: the bytes to write when its turn comes.
void lot_conn_answer (lot_conn_item_t *item, const void *answer, size_t size);

//  Removes the oldest item, and its bytes.
void lot_conn_pop (lot_conn_t *self);

//  Forgets every item and every byte.
void lot_conn_clear (lot_conn_t *self);

#endif
