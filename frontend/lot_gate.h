/*  lot_gate - who may speak for an agency on this front-end

    AGENCY_AUTH says (docs/security.md): off, anyone may, on the plain
    port; per-agency, an agency with a key in AGENCY_KEYS only through the
    CURVE socket, with that key; required, every agency through it. A
    connection of the CURVE socket speaks for the agency its key proved,
    and only for it. The enrolled agencies are read again on RELOAD
    (SIGHUP) and when their directory changes.
*/
#ifndef LOT_GATE_H_INCLUDED
#define LOT_GATE_H_INCLUDED

#include "lot_conn.h"
#include "lot_settings.h"

#include <stdint.h>

#define LOT_REASON_AUTH_NEEDED  "this agency must prove its key on the secure port"
#define LOT_REASON_NOT_YOURS    "this key speaks for another agency"

typedef struct _lot_gate_t lot_gate_t;

//  Reads the enrolled agencies when AGENCY_AUTH is on. NULL with a fail
//  line when they cannot be read.
lot_gate_t *lot_gate_new (const lot_settings_t *settings);

void lot_gate_destroy (lot_gate_t **self_p);

//  Whether conn may speak for agency (its bets or its winners): NULL, or
//  why not.
const char *lot_gate_admit (lot_gate_t *self, lot_conn_t *conn, unsigned agency);

//  Reads the enrolled agencies again: forced (RELOAD), or when the
//  directory changed and its check is due.
void lot_gate_reload (lot_gate_t *self, bool forced);

//  How long the front-end may wait before lot_gate_reload looks again
//  (ms; -1: never).
int64_t lot_gate_timeout (lot_gate_t *self);

#endif
