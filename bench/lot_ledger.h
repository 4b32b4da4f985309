/*  lot_ledger - the baseline's bets file: each round's lines in one durable write, then the draw

    What lottery-baseline keeps of the agencies' bets, apart from the
    connections they come on: the lines of the chunks of one epoll round
    (formatted by lot_convert_chunk, as our handlers do), written to the
    bets file with one write and one fdatasync (a group commit, cut off
    again when it fails), which agencies have stored their last chunk,
    and, once all have, the draw: the bets file read back (lot_draw, as
    our persister does) into each agency's encoded winners answer.
*/
#ifndef LOT_LEDGER_H_INCLUDED
#define LOT_LEDGER_H_INCLUDED

#include "lot_settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _lot_ledger_t lot_ledger_t;

//  Opens the bets file to append to (BETS_FILE). NULL, with a fail line,
//  when it cannot. The settings must outlive the ledger.
lot_ledger_t *lot_ledger_new (const lot_settings_t *settings);

void lot_ledger_destroy (lot_ledger_t **self_p);

//  Checks a whole chunk and adds its lines to the round. Returns NULL, or
//  why the chunk is refused (its lines then left out); sets the chunk's
//  agency and whether it is tagged 'L'.
const char *lot_ledger_add (lot_ledger_t *self, const uint8_t *chunk, size_t size,
                            unsigned *agency, bool *last);

//  Writes the round's lines and syncs them, and starts a new round.
//  Returns NULL, or why every chunk of the round is refused.
const char *lot_ledger_commit (lot_ledger_t *self);

//  The agency's last chunk is stored.
void lot_ledger_finish (lot_ledger_t *self, unsigned agency);

//  Draws when every agency has finished and it has not drawn yet: true
//  when it drew now.
bool lot_ledger_draw (lot_ledger_t *self);

//  It has drawn.
bool lot_ledger_drawn (lot_ledger_t *self);

//  The agency's winners answer, *size bytes; NULL when there is none
//  (not drawn, or the draw failed, or more winners than v1 can say).
const uint8_t *lot_ledger_answer (lot_ledger_t *self, unsigned agency, size_t *size);

#endif
