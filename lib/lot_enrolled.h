/*  lot_enrolled - the enrolled agencies: which public key speaks for which agency

    AGENCY_KEYS is a directory of public certificates (zcert_save format),
    one per agency key, named NAME.pub, each with its agency number in its
    metadata (agency = "3"); bin/lottery-enroll makes them. An agency may
    have several keys (a new one enrolled before the old one is revoked),
    a key speaks for one agency only. An empty file agency-N.revoked says
    agency N had a key, revoked: it needs one still. The directory is
    read whole: one broken or ambiguous file fails the read, and the
    caller keeps what it had. No file holds a secret key.
*/
#ifndef LOT_ENROLLED_H_INCLUDED
#define LOT_ENROLLED_H_INCLUDED

#include <czmq.h>

typedef struct _lot_enrolled_t lot_enrolled_t;

//  Reads dir, whose agencies must be from 1 to agencies. Returns NULL with
//  *error set (free it) when a file is not a public certificate with an
//  agency, or a key is there for two agencies.
lot_enrolled_t *lot_enrolled_new (const char *dir, long agencies, char **error);

void lot_enrolled_destroy (lot_enrolled_t **self_p);

//  The agency a client's public key speaks for, or 0.
unsigned lot_enrolled_agency (lot_enrolled_t *self, const byte key [32]);

//  Whether an agency has a key on file.
bool lot_enrolled_has (lot_enrolled_t *self, unsigned agency);

//  Whether an agency must prove a key: it has one on file, or had one
//  revoked.
bool lot_enrolled_keyed (lot_enrolled_t *self, unsigned agency);

//  How many agencies have a key, and how many keys there are.
size_t lot_enrolled_agencies (lot_enrolled_t *self);
size_t lot_enrolled_keys (lot_enrolled_t *self);

//  Whether the directory changed since it was read: a file came, went,
//  or was written (its name, size and modification time).
bool lot_enrolled_changed (lot_enrolled_t *self);

//  Reads the directory again into *self_p when it changed or when forced
//  (SIGHUP), logging the new count or why the old keys stay. Returns 1
//  when it read it, 0 when nothing changed, -1 when the read failed.
int lot_enrolled_reload (lot_enrolled_t **self_p, bool forced, const char *who);

#endif
