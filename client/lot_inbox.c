/*  lot_inbox - what the server sent and the client has not read yet  */
#include "lot_inbox.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define S_CAPACITY_MIN 4096

struct _lot_inbox_t {
    uint8_t *data;                  //  [taken, size) is not read yet
    size_t taken;
    size_t size;
    size_t capacity;
};

lot_inbox_t *
lot_inbox_new (void)
{
    return calloc (1, sizeof (lot_inbox_t));
}

void
lot_inbox_destroy (lot_inbox_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->data);
        free (*self_p);
        *self_p = NULL;
    }
}

void
lot_inbox_clear (lot_inbox_t *self)
{
    self->taken = self->size = 0;
}

uint8_t *
lot_inbox_room (lot_inbox_t *self, size_t *room)
{
    if (self->taken > 0) {
        //  What was read goes: the next answer starts the buffer again
        self->size -= self->taken;
        memmove (self->data, self->data + self->taken, self->size);
        self->taken = 0;
    }
    if (self->size == self->capacity) {
        size_t capacity = self->capacity ? 2 * self->capacity : S_CAPACITY_MIN;
        uint8_t *data = capacity <= LOT_INBOX_MAX ? realloc (self->data, capacity) : NULL;
        if (!data)
            return NULL;
        self->data = data;
        self->capacity = capacity;
    }
    *room = self->capacity - self->size;
    return self->data + self->size;
}

void
lot_inbox_received (lot_inbox_t *self, size_t size)
{
    assert (size <= self->capacity - self->size);
    self->size += size;
}

const uint8_t *
lot_inbox_front (lot_inbox_t *self, size_t *size)
{
    *size = self->size - self->taken;
    //  No buffer before the first byte: NULL + 0 is undefined
    return self->data ? self->data + self->taken : NULL;
}

lot_codec_status_t
lot_inbox_take (lot_inbox_t *self, lot_answer_kind_t kind, lot_answer_t *answer)
{
    size_t size, total = 1;
    const uint8_t *front = lot_inbox_front (self, &size);
    lot_codec_status_t status = LOT_CODEC_INCOMPLETE;
    if (kind == LOT_ANSWER_OK)
        status = size == 0 ? LOT_CODEC_INCOMPLETE
               : front [0] == LOT_TAG_OK ? LOT_CODEC_COMPLETE : LOT_CODEC_INVALID;
    else
    if (kind == LOT_ANSWER_STORED || kind == LOT_ANSWER_STORED_V2)
        status = lot_codec_stored_measure (front, size, kind == LOT_ANSWER_STORED
                                           ? LOT_PROTOCOL_VERSION : LOT_PROTOCOL_V2,
                                           &answer->stored, &answer->finished,
                                           &answer->digest, &total);
    else
    if (kind == LOT_ANSWER_ERROR)
        status = lot_codec_error_measure (front, size, &answer->reason, &total);
    else
    if (kind == LOT_ANSWER_WINNERS)
        //  A u16 length bounds every document: any is taken
        status = lot_codec_winners_measure (front, size, UINT16_MAX, &answer->winners,
                                            &total);
    if (status == LOT_CODEC_COMPLETE)
        self->taken += total;
    return status;
}
