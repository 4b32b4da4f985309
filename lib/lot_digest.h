/*  lot_digest - the digest of an agency's stored bets, as 'S' carries it

    What is hashed: the bets-file line of each of the agency's stored bets
    (lot_bet_format_csv: agency first, CSV with minimal quoting, the number
    as a plain integer, CRLF included), in position order, one after
    another with nothing between them. The hash is BLAKE2b-256 (libsodium's
    crypto_generichash, no key). The digest of no bets is the hash of the
    empty input.

    The persister adds the lines it stores, as it writes them; the agency
    client adds its own first bets, formatted by the same lot_bet code,
    and compares: equal digests say the stored bets are its own. See
    docs/protocol.md.
*/
#ifndef LOT_DIGEST_H_INCLUDED
#define LOT_DIGEST_H_INCLUDED

#include "lot_bet.h"

#include <stddef.h>
#include <stdint.h>

#define LOT_DIGEST_SIZE 32

typedef struct _lot_digest_t lot_digest_t;

//  A digest of nothing yet.
lot_digest_t *lot_digest_new (void);

void lot_digest_destroy (lot_digest_t **self_p);

//  Starts again from nothing.
void lot_digest_reset (lot_digest_t *self);

//  Adds bytes: whole bets-file lines, as stored.
void lot_digest_add (lot_digest_t *self, const void *data, size_t size);

//  Adds a bet's bets-file line. Returns 0, or -1 when it has none (a
//  field too long for a line, which no checked bet has).
int lot_digest_add_bet (lot_digest_t *self, const lot_bet_t *bet);

//  Writes the digest of everything added so far into out; adding may go
//  on after.
void lot_digest_get (lot_digest_t *self, uint8_t out [LOT_DIGEST_SIZE]);

#endif
