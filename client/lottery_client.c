/*  lottery-client - an agency: sends its bets, then asks for its winners  */
#include "lot_agency.h"
#include "lot_client_config.h"
#include "lot_signals.h"
#include "lot_log.h"
#include "lot_settings.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#define USAGE \
    "Reads config.yaml from the working directory unless --config is given;\n" \
    "each variable below overrides its key (docs/settings.md):\n\n"

int
main (int argc, char *argv [])
{
    setvbuf (stdout, NULL, _IOLBF, 0);
    lot_signals_catch ();
    const char *config_file;
    int rc = lot_settings_parse_args (argc, argv, USAGE, &config_file);
    if (rc > 0)
        lot_client_config_print_help (stdout);
    if (rc)
        return rc > 0 ? 0 : 2;
    char *error = NULL;
    lot_client_config_t *config = lot_client_config_new (config_file, &error);
    if (!config) {
        lot_log_error ("action: config | result: fail | reason: %s",
                       error ? error : "out of memory");
        free (error);
        return 2;
    }
    lot_client_config_log (config);

    lot_agency_t *agency = lot_agency_new (config);
    rc = agency ? lot_agency_run (agency) : 1;
    lot_agency_destroy (&agency);
    lot_client_config_destroy (&config);
    int signal = lot_signals_caught ();
    const char *result = rc == 0 ? "success" : "fail";
    if (signal)
        lot_log_info ("action: exit | result: %s | signal: %s | status: %d", result,
                      signal == SIGTERM ? "SIGTERM" : "SIGINT", rc);
    else
        lot_log_info ("action: exit | result: %s | status: %d", result, rc);
    return rc;
}
