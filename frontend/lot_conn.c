/*  lot_conn - one agency connection of the front-end: its bytes, its items  */
#include "lot_conn.h"
#include "lot_codec.h"

#define CAPACITY_STEP 1024      //  The first holds a hello, a query, a ping

//  A bets connection speaks for one agency, bound at its 'H' (v2) or its
//  first chunk (v1).
struct _lot_conn_t {
    zframe_t *routing_id;
    char *key;                  //  routing_id in hex: the front-end's key
    char *peer;                 //  The agency's address, for log lines
    unsigned proven;            //  The agency its key proved, or 0: plain TCP
    lot_conn_state_t state;
    int version;                //  Of a bets connection: 1, 2 or 3
    unsigned agency;            //  Bound (bets), or asked about (winners)
    bool positioned;            //  v1: next_position is known
    uint64_t next_position;     //  Where the next chunk goes: v1 numbers
                                //  it so, v2 checks it while chunks are out
    void *handles [LOT_CONN_LISTS];
    int64_t stalled_at;
    int64_t active_at;          //  Last byte received or answer sent
    int64_t partial_at;         //  First byte of a message not taken, or 0
    //  The buffer and the items
    uint8_t *data;
    size_t head;                //  data [0, head) is answered: squeezed out
                                //  only when room is needed
    size_t size;                //  data [head, size) is live
    size_t capacity;
    size_t limit;               //  Most live bytes data may hold
    size_t taken;               //  data [head, taken) belongs to the items
    size_t dropped;             //  Bytes of the stream gone before data
    lot_item_t **items;         //  Oldest first
    size_t item_count;
    size_t item_capacity;
};

lot_conn_t *
lot_conn_new (zframe_t **routing_id_p, const char *peer, size_t limit)
{
    lot_conn_t *self = calloc (1, sizeof *self);
    assert (self);
    self->routing_id = *routing_id_p;
    *routing_id_p = NULL;
    char key [LOT_CONN_KEY_MAX];
    lot_conn_key_of (zframe_data (self->routing_id), zframe_size (self->routing_id), false, key);
    self->key = strdup (key);
    self->peer = strdup (peer);
    assert (self->key && self->peer);
    self->limit = limit;
    return self;
}

void
lot_conn_set_proven (lot_conn_t *self, unsigned agency)
{
    assert (agency > 0);
    self->proven = agency;
    char key [LOT_CONN_KEY_MAX];
    lot_conn_key_of (zframe_data (self->routing_id), zframe_size (self->routing_id), true, key);
    free (self->key);
    self->key = strdup (key);
    assert (self->key);
}

void
lot_conn_key_of (const void *id, size_t size, bool proven, char key [LOT_CONN_KEY_MAX])
{
    static const char hex [] = "0123456789ABCDEF";
    assert (size <= LOT_CONN_ID_MAX);
    const uint8_t *bytes = id;
    char *put = key;
    //  The CURVE socket numbers its peers apart from the plain port
    if (proven)
        *put++ = 's';
    for (size_t i = 0; i < size; i++) {
        *put++ = hex [bytes [i] >> 4];
        *put++ = hex [bytes [i] & 15];
    }
    *put = 0;
}

unsigned
lot_conn_proven (lot_conn_t *self)
{
    return self->proven;
}

void
lot_conn_destroy (lot_conn_t **self_p)
{
    if (*self_p) {
        lot_conn_t *self = *self_p;
        lot_conn_clear (self);
        free (self->items);
        zframe_destroy (&self->routing_id);
        free (self->key);
        free (self->peer);
        free (self->data);
        free (self);
        *self_p = NULL;
    }
}

zframe_t *
lot_conn_routing_id (lot_conn_t *self)
{
    return self->routing_id;
}

const char *
lot_conn_key (lot_conn_t *self)
{
    return self->key;
}

const char *
lot_conn_peer (lot_conn_t *self)
{
    return self->peer;
}

lot_conn_state_t
lot_conn_state (lot_conn_t *self)
{
    return self->state;
}

void
lot_conn_set_state (lot_conn_t *self, lot_conn_state_t state)
{
    self->state = state;
    if (state == LOT_CONN_STALLED)
        self->stalled_at = zclock_mono ();
}

int
lot_conn_version (lot_conn_t *self)
{
    return self->version;
}

void
lot_conn_set_version (lot_conn_t *self, int version)
{
    self->version = version;
}

bool
lot_conn_numbered (lot_conn_t *self)
{
    return self->version >= LOT_PROTOCOL_V2;
}

unsigned
lot_conn_agency (lot_conn_t *self)
{
    return self->agency;
}

void
lot_conn_set_agency (lot_conn_t *self, unsigned agency)
{
    self->agency = agency;
}

uint64_t
lot_conn_next_position (lot_conn_t *self)
{
    return self->next_position;
}

void
lot_conn_set_next_position (lot_conn_t *self, uint64_t position)
{
    self->next_position = position;
    self->positioned = true;
}

bool
lot_conn_positioned (lot_conn_t *self)
{
    return self->positioned;
}

int64_t
lot_conn_active_at (lot_conn_t *self)
{
    return self->active_at;
}

void
lot_conn_set_active_at (lot_conn_t *self, int64_t when)
{
    self->active_at = when;
}

int64_t
lot_conn_stalled_at (lot_conn_t *self)
{
    return self->stalled_at;
}

int64_t
lot_conn_partial_at (lot_conn_t *self)
{
    return self->partial_at;
}

void *
lot_conn_handle (lot_conn_t *self, lot_conn_list_t list)
{
    assert (list < LOT_CONN_LISTS);
    return self->handles [list];
}

void
lot_conn_set_handle (lot_conn_t *self, lot_conn_list_t list, void *handle)
{
    assert (list < LOT_CONN_LISTS);
    self->handles [list] = handle;
}

void
lot_conn_set_limit (lot_conn_t *self, size_t limit)
{
    assert (limit >= self->size - self->head);
    self->limit = limit;
}

//  The bytes after the items are a new message, or what is left of one
//  after another was taken: it has been arriving since now.
static void
s_self_mark_partial (lot_conn_t *self)
{
    self->partial_at = self->size > self->taken ? zclock_mono () : 0;
}

//  Moves the live bytes to the start of data, when answered ones lie
//  before them: once per filling of the buffer, not once per answer.
static void
s_self_squeeze (lot_conn_t *self)
{
    if (self->head == 0)
        return;
    memmove (self->data, self->data + self->head, self->size - self->head);
    self->dropped += self->head;
    self->size -= self->head;
    self->taken -= self->head;
    self->head = 0;
}

//  Where the buffer's bytes from offset lie. Before the first byte data
//  is still NULL, and even NULL + 0 is undefined: an empty block then.
static const uint8_t *
s_self_at (lot_conn_t *self, size_t offset)
{
    static const uint8_t empty [1];
    return self->data ? self->data + offset : empty;
}

int
lot_conn_append (lot_conn_t *self, const void *data, size_t size)
{
    if (self->size - self->head + size > self->limit)
        return -1;
    if (size == 0)
        return 0;               //  Nothing to copy, maybe to a NULL data
    if (self->size + size > self->capacity)
        s_self_squeeze (self);
    if (self->size + size > self->capacity) {
        //  Grown to what is needed, in steps of CAPACITY_STEP: a thousand
        //  agencies each holding a chunk is the front-end's peak memory
        size_t capacity = (self->size + size + CAPACITY_STEP - 1) / CAPACITY_STEP
                        * CAPACITY_STEP;
        if (capacity > self->limit)
            capacity = self->limit;
        self->data = realloc (self->data, capacity);
        assert (self->data);
        self->capacity = capacity;
    }
    bool started = self->size == self->taken;
    memcpy (self->data + self->size, data, size);
    self->size += size;
    if (started)
        s_self_mark_partial (self);
    return 0;
}

size_t
lot_conn_buffered (lot_conn_t *self)
{
    return self->size - self->head;
}

size_t
lot_conn_capacity (lot_conn_t *self)
{
    return self->capacity;
}

const uint8_t *
lot_conn_next (lot_conn_t *self, size_t *size)
{
    *size = self->size - self->taken;
    return s_self_at (self, self->taken);
}

void
lot_conn_skip (lot_conn_t *self, size_t size)
{
    assert (self->taken + size <= self->size);
    if (size > 0) {
        uint8_t *next = self->data + self->taken;
        memmove (next, next + size, self->size - self->taken - size);
        self->size -= size;
    }
    s_self_mark_partial (self);
}

//  Puts an item of the next message's first bytes at the tail.
static lot_item_t *
s_self_add (lot_conn_t *self, lot_item_t *item)
{
    if (self->item_count == self->item_capacity) {
        self->item_capacity = self->item_capacity ? 2 * self->item_capacity : 4;
        self->items = realloc (self->items, self->item_capacity * sizeof *self->items);
        assert (self->items);
    }
    self->items [self->item_count++] = item;
    self->taken += lot_item_size (item);
    s_self_mark_partial (self);
    return item;
}

lot_item_t *
lot_conn_take (lot_conn_t *self, size_t size, size_t header, uint32_t position,
               uint32_t count)
{
    assert (self->taken + size <= self->size);
    return s_self_add (self, lot_item_new (self, self->dropped + self->taken, size, header,
                                           position, count));
}

lot_item_t *
lot_conn_take_query (lot_conn_t *self)
{
    return s_self_add (self, lot_item_new_query (self, self->dropped + self->taken));
}

const uint8_t *
lot_conn_chunk (lot_conn_t *self, lot_item_t *item, size_t *size)
{
    size_t header = lot_item_header (item);
    *size = lot_item_size (item) - header;
    return s_self_at (self, lot_item_start (item) - self->dropped + header);
}

size_t
lot_conn_items (lot_conn_t *self)
{
    return self->item_count;
}

lot_item_t *
lot_conn_item (lot_conn_t *self, size_t index)
{
    return index < self->item_count ? self->items [index] : NULL;
}

lot_item_t *
lot_conn_find (lot_conn_t *self, bool query, uint32_t position, uint32_t count)
{
    for (size_t i = 0; i < self->item_count; i++)
        if (lot_item_matches (self->items [i], query, position, count))
            return self->items [i];
    return NULL;
}

bool
lot_conn_follows (lot_conn_t *self, lot_item_t *item)
{
    size_t size;
    for (size_t i = 0; i < self->item_count && self->items [i] != item; i++)
        if (!lot_item_answer (self->items [i], &size) && !lot_item_is_query (self->items [i]))
            return true;
    return false;
}

void
lot_conn_pop (lot_conn_t *self)
{
    assert (self->item_count > 0);
    lot_item_t *item = self->items [0];
    self->head += lot_item_size (item);
    if (self->head == self->size)
        s_self_squeeze (self);  //  Nothing live: costs nothing
    memmove (self->items, self->items + 1, --self->item_count * sizeof *self->items);
    lot_item_destroy (&item);
}

void
lot_conn_clear (lot_conn_t *self)
{
    for (size_t i = 0; i < self->item_count; i++)
        lot_item_destroy (&self->items [i]);
    self->item_count = 0;
    self->dropped += self->size;
    self->size = self->taken = self->head = 0;
    self->partial_at = 0;
}
