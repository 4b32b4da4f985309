/*  lot_inbox - what the server sent and the client has not read yet

    The agency's answers come back to back ('O' after 'O' in a v2 window),
    and none says its length up front: the link reads what is there into
    the inbox, and the answer at its front is framed by lot_codec, the
    answers' one home. No I/O here.
*/
#ifndef LOT_INBOX_H_INCLUDED
#define LOT_INBOX_H_INCLUDED

#include "lot_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  The longest answer taken: a winners list of 16 MiB
#define LOT_INBOX_MAX (16 << 20)

typedef struct _lot_inbox_t lot_inbox_t;

lot_inbox_t *lot_inbox_new (void);

void lot_inbox_destroy (lot_inbox_t **self_p);

//  Forgets what it holds: the connection is gone.
void lot_inbox_clear (lot_inbox_t *self);

//  Where the next bytes received go: *room bytes, at least one. NULL when
//  it holds LOT_INBOX_MAX bytes already or memory ran out.
uint8_t *lot_inbox_room (lot_inbox_t *self, size_t *room);

//  size bytes were written where lot_inbox_room said.
void lot_inbox_received (lot_inbox_t *self, size_t size);

//  The answers an agency waits for, and what each says.
typedef enum {
    LOT_ANSWER_OK,                  //  'O': a chunk stored
    LOT_ANSWER_STORED,              //  'S': how far the agency is stored (v3)
    LOT_ANSWER_STORED_V2,           //  The same in v2: no digest
    LOT_ANSWER_ERROR,               //  'E': refused, and why
    LOT_ANSWER_WINNERS              //  The winners list
} lot_answer_kind_t;

typedef struct {
    uint32_t stored;                //  'S'
    bool finished;
    const uint8_t *digest;          //  LOT_DIGEST_SIZE bytes, in the inbox (v2: NULL)
    lot_span_t reason;              //  'E', pointing into the inbox
    lot_winners_reader_t winners;   //  Its documents point into the inbox
} lot_answer_t;

//  Frames the answer of that kind at the front as lot_codec does, and
//  takes it when COMPLETE (what points into the inbox stays valid until
//  the next call); INCOMPLETE wants more bytes, INVALID leaves it there.
lot_codec_status_t lot_inbox_take (lot_inbox_t *self, lot_answer_kind_t kind,
                                   lot_answer_t *answer);

//  The bytes at the front, not taken: *size of them.
const uint8_t *lot_inbox_front (lot_inbox_t *self, size_t *size);

#endif
