/*  lot_digest - the digest of an agency's stored bets, as 'S' carries it  */
#include "lot_digest.h"

#include <sodium.h>
#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct _lot_digest_t {
    crypto_generichash_state state;
};

lot_digest_t *
lot_digest_new (void)
{
    //  Picks the fastest BLAKE2b of this CPU; safe to call again, and
    //  from any thread
    if (sodium_init () < 0)
        return NULL;
    //  libsodium aligns its state to 64 bytes, more than malloc promises
    lot_digest_t *self = aligned_alloc (64, (sizeof *self + 63) / 64 * 64);
    if (self)
        lot_digest_reset (self);
    return self;
}

void
lot_digest_destroy (lot_digest_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

void
lot_digest_reset (lot_digest_t *self)
{
    assert (self);
    crypto_generichash_init (&self->state, NULL, 0, LOT_DIGEST_SIZE);
}

void
lot_digest_add (lot_digest_t *self, const void *data, size_t size)
{
    assert (self);
    if (size)
        crypto_generichash_update (&self->state, data, size);
}

int
lot_digest_add_bet (lot_digest_t *self, const lot_bet_t *bet)
{
    char line [LOT_BET_CSV_MAX];
    size_t size = lot_bet_format_csv (bet, line, sizeof line);
    if (size == 0)
        return -1;
    lot_digest_add (self, line, size);
    return 0;
}

void
lot_digest_get (lot_digest_t *self, uint8_t out [LOT_DIGEST_SIZE])
{
    assert (self);
    //  Finishing a hash ends its state: finish a copy
    crypto_generichash_state copy = self->state;
    crypto_generichash_final (&copy, out, LOT_DIGEST_SIZE);
}
