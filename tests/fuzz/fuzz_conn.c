/*  fuzz_conn - one connection's window of items, as the front-end keeps it

    The front-end keeps, per agency connection, the bytes received and the
    items taken from them; a v2 upload pipelines a window of chunks,
    answered out of order (fuzz_stream takes every item as answered at
    once). The input is a script of operations on one lot_conn_t, each a
    byte and its arguments, after two bytes that give the first limit:
    append bytes (made from the input, held in a heap block of exactly
    their size), take the next message's first bytes as an item, take a
    query, skip bytes, answer any unanswered item (the oldest that a
    RESULT for it finds, or that one itself), write the answers that are
    due as lot_responder_answer_due (frontend/) does, set the limit,
    ask what a RESULT finds or whether an item follows a chunk, clear. A
    plain model keeps beside it the live bytes in one array and the items
    in a list; seeds by hand (tests/fuzz/seeds/fuzz_conn) open a v2 window
    and squeeze a full buffer. What must hold, after every operation:
    - an append is refused, keeping nothing, exactly when the live bytes
      would pass the limit; the buffer never grows past the largest limit;
    - the items are the model's, oldest first, each chunk the model's
      bytes, however the buffer was squeezed or moved;
    - the next message is the bytes after the items, lot_conn_partial_at
      set exactly while there are some;
    - an answer leaves only when every older item has its own, in the
      order the items were taken; a RESULT finds the oldest unanswered
      item it answers, or none; an item follows a chunk exactly while an
      older chunk is unanswered;
    - destroy frees everything (LeakSanitizer).
*/
#include "fuzz.h"
#include "lot_codec.h"
#include "lot_conn.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    S_APPEND, S_TAKE, S_QUERY, S_SKIP, S_ANSWER, S_DUE, S_LIMIT, S_RESULT,
    S_FOLLOWS, S_CLEAR, S_OPS
} s_op_t;

//  An item as the model keeps it.
typedef struct {
    lot_conn_item_t *item;
    bool query;
    uint32_t position;
    uint32_t count;
    size_t header;
    size_t offset;              //  Of its bytes in the model's
    size_t size;
    bool answered;
    uint8_t answer [LOT_ANSWER_MAX];
    size_t answer_size;
} s_item_t;

typedef struct {
    lot_conn_t *conn;
    size_t limit;
    size_t limit_max;           //  The largest limit it had
    uint8_t *bytes;             //  The live bytes: the items', then the next
    size_t size;
    size_t capacity;
    size_t taken;               //  bytes [0, taken) are the items'
    size_t appended;            //  Bytes ever appended, which the next are made of
    s_item_t *items;            //  Oldest first
    size_t count;
    size_t item_capacity;
} s_model_t;

//  The script: what is left of the input.
typedef struct {
    const uint8_t *data;
    size_t size;
} s_script_t;

//  The script's next byte; 0 past its end.
static unsigned
s_byte (s_script_t *script)
{
    if (script->size == 0)
        return 0;
    script->size--;
    return *script->data++;
}

//  Its next two bytes, big-endian.
static unsigned
s_word (s_script_t *script)
{
    unsigned high = s_byte (script);
    return high << 8 | s_byte (script);
}

//  The byte appended at offset in the stream: each differs from its
//  neighbours, so a byte out of place shows.
static uint8_t
s_stream_byte (size_t offset, unsigned salt)
{
    return (uint8_t) (((uint32_t) offset * 2654435761u) >> 24 ^ salt);
}

//  What the connection and the model agree on after every operation.
static void
s_check (s_model_t *model)
{
    lot_conn_t *conn = model->conn;
    size_t next_size;
    lot_conn_next (conn, &next_size);
    //  The items' bytes are the live ones before the next message
    assert (lot_conn_buffered (conn) == model->size);
    assert (lot_conn_buffered (conn) - next_size == model->taken);
    assert (lot_conn_capacity (conn) <= model->limit_max);
    assert (lot_conn_items (conn) == model->count);
    assert (lot_conn_item (conn, model->count) == NULL);
    for (size_t i = 0; i < model->count; i++) {
        s_item_t *expected = &model->items [i];
        lot_conn_item_t *item = lot_conn_item (conn, i);
        assert (item == expected->item && lot_conn_item_conn (item) == conn);
        assert (lot_conn_item_is_query (item) == expected->query
            &&  lot_conn_item_header (item) == expected->header);
        assert (lot_conn_item_position (item) == expected->position
            &&  lot_conn_item_count (item) == expected->count);
        size_t answer_size;
        const uint8_t *answer = lot_conn_item_answer (item, &answer_size);
        assert ((answer != NULL) == expected->answered);
        if (answer)
            assert (answer_size == expected->answer_size
                &&  memcmp (answer, expected->answer, answer_size) == 0);
        size_t size;
        const uint8_t *chunk = lot_conn_chunk (conn, item, &size);
        assert (size == expected->size - expected->header);
        assert (size == 0
            ||  memcmp (chunk, model->bytes + expected->offset + expected->header,
                        size) == 0);
    }
    size_t size;
    const uint8_t *next = lot_conn_next (conn, &size);
    assert (size == model->size - model->taken);
    assert (size == 0 || memcmp (next, model->bytes + model->taken, size) == 0);
    assert ((lot_conn_partial_at (conn) != 0) == (size > 0));
}

//  Appends bytes made at the model's end; they count only if taken.
static void
s_append (s_model_t *model, unsigned scale, s_script_t *script)
{
    size_t size = s_byte (script) + 256 * (size_t) (scale % 16);
    unsigned salt = s_byte (script);
    if (model->size + size > model->capacity) {
        model->capacity = 2 * (model->size + size);
        model->bytes = realloc (model->bytes, model->capacity);
        assert (model->bytes);
    }
    uint8_t *bytes = model->bytes + model->size;
    for (size_t i = 0; i < size; i++)
        bytes [i] = s_stream_byte (model->appended + i, salt);
    //  Held in a block of exactly their size: a read past it is reported
    uint8_t *copy = fuzz_copy (bytes, size);
    int rc = lot_conn_append (model->conn, copy, size);
    free (copy);
    if (model->size + size > model->limit)
        assert (rc == -1);
    else {
        assert (rc == 0);
        model->size += size;
        model->appended += size;
    }
}

static s_item_t *
s_item_add (s_model_t *model)
{
    if (model->count == model->item_capacity) {
        model->item_capacity = model->item_capacity ? 2 * model->item_capacity : 16;
        model->items = realloc (model->items, model->item_capacity * sizeof *model->items);
        assert (model->items);
    }
    s_item_t *item = &model->items [model->count++];
    *item = (s_item_t) { .offset = model->taken };
    return item;
}

static void
s_take (s_model_t *model, unsigned count, s_script_t *script)
{
    size_t next = model->size - model->taken;
    size_t size = s_word (script) % (next + 1);
    size_t header = s_byte (script) % (size + 1);
    //  Few positions, so that RESULTs find items that look alike
    uint32_t position = s_byte (script) % 4;
    s_item_t *item = s_item_add (model);
    item->item = lot_conn_take (model->conn, size, header, position, count);
    item->position = position;
    item->count = count;
    item->header = header;
    item->size = size;
    model->taken += size;
}

static void
s_query (s_model_t *model)
{
    s_item_t *item = s_item_add (model);
    item->item = lot_conn_take_query (model->conn);
    item->query = true;
}

static void
s_skip (s_model_t *model, s_script_t *script)
{
    size_t next = model->size - model->taken;
    size_t size = s_word (script) % (next + 1);
    lot_conn_skip (model->conn, size);
    memmove (model->bytes + model->taken, model->bytes + model->taken + size,
             next - size);
    model->size -= size;
}

//  The item a RESULT for (query, position, count) answers: the oldest
//  unanswered one alike, or none.
static s_item_t *
s_find (s_model_t *model, bool query, uint32_t position, uint32_t count)
{
    s_item_t *found = NULL;
    for (size_t i = model->count; i-- > 0; ) {
        s_item_t *item = &model->items [i];
        if (!item->answered && item->query == query
        &&  (query || (item->position == position && item->count == count)))
            found = item;
    }
    assert (lot_conn_find (model->conn, query, position, count)
            == (found ? found->item : NULL));
    return found;
}

//  Answers the unanswered item the script names: directly, as the
//  front-end answers a chunk it rejects itself, or through the RESULT
//  that would answer it, which finds the oldest unanswered one alike.
static void
s_answer (s_model_t *model, unsigned how, s_script_t *script)
{
    size_t unanswered = 0;
    for (size_t i = 0; i < model->count; i++)
        unanswered += !model->items [i].answered;
    if (unanswered == 0)
        return;
    size_t which = s_byte (script) % unanswered;
    s_item_t *item = model->items;
    while (item->answered || which-- > 0)
        item++;
    if (how % 2)
        item = s_find (model, item->query, item->position, item->count);
    item->answer_size = s_byte (script) % (LOT_ANSWER_MAX + 1);
    unsigned salt = s_byte (script);
    for (size_t i = 0; i < item->answer_size; i++)
        item->answer [i] = (uint8_t) (salt + i);
    item->answered = true;
    lot_conn_answer (item->item, item->answer, item->answer_size);
}

//  Writes the answers due, as lot_responder_answer_due does: the oldest
//  items', as far as each has its own.
static void
s_due (s_model_t *model)
{
    lot_conn_item_t *item;
    const uint8_t *answer;
    size_t answer_size;
    size_t written = 0;
    while ((item = lot_conn_item (model->conn, 0))
       &&  (answer = lot_conn_item_answer (item, &answer_size))) {
        s_item_t *expected = &model->items [written++];
        assert (item == expected->item && expected->answered);
        assert (answer_size == expected->answer_size
            &&  memcmp (answer, expected->answer, answer_size) == 0);
        lot_conn_pop (model->conn);
    }
    //  None left that could have gone
    assert (written == model->count || !model->items [written].answered);
    if (written == 0)
        return;
    size_t popped = model->items [written - 1].offset + model->items [written - 1].size;
    memmove (model->bytes, model->bytes + popped, model->size - popped);
    model->size -= popped;
    model->taken -= popped;
    model->count -= written;
    memmove (model->items, model->items + written, model->count * sizeof *model->items);
    for (size_t i = 0; i < model->count; i++)
        model->items [i].offset -= popped;
}

//  What a RESULT the script makes up finds, maybe nothing.
static void
s_result (s_model_t *model, unsigned query, s_script_t *script)
{
    uint32_t position = s_byte (script) % 4;
    s_find (model, query % 2, position, s_byte (script) % 32);
}

//  Whether an item follows an unanswered chunk, as the WORK says.
static void
s_follows (s_model_t *model, s_script_t *script)
{
    if (model->count == 0)
        return;
    size_t index = s_byte (script) % model->count;
    bool follows = false;
    for (size_t i = 0; i < index; i++)
        follows |= !model->items [i].answered && !model->items [i].query;
    assert (lot_conn_follows (model->conn, model->items [index].item) == follows);
}

static void
s_set_limit (s_model_t *model, s_script_t *script)
{
    model->limit = model->size + s_word (script);
    if (model->limit > model->limit_max)
        model->limit_max = model->limit;
    lot_conn_set_limit (model->conn, model->limit);
}

static void
s_clear (s_model_t *model)
{
    lot_conn_clear (model->conn);
    model->size = model->taken = model->count = 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *input, size_t input_size)
{
    s_script_t script = { input, input_size };
    s_model_t model = { .limit = s_word (&script), .capacity = 1 };
    model.limit_max = model.limit;
    model.bytes = malloc (model.capacity);
    assert (model.bytes);
    zframe_t *routing_id = zframe_new ("\x01\x02", 2);
    model.conn = lot_conn_new (&routing_id, "fuzz", model.limit);
    assert (model.conn && !routing_id);
    while (script.size > 0) {
        unsigned op = s_byte (&script);
        unsigned argument = op / S_OPS;
        switch (op % S_OPS) {
            case S_APPEND:  s_append (&model, argument, &script); break;
            case S_TAKE:    s_take (&model, argument, &script); break;
            case S_QUERY:   s_query (&model); break;
            case S_SKIP:    s_skip (&model, &script); break;
            case S_ANSWER:  s_answer (&model, argument, &script); break;
            case S_DUE:     s_due (&model); break;
            case S_LIMIT:   s_set_limit (&model, &script); break;
            case S_RESULT:  s_result (&model, argument, &script); break;
            case S_FOLLOWS: s_follows (&model, &script); break;
            case S_CLEAR:   s_clear (&model); break;
        }
        s_check (&model);
    }
    lot_conn_destroy (&model.conn);
    assert (model.conn == NULL);
    free (model.bytes);
    free (model.items);
    return 0;
}
