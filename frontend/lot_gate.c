/*  lot_gate - who may speak for an agency on this front-end  */
#include "lot_gate.h"
#include "lot_enrolled.h"
#include "lot_log.h"

#define S_CHECK_MSECS 1000          //  How often the directory is looked at

struct _lot_gate_t {
    lot_auth_t auth;
    lot_enrolled_t *enrolled;       //  NULL when AGENCY_AUTH is off
    int64_t check_at;
};

lot_gate_t *
lot_gate_new (const lot_settings_t *settings)
{
    lot_gate_t *self = calloc (1, sizeof *self);
    assert (self);
    self->auth = settings->agency_auth;
    if (self->auth == LOT_AUTH_OFF)
        return self;
    char *error = NULL;
    self->enrolled = lot_enrolled_new (settings->agency_keys, settings->agencies, &error);
    if (!self->enrolled) {
        lot_log_error ("action: agencias_inscriptas | result: fail | actor: frontend"
                       " | reason: %s", error ? error : "out of memory");
        free (error);
        lot_gate_destroy (&self);
        return NULL;
    }
    self->check_at = zclock_mono () + S_CHECK_MSECS;
    return self;
}

void
lot_gate_destroy (lot_gate_t **self_p)
{
    if (*self_p) {
        lot_enrolled_destroy (&(*self_p)->enrolled);
        free (*self_p);
        *self_p = NULL;
    }
}

const char *
lot_gate_admit (lot_gate_t *self, lot_conn_t *conn, unsigned agency)
{
    unsigned proven = lot_conn_proven (conn);
    if (proven)
        return proven == agency ? NULL : LOT_REASON_NOT_YOURS;
    if (self->auth == LOT_AUTH_REQUIRED
    || (self->auth == LOT_AUTH_PER_AGENCY && lot_enrolled_keyed (self->enrolled, agency)))
        return LOT_REASON_AUTH_NEEDED;
    return NULL;
}

void
lot_gate_reload (lot_gate_t *self, bool forced)
{
    if (!self->enrolled || (!forced && zclock_mono () < self->check_at))
        return;
    lot_enrolled_reload (&self->enrolled, forced, "frontend");
    self->check_at = zclock_mono () + S_CHECK_MSECS;
}

int64_t
lot_gate_timeout (lot_gate_t *self)
{
    if (!self->enrolled)
        return -1;
    int64_t left = self->check_at - zclock_mono ();
    return left > 0 ? left : 0;
}
