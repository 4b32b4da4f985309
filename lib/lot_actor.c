/*  lot_actor - what every actor of the server shares  */
#include "lot_actor.h"

zactor_t *
lot_actor_start (zactor_fn *actor, const lot_settings_t *settings)
{
    zactor_t *self = zactor_new (actor, (void *) settings);
    if (!self)
        return NULL;
    zstr_send (self, "START");
    if (zsock_wait (self) != 0)
        zactor_destroy (&self);
    return self;
}
