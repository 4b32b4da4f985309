/*  lot_upload - an agency's bets to the server, in v1 or v2, resumed after drops

    The bets go out in chunks over one connection of the link. v1 (the
    course's bytes) says 'B', then sends the chunks stop-and-wait; a drop
    ends the upload. v2 opens with 'H', learns from the 'S' how many of
    the agency's bets are stored, and sends the rest as numbered chunks,
    up to batch.window unanswered (answered in order); when the
    connection drops it connects again and goes on from what the new 'S'
    says (the data file is read again from its start). A server that
    never answered 'S' and does not answer this 'H' with one speaks v1
    only: the upload goes on in v1 at once, with a warning line. A
    connection that begins with no more bets stored than the one before
    is a stall: loop.amount of them in a row end the upload. An upload of
    the data file that takes more than two seconds says how far it is, at
    most once a second (`action: progreso`).

    Why an upload failed is the link's reason (lot_link_reason).
*/
#ifndef LOT_UPLOAD_H_INCLUDED
#define LOT_UPLOAD_H_INCLUDED

#include "lot_client_config.h"
#include "lot_codec.h"
#include "lot_link.h"

typedef struct _lot_upload_t lot_upload_t;

//  The config and the link must outlive the upload. NULL when out of
//  memory.
lot_upload_t *lot_upload_new (const lot_client_config_t *config, lot_link_t *link);

//  Closes the data file, as lot_upload_close at DEBUG, and frees.
void lot_upload_destroy (lot_upload_t **self_p);

//  Sends the data file's bets, file_bets of them, checked already
//  (lot_feed_file_check), until its last chunk is stored. Returns 0, or
//  -1. The data file stays open until lot_upload_close.
int lot_upload_send_file (lot_upload_t *self, size_t file_bets);

//  Sends one bet as the agency's last chunk, until it is stored; the
//  text of fields must outlive the call. An agency already finished
//  holds it: it was sent before. Returns 0, or -1.
int lot_upload_send_single (lot_upload_t *self, const lot_span_t fields [LOT_BET_FIELDS]);

//  The agency's bets stored, as far as the upload knows.
long lot_upload_stored (lot_upload_t *self);

//  Closes the data file, if open, with a close line at level.
void lot_upload_close (lot_upload_t *self, lot_log_level_t level);

#endif
