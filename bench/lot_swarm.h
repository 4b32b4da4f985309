/*  lot_swarm - many v1 agencies at once: each agency's chunks encoded
    before the clock, then one epoll thread driving them all  */
#ifndef LOT_SWARM_H_INCLUDED
#define LOT_SWARM_H_INCLUDED

#include "lot_tally.h"
#include "lot_verify.h"

#include <stddef.h>

typedef struct _lot_swarm_t lot_swarm_t;

//  AGENCIES agencies (1..), each cutting its bets into chunks of at most
//  MAX_AMOUNT bets and MAX_BYTES encoded bytes, as bin/lottery-client does.
lot_swarm_t *
    lot_swarm_new (unsigned agencies, unsigned max_amount, size_t max_bytes);

void
    lot_swarm_destroy (lot_swarm_t **self_p);

//  SERVERS is "HOST:PORT[,HOST:PORT...]": agency n talks to the
//  ((n - 1) mod count)th of them. Returns 0, or -1 (said).
int
    lot_swarm_resolve (lot_swarm_t *self, const char *servers);

//  Reads and encodes agency n's DATA_DIR/agency-n.csv, for every agency.
//  Returns 0, or -1 (said).
int
    lot_swarm_encode (lot_swarm_t *self, const char *data_dir);

//  Bets and chunks of all the agencies, once encoded.
size_t
    lot_swarm_bets (lot_swarm_t *self);

size_t
    lot_swarm_chunks (lot_swarm_t *self);

//  Every agency connects at once and sends 'B' and its chunks, each after
//  the 'O' of the one before, then asks for its winners on a connection
//  of its own. Times go to TALLY, the winners named to VERIFY. Returns 0
//  when every agency had its winners within TIMEOUT seconds, or -1 (said)
//  at the first failure: a refused chunk, a closed connection, an answer
//  out of protocol.
int
    lot_swarm_run (lot_swarm_t *self, lot_tally_t *tally, lot_verify_t *verify,
                   long timeout);

#endif
