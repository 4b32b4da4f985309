/*  fuzz_settings - the server's config.ini, any bytes of it, loaded in
    the mode the first byte picks
*/
#include "fuzz.h"
#include "lot_settings.h"

#include <assert.h>
#include <stdlib.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    lot_mode_t mode = size && data [0] & 1 ? LOT_MODE_DISTRIBUTED : LOT_MODE_EMBEDDED;
    char *error = NULL;
    lot_settings_t *settings = lot_settings_new (mode, fuzz_file (data, size), &error);
    assert (!settings != !error);
    if (settings) {
        lot_settings_log (settings, "fuzz");
        const char *endpoints [] = {
            settings->work_endpoint, settings->records_endpoint,
            settings->results_endpoint, settings->events_endpoint,
            settings->winners_endpoint, settings->broker_endpoint
        };
        for (size_t i = 0; i < 6; i++) {
            char *bind = lot_endpoint_bind_form (endpoints [i]);
            assert (bind);
            assert (lot_endpoint_exposed (bind) == lot_endpoint_exposed (endpoints [i]));
            assert (lot_endpoint_ipv6 (bind) <= lot_endpoint_ipv6 (endpoints [i]));
            free (bind);
        }
        assert (settings->bets_file && settings->bets_journal);
    }
    free (error);
    lot_settings_destroy (&settings);
    return 0;
}
