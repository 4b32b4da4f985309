/*  lot_tally - the load generator's figures: round trips, each agency's
    times, the servers' cost, and the result line they make  */
#ifndef LOT_TALLY_H_INCLUDED
#define LOT_TALLY_H_INCLUDED

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _lot_tally_t lot_tally_t;

//  For AGENCIES agencies sending CHUNKS chunks of BETS bets in all, at
//  most MAX_AMOUNT bets a chunk.
lot_tally_t *
    lot_tally_new (unsigned agencies, size_t chunks, size_t bets, unsigned max_amount);

void
    lot_tally_destroy (lot_tally_t **self_p);

//  The clock starts: every time below is zclock_usecs ().
void
    lot_tally_start (lot_tally_t *self);

//  A connection took TOOK µs to be accepted.
void
    lot_tally_connected (lot_tally_t *self, int64_t took);

//  A chunk's round trip, µs.
void
    lot_tally_round_trip (lot_tally_t *self, int64_t took);

//  Agency AGENCY (1..) had its last chunk's 'O' at AT.
void
    lot_tally_uploaded (lot_tally_t *self, unsigned agency, int64_t at);

//  Agency AGENCY had its winners answer, of WINNERS documents, at AT.
void
    lot_tally_answered (lot_tally_t *self, unsigned agency, int64_t at, size_t winners);

//  What the server processes spent over the run: CPU, context switches,
//  and the voluntary ones of those.
void
    lot_tally_set_server (lot_tally_t *self, double cpu_seconds, uint64_t switches,
                          uint64_t voluntary);

//  Prints the key=value result line and a line for people, and appends
//  the result line to OUTPUT when not NULL. Returns 0, or -1 (said) when
//  OUTPUT cannot be written.
int
    lot_tally_report (lot_tally_t *self, const char *output);

#endif
