/*  lot_convert - chunks turned into bets-file lines, all or nothing

    The bet rule (lot_bet) over a whole chunk: a handler's work, and the
    persister's when HANDLERS is 0 and it pulls WORK itself (the hop to a
    handler costs more than the work on small chunks: architecture.md).
    A chunk with any invalid field becomes no line at all: its refusal is
    logged with the course's line, counted, and answered.
*/
#ifndef LOT_CONVERT_H_INCLUDED
#define LOT_CONVERT_H_INCLUDED

#include "lot_msg.h"
#include "lot_settings.h"

#include <czmq.h>
#include <stdint.h>

typedef struct _lot_convert_t lot_convert_t;

//  Conversions for an actor, whose refusals count in its metrics.
lot_convert_t *lot_convert_new (const lot_settings_t *settings, const char *actor);

void lot_convert_destroy (lot_convert_t **self_p);

//  A WORK item into the records it makes: a query as it came, a chunk
//  with its bets-file lines (in records->lines and size, valid until the
//  next call). Returns 0; or -1 when the chunk is refused: then it is
//  logged (apuesta_recibida, result fail, with its count and reason),
//  counted, and its failed RESULT added to rejected.
int lot_convert_work (lot_convert_t *self, const lot_work_t *work, lot_records_t *records,
                      zmsg_t *rejected);

//  Decodes and validates a chunk into bets-file lines, appended to *lines
//  (grown as needed). Returns NULL when the chunk is valid, else a reason
//  and *used as it was.
//  Sets *count from the chunk's header whenever the header decodes.
const char *lot_convert_chunk (const uint8_t *chunk, size_t size,
                               unsigned max_agency, char **lines,
                               size_t *capacity, size_t *used,
                               unsigned *agency, bool *last, unsigned *count);

#endif
