/*  lot_settings - the server's settings  */
#include "lot_settings.h"
#include "lot_curve.h"
#include "lot_enrolled.h"
#include "lot_options.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <ini.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_OPTION(key, name, type, field, fallback, min, max, help) \
    { key, key, name, type, offsetof (lot_settings_t, field), fallback, min, max, help }

//  Endpoint defaults are per mode: filled in by lot_settings_new.
static const lot_option_t s_table [] = {
    S_OPTION ("SERVER_PORT", "port", LOT_OPTION_INT, port, "12345", 0, 65535,
              "agency TCP port (the front-end listens on every interface); 0: one "
              "the system picks, shown in the `escuchar` line"),
    S_OPTION ("SERVER_IP", "server_ip", LOT_OPTION_STRING, server_ip, "server", 1, 0,
              "the name agencies use to reach the server (shown only)"),
    S_OPTION ("SERVER_LISTEN_BACKLOG", "listen_backlog", LOT_OPTION_INT, listen_backlog, "5", 1, 65535,
              "listen backlog of bound sockets; for many agencies see README.md"),
    S_OPTION ("LOGGING_LEVEL", "logging_level", LOT_OPTION_LEVEL, logging_level, "INFO", 0, 0,
              "DEBUG also logs every stored bet (`apuesta_almacenada`)"),
    S_OPTION ("AGENCIES", "agencies", LOT_OPTION_INT, agencies, "5", 0, 65535,
              "how many agencies the draw waits for (0: never draws)"),
    S_OPTION ("HANDLERS", "handlers", LOT_OPTION_INT, handlers, "2", 1, 256,
              "handler actors in embedded mode"),
    S_OPTION ("BETS_FILE", "bets_file", LOT_OPTION_STRING, bets_file, "./bets.csv", 1, 0,
              "appended to, never truncated"),
    S_OPTION ("BETS_FSYNC", "bets_fsync", LOT_OPTION_BOOL, bets_fsync, "true", 0, 0,
              "fdatasync before confirming a chunk"),
    S_OPTION ("BETS_JOURNAL", "bets_journal", LOT_OPTION_STRING, bets_journal, NULL, 1, 0,
              "default `BETS_FILE`.journal: what is stored, chunk by chunk, the "
              "persister's memory across restarts (docs/architecture.md)"),
    S_OPTION ("MAX_CHUNK_BYTES", "max_chunk_bytes", LOT_OPTION_INT, max_chunk_bytes, "8192", 64, 1048576,
              "largest encoded chunk accepted"),
    S_OPTION ("MAX_IN_FLIGHT", "max_in_flight", LOT_OPTION_INT, max_in_flight, "16", 1, 1024,
              "chunks of a v2 upload in the pipeline at once (a client may send "
              "that many without waiting, and one more; docs/protocol.md), and of "
              "an agency's chunks the persister holds back for the bets before "
              "them: give the front-end and the persister the same"),
    S_OPTION ("MAX_CONNECTIONS", "max_connections", LOT_OPTION_INT, max_connections, "1024", 1, 1000000,
              "agency connections open at once; at the limit the one idle longest "
              "(for a tenth of `IDLE_TIMEOUT` at least) makes room, else the new "
              "one is closed"),
    S_OPTION ("IDLE_TIMEOUT", "idle_timeout", LOT_OPTION_DURATION, idle_timeout, "30s", 100, 86400000,
              "a connection that sends nothing this long (and waits for no answer "
              "of ours) is closed"),
    S_OPTION ("MESSAGE_TIMEOUT", "message_timeout", LOT_OPTION_DURATION, message_timeout, "10s", 100, 86400000,
              "a message (chunk, hello, query) must arrive whole this long after "
              "its first byte, or the connection is closed"),
    S_OPTION ("QUERIES_PER_AGENCY", "queries_per_agency", LOT_OPTION_INT, queries_per_agency, "4", 1, 1000000,
              "winners queries held for one agency; a new one closes the oldest"),
    S_OPTION ("QUEUE_LIMIT", "queue_limit", LOT_OPTION_INT, queue_limit, "1000", 1, 1000000,
              "high-water mark of every actor socket"),
    S_OPTION ("ANNOUNCE_INTERVAL", "announce_interval", LOT_OPTION_DURATION, announce_interval, "1s", 10, 3600000,
              "how often the winners are announced again"),
    S_OPTION ("LOG_SETTLE", "log_settle", LOT_OPTION_DURATION, log_settle, "0", 0, 60000,
              "the `sorteo` line waits this long after the last agency finished, "
              "and the winners this long after it: docker stamps each container's "
              "lines late and unevenly, and graders order lines by those stamps "
              "(the compose file sets 100ms)"),
    S_OPTION ("RESEND_TIMEOUT", "resend_timeout", LOT_OPTION_DURATION, resend_timeout, "5s", 20, 3600000,
              "a chunk unanswered this long goes to the handlers again (stored "
              "once)"),
    S_OPTION ("SEND_TIMEOUT", "send_timeout", LOT_OPTION_DURATION, send_timeout, "1s", 0, 3600000,
              "how long an actor waits to hand a message on before dropping it (the "
              "resend recovers it)"),
    S_OPTION ("WORK_ENDPOINT", "work_endpoint", LOT_OPTION_STRING, work_endpoint, NULL, 1, 0,
              "broker PUSH -> handlers; default inproc://work embedded, "
              "tcp://127.0.0.1:5560 distributed"),
    S_OPTION ("RECORDS_ENDPOINT", "records_endpoint", LOT_OPTION_STRING, records_endpoint, NULL, 1, 0,
              "handlers -> persister; default inproc://records, "
              "tcp://127.0.0.1:5561"),
    S_OPTION ("RESULTS_ENDPOINT", "results_endpoint", LOT_OPTION_STRING, results_endpoint, NULL, 1, 0,
              "handlers, persister -> broker; default inproc://results, "
              "tcp://127.0.0.1:5562"),
    S_OPTION ("EVENTS_ENDPOINT", "events_endpoint", LOT_OPTION_STRING, events_endpoint, NULL, 1, 0,
              "persister -> coordinator; default inproc://events, "
              "tcp://127.0.0.1:5563"),
    S_OPTION ("WINNERS_ENDPOINT", "winners_endpoint", LOT_OPTION_STRING, winners_endpoint, NULL, 1, 0,
              "coordinator PUB -> front-ends; default inproc://winners, "
              "tcp://127.0.0.1:5564"),
    S_OPTION ("BROKER_ENDPOINT", "broker_endpoint", LOT_OPTION_STRING, broker_endpoint, NULL, 1, 0,
              "front-ends DEALER <-> broker ROUTER; default inproc://broker, "
              "tcp://127.0.0.1:5565"),
    S_OPTION ("ACTORS_INSECURE", "actors_insecure", LOT_OPTION_BOOL, actors_insecure, "false", 0, 0,
              "an actor endpoint bound where other hosts reach it (any address but "
              "loopback: `0.0.0.0`, `*`, a host name) needs CURVE (`CURVE_CERT`), "
              "or the actor refuses to start; true lets it listen without, each "
              "such socket logging a warning. Only on a network you trust (the "
              "compose stack sets it)"),
    S_OPTION ("CURVE_CERT", "curve_cert", LOT_OPTION_STRING, curve_cert, NULL, 0, 0,
              "none: CURVE off. This actor's CURVE certificate, "
              "`DIR/secret/KIND_secret` from `bin/lottery-keys DIR`: every `tcp://` "
              "socket between actors is encrypted and authenticated (never the "
              "agencies' port); needs `CURVE_PUBLIC_DIR`"),
    S_OPTION ("CURVE_PUBLIC_DIR", "curve_public_dir", LOT_OPTION_STRING, curve_public_dir, NULL, 0, 0,
              "the public certificates (`NAME.pub`) of the actors let in, read at "
              "start (`DIR/public`)"),
    S_OPTION ("AGENCY_AUTH", "agency_auth", LOT_OPTION_STRING, agency_auth_name, "off", 1, 0,
              "who may speak for an agency (docs/security.md): `off`, anyone, on "
              "`SERVER_PORT` (the course's protocol); `per-agency`, an agency with a "
              "key in `AGENCY_KEYS` must prove it on `SECURE_PORT`, the others "
              "speak as with off; `required`, every agency proves its key, and "
              "`SERVER_PORT` takes no bets and no winners query"),
    S_OPTION ("SECURE_PORT", "secure_port", LOT_OPTION_INT, secure_port, "12346", 0, 65535,
              "the agencies' CURVE port (ZeroMQ, every interface), unless "
              "`AGENCY_AUTH` is off; 0: one the system picks"),
    S_OPTION ("AGENCY_CERT", "agency_cert", LOT_OPTION_STRING, agency_cert, NULL, 0, 0,
              "the front-end's certificate on `SECURE_PORT`, whose public key "
              "agencies pin (`DIR/server/secret/agencies` from `bin/lottery-enroll`); "
              "needed unless `AGENCY_AUTH` is off"),
    S_OPTION ("AGENCY_KEYS", "agency_keys", LOT_OPTION_STRING, agency_keys, NULL, 0, 0,
              "the enrolled agencies' public certificates (`DIR/server/enrolled`), "
              "read again on SIGHUP and when it changes; needed unless "
              "`AGENCY_AUTH` is off"),
    S_OPTION ("METRICS_PORT", "metrics_port", LOT_OPTION_INT, metrics_port, "0", 0, 65535,
              "HTTP port of the Prometheus metrics (`GET /metrics`, every "
              "interface; docs/operations.md), shown in the config line when "
              "set; 0: off"),
};
#define S_COUNT (sizeof s_table / sizeof s_table [0])
#define S_ENDPOINTS 6

//  Where the endpoints start in the table (WORK_ENDPOINT, then the rest in
//  s_endpoints' order): looked up, so an option added above them
//  shifts nothing
static size_t
s_first_endpoint (void)
{
    size_t i = 0;
    while (s_table [i].offset != offsetof (lot_settings_t, work_endpoint))
        i++;
    return i;
}

static const char *s_endpoints [][S_ENDPOINTS] = {
    [LOT_MODE_EMBEDDED] = {
        "inproc://work", "inproc://records", "inproc://results",
        "inproc://events", "inproc://winners", "inproc://broker"
    },
    [LOT_MODE_DISTRIBUTED] = {
        "tcp://127.0.0.1:5560", "tcp://127.0.0.1:5561", "tcp://127.0.0.1:5562",
        "tcp://127.0.0.1:5563", "tcp://127.0.0.1:5564", "tcp://127.0.0.1:5565"
    },
};

typedef struct {
    lot_settings_t *settings;
    char *error;
} s_ini_state_t;

static int
s_ini_entry (void *user, const char *section, const char *key, const char *value)
{
    (void) section;             //  Keys of every section are taken alike
    s_ini_state_t *state = user;
    char *error = NULL;
    int rc = lot_options_set (s_table, S_COUNT, state->settings, key, value,
                              &error);
    if (rc < 0) {
        //  inih goes on after an error: keep the first, as its line is
        if (state->error)
            free (error);
        else
            state->error = error;
        return 0;
    }
    return 1;                   //  Unknown keys are left for other tools
}

static int
s_load_file (lot_settings_t *self, const char *path, bool required, char **error)
{
    if (!required && access (path, F_OK) != 0)
        return 0;
    s_ini_state_t state = { self, NULL };
    int rc = ini_parse (path, s_ini_entry, &state);
    if (rc == 0)
        return 0;
    if (state.error)
        *error = state.error;
    else if (rc < 0 && asprintf (error, "cannot read %s: %s", path, strerror (errno)) < 0)
        *error = NULL;
    else if (rc > 0 && asprintf (error, "%s: syntax error on line %d", path, rc) < 0)
        *error = NULL;
    return -1;
}

//  AGENCY_AUTH's value, and what it needs: the front-end's certificate
//  and a directory of enrolled agencies that reads.
static int
s_check_agency_auth (lot_settings_t *self, char **error)
{
    static const char *names [] = { "off", "per-agency", "required" };
    size_t mode = 0;
    while (mode < 3 && strcmp (self->agency_auth_name, names [mode]))
        mode++;
    if (mode == 3) {
        *error = zsys_sprintf ("AGENCY_AUTH (AGENCY_AUTH) is '%s': expected off,"
                               " per-agency or required", self->agency_auth_name);
        return -1;
    }
    self->agency_auth = (lot_auth_t) mode;
    lot_options_unset_empty (&self->agency_cert);
    lot_options_unset_empty (&self->agency_keys);
    if (self->agency_auth == LOT_AUTH_OFF)
        return 0;
    if (!self->agency_cert || !self->agency_keys) {
        *error = zsys_sprintf ("AGENCY_AUTH is %s: AGENCY_CERT and AGENCY_KEYS are"
                               " needed", self->agency_auth_name);
        return -1;
    }
    zcert_t *own = lot_curve_load_secret (self->agency_cert, error);
    if (!own) {
        char *reason = *error;
        *error = zsys_sprintf ("AGENCY_CERT: %s", reason ? reason : "out of memory");
        free (reason);
        return -1;
    }
    zcert_destroy (&own);
    lot_enrolled_t *enrolled = lot_enrolled_new (self->agency_keys, self->agencies, error);
    if (!enrolled) {
        char *reason = *error;
        *error = zsys_sprintf ("AGENCY_KEYS: %s", reason ? reason : "out of memory");
        free (reason);
        return -1;
    }
    self->agencies_enrolled = (long) lot_enrolled_agencies (enrolled);
    lot_enrolled_destroy (&enrolled);
    return 0;
}

lot_settings_t *
lot_settings_new (lot_mode_t mode, const char *config_file, char **error)
{
    *error = NULL;
    lot_settings_t *self = calloc (1, sizeof *self);
    lot_option_t table [S_COUNT];
    memcpy (table, s_table, sizeof table);
    size_t first = s_first_endpoint ();
    for (size_t i = 0; i < S_ENDPOINTS; i++)
        table [first + i].fallback = s_endpoints [mode][i];
    if (!self || lot_options_defaults (table, S_COUNT, self)
    ||  s_load_file (self, config_file ? config_file : "config.ini",
                     config_file != NULL, error)
    ||  lot_options_apply_env (table, S_COUNT, self, error)) {
        if (!*error)
            *error = strdup ("out of memory");
        lot_settings_destroy (&self);
        return NULL;
    }
    //  The journal lives beside the bets file unless told otherwise
    if (!self->bets_journal
    &&  asprintf (&self->bets_journal, "%s.journal", self->bets_file) < 0) {
        *error = strdup ("out of memory");
        lot_settings_destroy (&self);
        return NULL;
    }
    //  An empty value turns CURVE off, as no value does
    lot_options_unset_empty (&self->curve_cert);
    lot_options_unset_empty (&self->curve_public_dir);
    if (lot_curve_check (self->curve_cert, self->curve_public_dir, error)) {
        if (!*error)
            *error = strdup ("out of memory");
        lot_settings_destroy (&self);
        return NULL;
    }
    if (s_check_agency_auth (self, error)) {
        if (!*error)
            *error = strdup ("out of memory");
        lot_settings_destroy (&self);
        return NULL;
    }
    lot_log_set_level (self->logging_level);
    return self;
}

void
lot_settings_destroy (lot_settings_t **self_p)
{
    if (*self_p) {
        lot_options_free (s_table, S_COUNT, *self_p);
        free (*self_p);
        *self_p = NULL;
    }
}

//  The config line shows every row of the table but the last, METRICS_PORT,
//  which it shows when on, as it shows the agencies enrolled when
//  AGENCY_AUTH is on: a server run as the course's shows the line it
//  always has.
void
lot_settings_log (const lot_settings_t *self, const char *program)
{
    assert (s_table [S_COUNT - 1].offset == offsetof (lot_settings_t, metrics_port));
    char *details = lot_options_describe (s_table, S_COUNT - 1, self);
    char enrolled [48] = "", metrics [32] = "";
    if (self->agency_auth != LOT_AUTH_OFF)
        snprintf (enrolled, sizeof enrolled, " | agencies_enrolled: %ld",
                  self->agencies_enrolled);
    if (self->metrics_port)
        snprintf (metrics, sizeof metrics, " | metrics_port: %ld", self->metrics_port);
    lot_log_info ("action: config | result: success | program: %s%s%s%s",
                  program, details ? details : "", enrolled, metrics);
    free (details);
}

//  The host of a tcp:// endpoint ("tcp://HOST:PORT", HOST as written,
//  brackets and all): sets *host and *length, and returns the port's
//  colon; NULL for any other endpoint.
static const char *
s_tcp_host (const char *endpoint, const char **host, size_t *length)
{
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return NULL;
    const char *port = strrchr (endpoint + 6, ':');
    if (port) {
        *host = endpoint + 6;
        *length = (size_t) (port - *host);
    }
    return port;
}

typedef enum { S_NAME, S_EVERY, S_LOOPBACK, S_ADDRESS } s_host_kind_t;

//  What a tcp:// host is: a name, every interface (`*`, 0.0.0.0, [::]),
//  a loopback address (127.0.0.0/8, [::1]) or another address.
static s_host_kind_t
s_host_kind (const char *host, size_t length)
{
    char text [INET6_ADDRSTRLEN + 2];
    if (length == 1 && host [0] == '*')
        return S_EVERY;
    if (length < 2 || length >= sizeof text)
        return S_NAME;
    bool bracketed = host [0] == '[' && host [length - 1] == ']';
    memcpy (text, host + bracketed, length - 2 * bracketed);
    text [length - 2 * bracketed] = 0;
    struct in_addr ipv4;
    struct in6_addr ipv6;
    if (!bracketed && inet_pton (AF_INET, text, &ipv4) == 1) {
        uint32_t address = ntohl (ipv4.s_addr);
        return address == INADDR_ANY ? S_EVERY
             : address >> 24 == 127 ? S_LOOPBACK : S_ADDRESS;
    }
    if (bracketed && inet_pton (AF_INET6, text, &ipv6) == 1)
        return IN6_IS_ADDR_UNSPECIFIED (&ipv6) ? S_EVERY
             : IN6_IS_ADDR_LOOPBACK (&ipv6) ? S_LOOPBACK : S_ADDRESS;
    return S_NAME;
}

char *
lot_endpoint_bind_form (const char *endpoint)
{
    const char *host, *port;
    size_t length;
    if (!(port = s_tcp_host (endpoint, &host, &length)))
        return strdup (endpoint);
    //  czmq takes port * as a scan of its own range, one failed bind (and
    //  monitor event) per port in use: 0 lets the kernel pick
    if (strcmp (port, ":*") == 0)
        port = ":0";
    //  An address is bound as it is, so a loopback one is reached from
    //  this host only. A name is the one the peers connect to, and here
    //  it need not be ours to bind: a swarm task's name resolves to a
    //  virtual IP, or to every replica's address, and only once the task
    //  is healthy, after it binds; a container on two networks has an
    //  address on each. So a name binds every interface, and the
    //  network (or CURVE) decides who reaches it.
    if (s_host_kind (host, length) == S_NAME) {
        host = "*";
        length = 1;
    }
    char *bind = NULL;
    return asprintf (&bind, "tcp://%.*s%s", (int) length, host, port) < 0 ? NULL : bind;
}

bool
lot_endpoint_ipv6 (const char *endpoint)
{
    const char *host;
    size_t length;
    return s_tcp_host (endpoint, &host, &length) && length > 0 && host [0] == '[';
}

bool
lot_endpoint_exposed (const char *endpoint)
{
    const char *host;
    size_t length;
    return s_tcp_host (endpoint, &host, &length)
        && s_host_kind (host, length) != S_LOOPBACK;
}

int
lot_settings_parse_args (int argc, char *argv [], const char *usage,
                         const char **config_file)
{
    *config_file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv [i], "--config") == 0 && i + 1 < argc)
            *config_file = argv [++i];
        else
        if (strcmp (argv [i], "--help") == 0 || strcmp (argv [i], "-h") == 0) {
            printf ("Usage: %s [--config PATH]\n%s", argv [0], usage);
            return 1;
        }
        else {
            fprintf (stderr, "%s: unexpected argument '%s' (try --help)\n",
                     argv [0], argv [i]);
            return -1;
        }
    }
    return 0;
}

void
lot_settings_print_help (FILE *out)
{
    lot_options_print_help (s_table, S_COUNT, out);
}
