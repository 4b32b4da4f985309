/*  lot_client_config - the agency client's settings

    config.yaml (nested mappings, read as dotted keys such as
    "batch.maxAmount"), then the environment: CLI_ID, CLI_SERVER_ADDRESS,
    CLI_LOOP_AMOUNT, CLI_LOOP_PERIOD, CLI_LOG_LEVEL, CLI_BATCH_MAXAMOUNT,
    CLI_DATA_FILE, CLI_MAX_CHUNK_BYTES, CLI_WINDOW, CLI_PROTOCOL_VERSION,
    CLI_SERVER_TIMEOUT, CLI_WINNERS_TIMEOUT, CLI_AUTH_CERT, CLI_AUTH_SERVER
    and CLI_AUTH_ADDRESS. CLI_ID has no default: an
    agency must know its number. Beyond the course's keys, config.yaml may
    also hold id, data.file, batch.maxBytes, batch.window,
    protocol.version, server.timeout, winners.timeout and auth.cert,
    auth.server and auth.address (docs/security.md); other keys are ignored.
*/
#ifndef LOT_CLIENT_CONFIG_H_INCLUDED
#define LOT_CLIENT_CONFIG_H_INCLUDED

#include "lot_log.h"

#include <stdio.h>

typedef struct {
    long id;                    //  Agency number, from 1
    char *server_address;       //  host:port
    long loop_amount;           //  Connection attempts
    long loop_period;           //  ms between connection attempts
    lot_log_level_t log_level;
    long batch_max_amount;      //  Most bets per chunk
    char *data_file;            //  Default .data/agency-<id>.csv
    long max_chunk_bytes;       //  Largest encoded chunk sent
    long window;                //  v2: chunks sent and not yet answered
    long protocol_version;      //  1: the course's, 2: resumable uploads,
                                //  3: resumes checked by digest
    long server_timeout;        //  ms an answer to the bets may take
    long winners_timeout;       //  ms the winners query may take in all
    char *auth_cert;            //  The agency's certificate; NULL: plain TCP
    char *auth_server;          //  The server's public one, pinned
    char *auth_address;         //  host:port of the server's CURVE port
    char *server_host;          //  server_address split, for getaddrinfo
    char *server_port;
} lot_client_config_t;

//  Loads defaults, then config_file (NULL: ./config.yaml when it exists),
//  then the environment, and sets the log level. Returns NULL with *error
//  set (free it) when the file cannot be read or a value is invalid.
lot_client_config_t *lot_client_config_new (const char *config_file,
                                            char **error);

void lot_client_config_destroy (lot_client_config_t **self_p);

//  Logs `action: config | result: success` with every effective setting.
void lot_client_config_log (const lot_client_config_t *self);

//  Prints the settings' table (lot_options_print_help), for --help.
void lot_client_config_print_help (FILE *out);

#endif
