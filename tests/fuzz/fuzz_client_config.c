/*  fuzz_client_config - the agency client's config.yaml, any bytes of it  */
#include "fuzz.h"
#include "lot_client_config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    char *error = NULL;
    lot_client_config_t *config = lot_client_config_new (fuzz_file (data, size), &error);
    assert (!config != !error);
    if (config) {
        assert (config->id >= 1 && config->data_file);
        assert (*config->server_host && strlen (config->server_port) <= 5);
        assert (atol (config->server_port) >= 1 && atol (config->server_port) <= 65535);
        lot_client_config_log (config);
    }
    free (error);
    lot_client_config_destroy (&config);
    return 0;
}
