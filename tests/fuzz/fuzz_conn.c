/*  fuzz_conn - one connection's window of items, as the front-end keeps it

    A v2 upload pipelines a window of chunks, answered out of order. The
    input is the first limit (two bytes), then a script of operations on
    one lot_conn_t (s_op_t), each a byte and its arguments; a plain model
    beside it keeps the live bytes in one array and the items in a list,
    and must agree with it after every operation, however the buffer was
    squeezed or moved. Seeds by hand (tests/fuzz/seeds/fuzz_conn) open a
    v2 window and squeeze a full buffer.
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
    lot_item_t *item;
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
    s_item_t *items;            //  Oldest first; room for one an operation
    size_t count;
    const uint8_t *script;      //  What is left of the input
    size_t script_size;
} s_model_t;

//  The script's next byte; 0 past its end.
static unsigned
s_byte (s_model_t *model)
{
    if (model->script_size == 0)
        return 0;
    model->script_size--;
    return *model->script++;
}

//  Its next two bytes, big-endian.
static unsigned
s_word (s_model_t *model)
{
    unsigned high = s_byte (model);
    return high << 8 | s_byte (model);
}

//  What the connection and the model agree on after every operation.
static void
s_check (s_model_t *model)
{
    lot_conn_t *conn = model->conn;
    size_t size, next_size;
    const uint8_t *next = lot_conn_next (conn, &next_size);
    assert (lot_conn_buffered (conn) == model->size);
    assert (next_size == model->size - model->taken);
    assert (next_size == 0 || memcmp (next, model->bytes + model->taken, next_size) == 0);
    assert ((lot_conn_partial_at (conn) != 0) == (next_size > 0));
    assert (lot_conn_capacity (conn) <= model->limit_max);
    assert (lot_conn_items (conn) == model->count);
    assert (lot_conn_item (conn, model->count) == NULL);
    for (size_t i = 0; i < model->count; i++) {
        s_item_t *expected = &model->items [i];
        lot_item_t *item = lot_conn_item (conn, i);
        assert (item == expected->item && lot_item_conn (item) == conn);
        assert (lot_item_is_query (item) == expected->query
            &&  lot_item_header (item) == expected->header);
        assert (lot_item_position (item) == expected->position
            &&  lot_item_count (item) == expected->count);
        const uint8_t *answer = lot_item_answer (item, &size);
        assert ((answer != NULL) == expected->answered);
        assert (!answer || (size == expected->answer_size
                            &&  memcmp (answer, expected->answer, size) == 0));
        const uint8_t *chunk = lot_conn_chunk (conn, item, &size);
        assert (size == expected->size - expected->header);
        assert (size == 0
            ||  memcmp (chunk, model->bytes + expected->offset + expected->header, size) == 0);
    }
}

//  Appends bytes made at the model's end, each unlike its neighbours so
//  that a byte out of place shows, held in a heap block of exactly their
//  size (a read past it is reported); they count only if taken.
static void
s_append (s_model_t *model, unsigned scale)
{
    size_t size = s_byte (model) + 256 * (size_t) (scale % 16);
    unsigned salt = s_byte (model);
    if (model->size + size > model->capacity) {
        model->capacity = 2 * (model->size + size);
        model->bytes = realloc (model->bytes, model->capacity);
        assert (model->bytes);
    }
    uint8_t *bytes = model->bytes + model->size;
    for (size_t i = 0; i < size; i++)
        bytes [i] = (uint8_t) (((uint32_t) (model->appended + i) * 2654435761u) >> 24 ^ salt);
    uint8_t *copy = fuzz_copy (bytes, size);
    int rc = lot_conn_append (model->conn, copy, size);
    free (copy);
    assert (rc == (model->size + size > model->limit ? -1 : 0));
    if (rc == 0) {
        model->size += size;
        model->appended += size;
    }
}

//  Takes the next message's first bytes as an item, or a query. Few
//  positions, so that RESULTs find items that look alike.
static void
s_take (s_model_t *model, bool query, unsigned count)
{
    s_item_t *item = &model->items [model->count++];
    *item = (s_item_t) { .query = query, .offset = model->taken };
    if (query) {
        item->item = lot_conn_take_query (model->conn);
        return;
    }
    item->size = s_word (model) % (model->size - model->taken + 1);
    item->header = s_byte (model) % (item->size + 1);
    item->position = s_byte (model) % 4;
    item->count = count;
    item->item = lot_conn_take (model->conn, item->size, item->header, item->position, count);
    model->taken += item->size;
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
s_answer (s_model_t *model, unsigned how)
{
    size_t unanswered = 0;
    for (size_t i = 0; i < model->count; i++)
        unanswered += !model->items [i].answered;
    if (unanswered == 0)
        return;
    size_t which = s_byte (model) % unanswered;
    s_item_t *item = model->items;
    while (item->answered || which-- > 0)
        item++;
    if (how % 2)
        item = s_find (model, item->query, item->position, item->count);
    item->answer_size = s_byte (model) % (LOT_ANSWER_MAX + 1);
    unsigned salt = s_byte (model);
    for (size_t i = 0; i < item->answer_size; i++)
        item->answer [i] = (uint8_t) (salt + i);
    item->answered = true;
    lot_item_set_answer (item->item, item->answer, item->answer_size);
}

//  Writes the answers due, as lot_responder_answer_due does: the oldest
//  items', as far as each has its own; none left that could have gone.
static void
s_due (s_model_t *model)
{
    lot_item_t *item;
    const uint8_t *answer;
    size_t written = 0, size;
    while ((item = lot_conn_item (model->conn, 0))
       &&  (answer = lot_item_answer (item, &size))) {
        s_item_t *expected = &model->items [written++];
        assert (item == expected->item && expected->answered);
        assert (size == expected->answer_size && memcmp (answer, expected->answer, size) == 0);
        lot_conn_pop (model->conn);
    }
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

//  Whether an item follows an unanswered chunk, as the WORK says.
static void
s_follows (s_model_t *model)
{
    if (model->count == 0)
        return;
    size_t index = s_byte (model) % model->count;
    bool follows = false;
    for (size_t i = 0; i < index; i++)
        follows |= !model->items [i].answered && !model->items [i].query;
    assert (lot_conn_follows (model->conn, model->items [index].item) == follows);
}

int
LLVMFuzzerTestOneInput (const uint8_t *input, size_t input_size)
{
    s_model_t model = { .script = input, .script_size = input_size, .capacity = 1 };
    model.limit = model.limit_max = s_word (&model);
    model.bytes = malloc (model.capacity);
    model.items = calloc (input_size + 1, sizeof *model.items);
    assert (model.bytes && model.items);
    zframe_t *routing_id = zframe_new ("\x01\x02", 2);
    model.conn = lot_conn_new (&routing_id, "fuzz", model.limit);
    assert (model.conn && !routing_id);
    while (model.script_size > 0) {
        unsigned op = s_byte (&model);
        unsigned argument = op / S_OPS;
        size_t size;
        uint32_t position;
        switch (op % S_OPS) {
            case S_APPEND:
                s_append (&model, argument);
                break;
            case S_TAKE:
            case S_QUERY:
                s_take (&model, op % S_OPS == S_QUERY, argument);
                break;
            case S_SKIP:
                size = s_word (&model) % (model.size - model.taken + 1);
                lot_conn_skip (model.conn, size);
                memmove (model.bytes + model.taken, model.bytes + model.taken + size,
                         model.size - model.taken - size);
                model.size -= size;
                break;
            case S_ANSWER:
                s_answer (&model, argument);
                break;
            case S_DUE:
                s_due (&model);
                break;
            case S_LIMIT:
                model.limit = model.size + s_word (&model);
                if (model.limit > model.limit_max)
                    model.limit_max = model.limit;
                lot_conn_set_limit (model.conn, model.limit);
                break;
            case S_RESULT:      //  What a RESULT the script makes up finds, maybe nothing
                position = s_byte (&model) % 4;
                s_find (&model, argument % 2, position, s_byte (&model) % 32);
                break;
            case S_FOLLOWS:
                s_follows (&model);
                break;
            case S_CLEAR:
                lot_conn_clear (model.conn);
                model.size = model.taken = model.count = 0;
                break;
        }
        s_check (&model);
    }
    lot_conn_destroy (&model.conn);
    assert (model.conn == NULL);
    free (model.bytes);
    free (model.items);
    return 0;
}
