/*  lot_signals - the client's SIGTERM and SIGINT: a flag its waits see

    SIGTERM and SIGINT stop any wait of the client: the signals stay
    blocked outside its waits and are let in only inside ppoll (with
    lot_signals_wait_mask), so none is lost between a check of the flag
    and a blocking call.
*/
#ifndef LOT_SIGNALS_H_INCLUDED
#define LOT_SIGNALS_H_INCLUDED

#include <signal.h>

//  Installs the handlers and blocks the signals; call once, early.
void lot_signals_catch (void);

//  The signal that stopped the run, or 0.
int lot_signals_caught (void);

//  The mask for ppoll, which lets the signals in; NULL before
//  lot_signals_catch (nothing blocked, nothing to let in).
const sigset_t *lot_signals_wait_mask (void);

#endif
