/*  lot_server - what every server program does, in order

    Parse the arguments, load and log the settings, start the program's
    actors in the order given, wait for SIGINT or SIGTERM, and destroy the
    actors in the reverse order: the persister starts first and stops last,
    so nothing is left half written. The mains are one table each.
*/
#ifndef LOT_SERVER_H_INCLUDED
#define LOT_SERVER_H_INCLUDED

#include "lot_settings.h"

#include <czmq.h>

typedef struct {
    const char *name;
    zactor_fn *actor;
    bool replicated;            //  Started HANDLERS times
    bool agencies;              //  Faces the agencies: with AGENCY_AUTH on,
                                //  SIGHUP has it read their keys again
} lot_server_part_t;

//  Makes SIGHUP ask for the enrolled agencies to be read again, and
//  SIGINT and SIGTERM set this module's own flag, not czmq's
//  zsys_interrupted: czmq's actors (each socket's zmonitor) end by
//  themselves once that is set, and an actor reading a monitor's pipe then
//  takes the monitor's last signal, so destroying the monitor would wait
//  for ever. lot_server_run calls it; a test may too.
void lot_server_catch_signals (void);

//  Whether SIGINT or SIGTERM came since lot_server_catch_signals.
bool lot_server_interrupted (void);

//  Runs a server program. Returns the process exit status.
int lot_server_run (int argc, char *argv [], const char *program,
                    lot_mode_t mode, const lot_server_part_t *parts,
                    size_t count);

#endif
