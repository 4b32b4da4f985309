/*  lot_client_config - the agency client's settings  */
#include "lot_client_config.h"
#include "lot_codec.h"
#include "lot_curve.h"
#include "lot_options.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#define S_OPTION(key, env, name, type, field, fallback, min, max, help) \
    { key, env, name, type, offsetof (lot_client_config_t, field), fallback, min, max, help }

static const lot_option_t s_table [] = {
    S_OPTION ("id", "CLI_ID", "id", LOT_OPTION_INT, id, NULL, 1, 65535,
              "the agency number (required)"),
    S_OPTION ("server.address", "CLI_SERVER_ADDRESS", "server_address",
              LOT_OPTION_STRING, server_address, "server:12345", 1, 0,
              "host:port of the server; a name with several addresses (one per "
              "front-end replica) is resolved again at every connection, tried in "
              "random order, each address given 2 s to answer"),
    S_OPTION ("loop.amount", "CLI_LOOP_AMOUNT", "loop_amount",
              LOT_OPTION_INT, loop_amount, "5", 1, 1000000,
              "connection attempts while the server is not reachable yet; in v2 "
              "and v3 also reconnections in a row that store nothing"),
    S_OPTION ("loop.period", "CLI_LOOP_PERIOD", "loop_period",
              LOT_OPTION_DURATION, loop_period, "5s", 0, 3600000,
              "the pause between connection attempts (never between chunks)"),
    S_OPTION ("log.level", "CLI_LOG_LEVEL", "log_level",
              LOT_OPTION_LEVEL, log_level, "INFO", 0, 0,
              "DEBUG also logs each chunk and connection"),
    S_OPTION ("batch.maxAmount", "CLI_BATCH_MAXAMOUNT", "batch_max_amount",
              LOT_OPTION_INT, batch_max_amount, "10", 1, 65535,
              "most bets per chunk; fewer when a chunk would pass `batch.maxBytes`"),
    S_OPTION ("data.file", "CLI_DATA_FILE", "data_file",
              LOT_OPTION_STRING, data_file, NULL, 1, 0,
              "default `.data/agency-ID.csv`; without it, `NOMBRE`, `APELLIDO`, "
              "`DOCUMENTO`, `NACIMIENTO` and `NUMERO` give a single bet"),
    S_OPTION ("batch.maxBytes", "CLI_MAX_CHUNK_BYTES", "max_chunk_bytes",
              LOT_OPTION_INT, max_chunk_bytes, "8192", 64, 1048576,
              "largest encoded chunk sent"),
    S_OPTION ("batch.window", "CLI_WINDOW", "window",
              LOT_OPTION_INT, window, "16", 1, 1024,
              "v2 and v3: chunks sent before waiting for an answer (1: stop-and-wait); "
              "at most the server's `MAX_IN_FLIGHT` + 1"),
    S_OPTION ("protocol.version", "CLI_PROTOCOL_VERSION", "protocol_version",
              LOT_OPTION_INT, protocol_version, "3", 1, 3,
              "1 speaks the course's protocol byte for byte; 2 resumes uploads, "
              "and speaks 1 to a server that does not answer its `H`; 3 also "
              "checks a resume by the digest of the stored bets, and speaks 2 to "
              "a server that refuses `H 3` (then resumes go unchecked)"),
    S_OPTION ("server.timeout", "CLI_SERVER_TIMEOUT", "server_timeout",
              LOT_OPTION_DURATION, server_timeout, "30s", 1, 86400000,
              "how long an answer to the bets (the `S`, each chunk's) or a write "
              "may wait; past it the connection counts as dropped"),
    S_OPTION ("winners.timeout", "CLI_WINNERS_TIMEOUT", "winners_timeout",
              LOT_OPTION_DURATION, winners_timeout, "10m", 1, 86400000,
              "how long the winners query may take in all, asking again when its "
              "connection drops"),
    S_OPTION ("auth.cert", "CLI_AUTH_CERT", "auth_cert",
              LOT_OPTION_STRING, auth_cert, NULL, 0, 0,
              "none: the plain port. The agency's own certificate (`agency_secret` "
              "from `bin/lottery-enroll`): the client then speaks only to "
              "`auth.address`, over CURVE, proving this key, in v3, never in the "
              "clear; needs `auth.server`"),
    S_OPTION ("auth.server", "CLI_AUTH_SERVER", "auth_server",
              LOT_OPTION_STRING, auth_server, NULL, 0, 0,
              "the server's public certificate (`server.pub`), whose key the "
              "server must prove"),
    S_OPTION ("auth.address", "CLI_AUTH_ADDRESS", "auth_address",
              LOT_OPTION_STRING, auth_address, "server:12346", 1, 0,
              "host:port of the server's secure port (`SECURE_PORT`)"),
};
#define S_COUNT (sizeof s_table / sizeof s_table [0])
#define S_DEPTH_MAX 16          //  Nesting levels in config.yaml

//  ---------------------------------------------------------------------
//  config.yaml: nested mappings become dotted keys

typedef struct {
    bool mapping;               //  Else a sequence, whose content is ignored
    bool want_key;              //  Mapping: the next scalar is a key
    size_t base;                //  Key path length where the mapping began
} s_frame_t;

typedef struct {
    lot_client_config_t *config;
    const char *path;
    char key [512];             //  Dotted path of the current key
    size_t key_size;
    s_frame_t frames [S_DEPTH_MAX];
    size_t depth;
    size_t ignoring;            //  Open sequences: no option lives in one
    char *error;
} s_yaml_t;

static int
s_yaml_fail (s_yaml_t *self, const yaml_mark_t *mark, const char *problem)
{
    if (asprintf (&self->error, "%s: line %zu: %s", self->path,
                  mark->line + 1, problem) < 0)
        self->error = NULL;
    return -1;
}

//  A mapping's value is done: the next scalar is a key again.
static void
s_yaml_value_done (s_yaml_t *self)
{
    if (self->depth > 0 && self->frames [self->depth - 1].mapping) {
        s_frame_t *frame = &self->frames [self->depth - 1];
        frame->want_key = true;
        self->key_size = frame->base;
        self->key [self->key_size] = 0;
    }
}

static int
s_yaml_scalar (s_yaml_t *self, const yaml_event_t *event)
{
    const char *value = (const char *) event->data.scalar.value;
    if (self->depth == 0) {
        //  An empty document is a scalar too: no settings
        if (*value)
            return s_yaml_fail (self, &event->start_mark, "expected a mapping of settings");
        return 0;
    }
    s_frame_t *frame = &self->frames [self->depth - 1];
    if (self->ignoring || !frame->mapping)
        return 0;
    if (frame->want_key) {
        size_t size = strlen (value);
        size_t dot = frame->base > 0;
        if (frame->base + dot + size >= sizeof self->key)
            return s_yaml_fail (self, &event->start_mark, "key too long");
        if (dot)
            self->key [frame->base] = '.';
        memcpy (self->key + frame->base + dot, value, size + 1);
        self->key_size = frame->base + dot + size;
        frame->want_key = false;
        return 0;
    }
    //  Unknown keys are left for other tools, as in config.ini
    if (lot_options_set (s_table, S_COUNT, self->config, self->key, value,
                         &self->error) < 0)
        return -1;
    s_yaml_value_done (self);
    return 0;
}

static int
s_yaml_open (s_yaml_t *self, const yaml_event_t *event, bool mapping)
{
    if (self->depth == S_DEPTH_MAX)
        return s_yaml_fail (self, &event->start_mark, "nested too deep");
    if (self->depth > 0) {
        s_frame_t *parent = &self->frames [self->depth - 1];
        if (parent->mapping && parent->want_key && !self->ignoring)
            return s_yaml_fail (self, &event->start_mark, "expected a plain key");
    }
    else
    if (!mapping)
        return s_yaml_fail (self, &event->start_mark, "expected a mapping of settings");
    if (!mapping)
        self->ignoring++;
    self->frames [self->depth++] = (s_frame_t) { mapping, true, self->key_size };
    return 0;
}

static void
s_yaml_close (s_yaml_t *self)
{
    if (self->depth == 0)
        return;
    if (!self->frames [--self->depth].mapping)
        self->ignoring--;
    s_yaml_value_done (self);
}

static int
s_load_yaml (lot_client_config_t *config, const char *path, bool required,
             char **error)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        if (!required && errno == ENOENT)
            return 0;
        if (asprintf (error, "cannot read %s: %s", path, strerror (errno)) < 0)
            *error = NULL;
        return -1;
    }
    s_yaml_t self = { .config = config, .path = path };
    yaml_parser_t parser;
    yaml_parser_initialize (&parser);
    yaml_parser_set_input_file (&parser, file);
    int rc = 0;
    bool done = false;
    while (rc == 0 && !done) {
        yaml_event_t event;
        if (!yaml_parser_parse (&parser, &event)) {
            rc = s_yaml_fail (&self, &parser.problem_mark,
                              parser.problem ? parser.problem : "syntax error");
            break;
        }
        switch (event.type) {
            case YAML_SCALAR_EVENT:
                rc = s_yaml_scalar (&self, &event);
                break;
            case YAML_MAPPING_START_EVENT:
                rc = s_yaml_open (&self, &event, true);
                break;
            case YAML_SEQUENCE_START_EVENT:
                rc = s_yaml_open (&self, &event, false);
                break;
            case YAML_MAPPING_END_EVENT:
            case YAML_SEQUENCE_END_EVENT:
                s_yaml_close (&self);
                break;
            case YAML_ALIAS_EVENT:
                rc = s_yaml_fail (&self, &event.start_mark, "aliases are not supported");
                break;
            case YAML_STREAM_END_EVENT:
                done = true;
                break;
            default:
                break;
        }
        yaml_event_delete (&event);
    }
    yaml_parser_delete (&parser);
    fclose (file);
    if (rc)
        *error = self.error;
    return rc;
}

//  ---------------------------------------------------------------------

//  "host:port" or "[v6 address]:port"; the port is decimal.
static int
s_split_address (lot_client_config_t *self, char **error)
{
    const char *address = self->server_address;
    const char *colon = strrchr (address, ':');
    const char *host = address;
    size_t host_size = colon ? (size_t) (colon - address) : 0;
    if (host_size >= 2 && host [0] == '[' && host [host_size - 1] == ']') {
        host++;
        host_size -= 2;
    }
    const char *digits = colon ? colon + 1 : "";
    size_t size = strlen (digits);
    long port = size > 0 && size <= 5 && strspn (digits, "0123456789") == size
              ? atol (digits) : 0;
    if (host_size == 0 || port < 1 || port > 65535) {
        if (asprintf (error, "server.address (CLI_SERVER_ADDRESS) is '%s':"
                      " expected host:port", address) < 0)
            *error = NULL;
        return -1;
    }
    self->server_host = strndup (host, host_size);
    self->server_port = strdup (digits);
    return self->server_host && self->server_port ? 0 : -1;
}

//  With a certificate, the server's too, both readable, and v3: the
//  secure port speaks nothing else.
static int
s_check_auth (lot_client_config_t *self, char **error)
{
    lot_options_unset_empty (&self->auth_cert);
    lot_options_unset_empty (&self->auth_server);
    if (!self->auth_cert)
        return 0;
    if (!self->auth_server) {
        *error = strdup ("auth.cert (CLI_AUTH_CERT) needs auth.server (CLI_AUTH_SERVER):"
                         " the server's public certificate");
        return -1;
    }
    if (self->protocol_version != LOT_PROTOCOL_VERSION) {
        *error = strdup ("auth.cert (CLI_AUTH_CERT) needs protocol.version 3");
        return -1;
    }
    char *reason = NULL;
    zcert_t *cert = lot_curve_load_secret (self->auth_cert, &reason);
    const char *which = "auth.cert (CLI_AUTH_CERT)";
    if (cert) {
        zcert_destroy (&cert);
        which = "auth.server (CLI_AUTH_SERVER)";
        cert = lot_curve_read (self->auth_server, &reason);
    }
    if (cert) {
        zcert_destroy (&cert);
        return 0;
    }
    if (asprintf (error, "%s: %s", which, reason ? reason : "out of memory") < 0)
        *error = NULL;
    free (reason);
    return -1;
}

lot_client_config_t *
lot_client_config_new (const char *config_file, char **error)
{
    *error = NULL;
    lot_client_config_t *self = calloc (1, sizeof *self);
    //  The id and the data file have no default: 0 and NULL until the
    //  file and the environment had their say
    if (!self || lot_options_defaults (s_table, S_COUNT, self)
    ||  s_load_yaml (self, config_file ? config_file : "config.yaml",
                     config_file != NULL, error)
    ||  lot_options_apply_env (s_table, S_COUNT, self, error))
        goto failed;
    if (self->id == 0) {
        *error = strdup ("CLI_ID is not set: the agency number (1 to 65535) is required");
        goto failed;
    }
    if (!self->data_file) {
        if (asprintf (&self->data_file, ".data/agency-%ld.csv", self->id) < 0) {
            self->data_file = NULL;
            goto failed;
        }
    }
    if (s_split_address (self, error) || s_check_auth (self, error))
        goto failed;
    lot_log_set_level (self->log_level);
    return self;

failed:
    if (self && !*error)
        *error = strdup ("out of memory");
    lot_client_config_destroy (&self);
    return NULL;
}

void
lot_client_config_destroy (lot_client_config_t **self_p)
{
    if (*self_p) {
        lot_client_config_t *self = *self_p;
        lot_options_free (s_table, S_COUNT, self);
        free (self->server_host);
        free (self->server_port);
        free (self);
        *self_p = NULL;
    }
}

void
lot_client_config_log (const lot_client_config_t *self)
{
    char *details = lot_options_describe (s_table, S_COUNT, self);
    lot_log_info ("action: config | result: success%s", details ? details : "");
    free (details);
}

void
lot_client_config_print_help (FILE *out)
{
    lot_options_print_help (s_table, S_COUNT, out);
}
