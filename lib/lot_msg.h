/*  lot_msg - the messages actors send each other

    The chunk messages (WORK, RECORDS, RESULT) have a function pair each,
    so their frames are written down once; the control messages are named
    here and built by their one sender (persister or coordinator). Every chunk carries the id the front-end gave it: results
    find their connection by it, and a later resend can use it as the key
    that makes storing idempotent.

        WORK     front-end -> handler     [id][watermark][chunk bytes as received]
        RECORDS  handler -> persister     [id][watermark][agency][last][count][lines]
        RESULT   handler, persister -> front-end  [id][ok][count][reason]
        DONE     persister -> coordinator [agency]           (its 'L' stored)
        DRAW     coordinator -> persister (ask for the draw)
        DRAWN    persister -> coordinator [ok][reason][winners...]
        WINNERS  coordinator PUB -> front-end [winners...]

    A chunk unanswered for a while is sent again with the same id (a
    handler that stops or dies loses what PUSH had queued for it), so the
    persister keeps the ids it stored and stores each once. The watermark
    is the front-end's lowest unanswered id: ids below it will never come
    again and may be forgotten.

    Winners travel as one frame per agency (agency 1 first) holding that
    agency's winning documents, each followed by a newline.
*/
#ifndef LOT_MSG_H_INCLUDED
#define LOT_MSG_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint64_t id;
    uint64_t watermark;
    uint32_t agency;
    bool last;
    uint32_t count;
    zframe_t *lines;        //  Owned by the receiver
} lot_records_t;

int lot_msg_send_work (void *dest, uint64_t id, uint64_t watermark,
                       const void *chunk, size_t size);
//  Returns 0 and the chunk's frame (the caller destroys it), or -1.
int lot_msg_recv_work (void *source, uint64_t *id, uint64_t *watermark,
                       zframe_t **chunk);

int lot_msg_send_records (void *dest, uint64_t id, uint64_t watermark,
                          uint32_t agency, bool last, uint32_t count,
                          const void *lines, size_t size);
int lot_msg_recv_records (void *source, lot_records_t *records);

int lot_msg_send_result (void *dest, uint64_t id, bool ok, uint32_t count,
                         const char *reason);
//  *reason is freshly allocated.
int lot_msg_recv_result (void *source, uint64_t *id, bool *ok, uint32_t *count,
                         char **reason);

//  A chunk id as a hash key; key must hold LOT_MSG_KEY_SIZE bytes.
#define LOT_MSG_KEY_SIZE 24
char *lot_msg_id_key (uint64_t id, char *key);

#define LOT_MSG_DONE    "DONE"
#define LOT_MSG_DRAW    "DRAW"
#define LOT_MSG_DRAWN   "DRAWN"
#define LOT_MSG_WINNERS "WINNERS"

#endif
