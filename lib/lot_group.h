/*  lot_group - the persister's group commit: the chunks it takes at once

    The persister takes every RECORDS message waiting (up to a limit) into
    one group, decides each chunk against the store, writes the new ones
    in one write and one fdatasync, then logs and answers them all: the
    front-end of each chunk gets one RESULT batch, queries last so they
    count this group. A failed write is cut back by the store, and every chunk of it
    is rejected: all or nothing per chunk.

    A chunk that comes before the bets ahead of it, and that its front-end
    sent while an earlier chunk of its connection was unanswered, waits
    parked (MAX_IN_FLIGHT per agency at most) and joins every group until
    those bets are stored: another handler may still have them. The
    persister's thread alone uses a group.
*/
#ifndef LOT_GROUP_H_INCLUDED
#define LOT_GROUP_H_INCLUDED

#include <czmq.h>
#include <stdbool.h>
#include "lot_settings.h"
#include "lot_store.h"
#include "lot_store_metrics.h"

typedef struct _lot_group_t lot_group_t;

//  A group for store; it borrows settings, store and metrics (NULL: off).
lot_group_t *lot_group_new (const lot_settings_t *settings, lot_store_t *store,
                            lot_store_metrics_t *metrics);

//  Frees the group and the chunks parked in it.
void lot_group_destroy (lot_group_t **self_p);

//  Takes a RECORDS message as it came past the broker (NULL: none came)
//  and its chunks into the group; one that finds no room is dropped, and
//  its front-end sends it again. Returns true while one more message
//  surely fits.
bool lot_group_add (lot_group_t *self, zmsg_t **msg_p);

//  Writes the group's new chunks in one commit, then logs, counts and
//  answers each chunk, or parks it. Returns true when an agency's last
//  chunk is now durable: the coordinator is due a STATUS.
bool lot_group_commit (lot_group_t *self);

//  Sends each front-end the group's answers on results, and ends the
//  group. Returns how many messages went.
int lot_group_answer (lot_group_t *self, zsock_t *results);

#endif
