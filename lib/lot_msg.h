/*  lot_msg - the messages actors send each other

    Every message between actors is built and parsed here, and nowhere
    else. A chunk is known everywhere by its identity: its agency and its
    position (how many of that agency's bets come before it). The identity
    outlives every process: a chunk sent again after any restart is the
    same chunk, and the persister, which keeps what it stored in its
    journal, stores it once.

        WORK     front-end -> broker -> handler
                                          [agency position follows | chunk bytes]
                 (a position query when the chunk is empty)
        RECORDS  handler -> persister     [agency position count kind follows
                                           | lines]
                 (kind: more chunks follow, the last chunk, or a query)
        RESULT   handler, persister -> broker -> front-end
                 [agency position count stored query ok finished digest
                  | reason]
        STATUS   persister -> coordinator [finished agencies, one u32 each]
        DRAW     coordinator -> persister
        DRAWN    persister -> coordinator [ok][detail][winners...]
                 (ok "1": drawn, the winners follow; anything else, "0"
                 today: the draw failed, and detail says why)
        WINNERS  coordinator PUB -> front-end [winners...]

    Past the broker, WORK, RECORDS and RESULT batches begin with a route:
    the routing identity the broker's ROUTER gave the front-end the chunks
    came from. The broker puts it on WORK (its ROUTER hands it over), the
    handlers and the persister carry it on to their RECORDS and RESULTS,
    and the broker routes each RESULT batch by it, taking it off: a
    front-end neither sends nor sees a route. A route outlives nothing: a
    RESULT for a front-end that is gone is dropped, and its agencies send
    their chunks again wherever they connect next.

    STATUS, DRAW, DRAWN and WINNERS open with a frame of their name: the
    first three share one socket pair, and WINNERS is the PUB topic.

    follows says that the front-end sent the chunk while an earlier chunk
    of its connection was unanswered (protocol v2 pipelines): another
    handler may still hold that one, so the persister may keep this one
    until the bets before it are stored, instead of refusing it as out of
    order. A chunk sent again once nothing before it is unanswered does not
    follow: if the bets before it are still missing they never come.

    A query asks the persister how far an agency's upload is stored; it
    travels the chunks' path (front-end, handler, persister) so it needs no
    socket of its own, and is sent again like a chunk when unanswered.
    RESULT carries the agency's stored bets and finished flag after the
    chunk, which is the query's answer too; a query's RESULT carries the
    digest of those bets as well (lot_digest.h), which the front-end puts
    in 'S'.

    STATUS is the persister's whole truth about finished agencies, sent
    whenever it changes and again every ANNOUNCE_INTERVAL: a coordinator
    that restarts learns it again within one interval.

    Winners travel as one frame per agency (agency 1 first) holding that
    agency's winning documents, each followed by a newline.
*/
#ifndef LOT_MSG_H_INCLUDED
#define LOT_MSG_H_INCLUDED

#include "lot_digest.h"

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    uint32_t agency;
    uint32_t position;      //  Bets of this agency before this chunk
    bool query;             //  No chunk: how far is this agency stored?
    bool last;
    uint32_t count;
    bool follows;           //  An earlier chunk of its connection was unanswered
    const uint8_t *lines;   //  Its lines, inside frame
    size_t size;
    zframe_t *frame;        //  The item as received: the receiver destroys it
    void *sender;           //  The receiver's own note of whom to answer
} lot_records_t;

typedef struct {
    uint32_t agency;
    uint32_t position;
    bool follows;           //  An earlier chunk of its connection was unanswered
    const uint8_t *chunk;   //  Its bytes (none: a position query), inside frame
    size_t size;
    zframe_t *frame;        //  The item as received: the receiver destroys it
} lot_work_t;

typedef struct {
    uint32_t agency;
    uint32_t position;
    bool query;
    bool ok;
    uint32_t count;         //  Bets in the chunk
    char *reason;           //  Why not ok; freshly allocated when received
    uint32_t stored;        //  The agency's bets stored, after this chunk,
    bool finished;          //  and whether its last chunk is: set when ok
    uint8_t digest [LOT_DIGEST_SIZE];   //  Of the stored bets: set for a query
} lot_result_t;

//  WORK, RECORDS and RESULT travel in batches: one message holds one or
//  more items of its kind, each one frame (fixed fields, big-endian, then
//  the body), so a hop between actors costs one wake-up for many chunks.
//  A sender puts at most LOT_MSG_BATCH_MAX items in a WORK or RECORDS
//  message; a RESULT batch answers a whole group commit (one per
//  front-end). A handler answers a WORK batch only once it has converted
//  all of it, so smaller batches spread one pass's chunks over the
//  handlers and let the first of them go on sooner (50 agencies, 2 cores:
//  64 was clearly slowest; 4, 8 and 16 within noise of each other;
//  docs/benchmarks.md).
#define LOT_MSG_BATCH_MAX 8

//  A new batch for the front-end that route names (a copy is taken), or
//  with no route when route is NULL: what a front-end sends the broker.
zmsg_t *lot_msg_new_routed (zframe_t *route);
//  Takes the route, the first frame, off a batch that came past the
//  broker: NULL only when the message is empty.
zframe_t *lot_msg_take_route (zmsg_t *msg);
//  Whether a batch made with a route holds no item.
bool lot_msg_is_empty (zmsg_t *msg);

//  Sends a message (a batch, or any other), which is destroyed either
//  way: 0, or -1 when the socket takes nothing now (none of it went).
int lot_msg_send (zmsg_t **msg_p, void *dest);

//  Each lot_msg_next_* takes the next item off a received batch: 1, 0
//  when none is left, or -1 when the item is malformed (it is dropped;
//  the rest may be read on).

//  chunk may be empty (size 0): a position query.
void lot_msg_add_work (zmsg_t *msg, uint32_t agency, uint32_t position, bool follows,
                       const void *chunk, size_t size);
int lot_msg_next_work (zmsg_t *msg, lot_work_t *work);

//  lines: whole lines, the last ending in a newline (else -1 on receipt:
//  the store takes nothing less).
void lot_msg_add_records (zmsg_t *msg, const lot_records_t *records,
                          const void *lines, size_t size);
int lot_msg_next_records (zmsg_t *msg, lot_records_t *records);

void lot_msg_add_result (zmsg_t *msg, const lot_result_t *result);
//  result->reason is freshly allocated: lot_msg_result_free frees it.
int lot_msg_next_result (zmsg_t *msg, lot_result_t *result);
void lot_msg_result_free (lot_result_t *result);

//  Batches of one item, routed by route (NULL: unrouted, as a front-end
//  sends WORK and is sent RESULTs).
int lot_msg_send_work (void *dest, zframe_t *route, uint32_t agency, uint32_t position,
                       bool follows, const void *chunk, size_t size);
int lot_msg_send_records (void *dest, zframe_t *route, const lot_records_t *records,
                          const void *lines, size_t size);
int lot_msg_send_result (void *dest, zframe_t *route, const lot_result_t *result);

//  finished: agencies + 1 flags, by agency.
int lot_msg_send_status (void *dest, const bool *finished, long agencies);
//  Marks finished [agency] for every agency in the message within
//  1..agencies; returns how many it names, or -1 when malformed.
int lot_msg_recv_status (zmsg_t *msg, bool *finished, long agencies);

#define LOT_MSG_STATUS  "STATUS"
#define LOT_MSG_DRAW    "DRAW"
#define LOT_MSG_DRAWN   "DRAWN"
#define LOT_MSG_WINNERS "WINNERS"

//  The name of a message between the persister (DEALER) and the
//  coordinator (ROUTER).
typedef enum {
    LOT_MSG_CMD_UNKNOWN = -1,   //  No message, no command, or one not known
    LOT_MSG_CMD_STATUS,
    LOT_MSG_CMD_DRAW,
    LOT_MSG_CMD_DRAWN
} lot_msg_command_t;

//  Takes the command off msg (NULL reads as UNKNOWN); the rest is for the
//  command's lot_msg_recv_*. On a ROUTER the sender comes first: take it
//  off before.
lot_msg_command_t lot_msg_pop_command (zmsg_t *msg);

//  to: the persister's routing id, on the coordinator's ROUTER (copied).
int lot_msg_send_draw (void *dest, zframe_t *to);

//  winners: a message of the winners' frames (see above), which the
//  persister builds, the coordinator keeps from DRAWN and announces as
//  WINNERS, and each front-end reads.

//  An empty one: add each agency's documents in turn, agency 1 first.
zmsg_t *lot_msg_winners_new (void);
//  Adds the next agency's winning documents: size bytes, each document
//  followed by a newline (none: no winners).
void lot_msg_winners_add (zmsg_t *winners, const char *documents, size_t size);
//  The winning documents of each agency in turn, as added: agency 1's,
//  then the next one's on each call, *size bytes inside winners; NULL
//  (*size 0) after the last. They move the cursor of zmsg_first and
//  zmsg_next.
const char *lot_msg_winners_first (zmsg_t *winners, size_t *size);
const char *lot_msg_winners_next (zmsg_t *winners, size_t *size);
//  How many documents size bytes of an agency's winning documents hold.
size_t lot_msg_winners_count (const char *documents, size_t size);

//  A draw done: winners (taken, destroyed either way). A draw that
//  failed: winners_p NULL, and detail says why.
int lot_msg_send_drawn (void *dest, const char *detail, zmsg_t **winners_p);
//  Reads a DRAWN (its command taken off): 0 with *detail (fresh: free it)
//  and, for a draw done, *winners_p (fresh: destroy it; NULL for a draw
//  that failed); -1 when malformed or the agencies do not match, with
//  both NULL.
int lot_msg_recv_drawn (zmsg_t *msg, long agencies, char **detail, zmsg_t **winners_p);

//  Sends a copy: winners stays the caller's, to be announced again.
int lot_msg_send_winners (void *dest, zmsg_t *winners);
//  Reads a WINNERS as received, topic and all: 0 with *winners_p (fresh:
//  destroy it), or -1 when malformed or the agencies do not match.
int lot_msg_recv_winners (zmsg_t *msg, long agencies, zmsg_t **winners_p);

#endif
