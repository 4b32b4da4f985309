/*  lot_item - one request of a connection in the pipeline, and its answer  */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "lot_item.h"
#include "lot_codec.h"

struct _lot_item_t {
    lot_conn_t *conn;
    bool query;                 //  A position query: no bytes
    uint32_t position;          //  The chunk's
    uint32_t count;             //  Bets in it, from its header
    size_t header;              //  Bytes before the chunk ('N' position)
    int64_t sent_at;            //  When it last went to the handlers
    void *list;                 //  The pipeline's list it is in, and its
    void *handle;               //  handle there
    bool answered;              //  answer holds what to write (maybe nothing)
    uint8_t answer [LOT_ANSWER_MAX];
    size_t answer_size;
    size_t start;               //  Offset of its bytes in the stream
    size_t size;                //  Header and chunk
};

lot_item_t *
lot_item_new (lot_conn_t *conn, size_t start, size_t size, size_t header,
              uint32_t position, uint32_t count)
{
    assert (header <= size);
    lot_item_t *self = calloc (1, sizeof *self);
    assert (self);
    self->conn = conn;
    self->position = position;
    self->count = count;
    self->header = header;
    self->start = start;
    self->size = size;
    return self;
}

lot_item_t *
lot_item_new_query (lot_conn_t *conn, size_t start)
{
    lot_item_t *self = lot_item_new (conn, start, 0, 0, 0, 0);
    self->query = true;
    return self;
}

void
lot_item_destroy (lot_item_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

lot_conn_t *
lot_item_conn (lot_item_t *self)
{
    return self->conn;
}

bool
lot_item_is_query (lot_item_t *self)
{
    return self->query;
}

uint32_t
lot_item_position (lot_item_t *self)
{
    return self->position;
}

uint32_t
lot_item_count (lot_item_t *self)
{
    return self->count;
}

size_t
lot_item_header (lot_item_t *self)
{
    return self->header;
}

size_t
lot_item_start (lot_item_t *self)
{
    return self->start;
}

size_t
lot_item_size (lot_item_t *self)
{
    return self->size;
}

bool
lot_item_matches (lot_item_t *self, bool query, uint32_t position, uint32_t count)
{
    return !self->answered && self->query == query
        && (query || (self->position == position && self->count == count));
}

void
lot_item_set_answer (lot_item_t *self, const void *answer, size_t size)
{
    assert (size <= sizeof self->answer);
    memcpy (self->answer, answer, size);
    self->answer_size = size;
    self->answered = true;
}

const uint8_t *
lot_item_answer (lot_item_t *self, size_t *size)
{
    *size = self->answer_size;
    return self->answered ? self->answer : NULL;
}

int64_t
lot_item_sent_at (lot_item_t *self)
{
    return self->sent_at;
}

void
lot_item_set_sent_at (lot_item_t *self, int64_t when)
{
    self->sent_at = when;
}

void *
lot_item_list (lot_item_t *self, void **handle)
{
    *handle = self->handle;
    return self->list;
}

void
lot_item_set_list (lot_item_t *self, void *list, void *handle)
{
    self->list = list;
    self->handle = handle;
}
