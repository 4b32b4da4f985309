/*  lot_settings - the server's settings

    config.ini ([DEFAULT] section, the four keys of the course) and then
    the environment: a variable of the same name overrides each key, and
    every other setting comes from the environment alone. Endpoints are
    the addresses actors connect to; the actor that binds an endpoint
    binds the address it names, or every interface for a name (see
    lot_endpoint_bind_form).
*/
#ifndef LOT_SETTINGS_H_INCLUDED
#define LOT_SETTINGS_H_INCLUDED

#include "lot_log.h"
#include "lot_metrics.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum {
    LOT_MODE_EMBEDDED,      //  Every actor a thread: inproc:// by default
    LOT_MODE_DISTRIBUTED    //  Every actor a process: tcp:// by default
} lot_mode_t;

//  Who may speak for an agency (AGENCY_AUTH; docs/security.md)
typedef enum {
    LOT_AUTH_OFF,           //  Anyone, on the agencies' port (the course's)
    LOT_AUTH_PER_AGENCY,    //  An agency with a key on file proves it
    LOT_AUTH_REQUIRED       //  Every agency proves it: none on the plain port
} lot_auth_t;

typedef struct {
    long port;                  //  Agency TCP port
    char *server_ip;            //  The name agencies use to reach us
    long listen_backlog;
    lot_log_level_t logging_level;
    long agencies;              //  How many agencies the draw waits for
    long handlers;              //  Handler actors (embedded mode)
    char *bets_file;
    bool bets_fsync;            //  fdatasync before a chunk is confirmed
    char *bets_journal;         //  What is stored, by chunk: bets_file.journal
    long max_chunk_bytes;       //  Largest encoded chunk accepted
    long max_in_flight;         //  Chunks of a v2 connection in the pipeline
    long max_connections;       //  Agency connections open at once
    long idle_timeout;          //  ms a connection may send nothing
    long message_timeout;       //  ms a started message may take to arrive
    long queries_per_agency;    //  Winners queries held per agency
    long queue_limit;           //  High-water mark of every actor queue
    long announce_interval;     //  ms between winner-ready re-announces
    long log_settle;            //  ms the draw and its announcement wait
                                //  for log collectors to read what led there
    long resend_timeout;        //  ms before an unanswered chunk goes again
    long send_timeout;          //  ms an actor waits to hand a message on
    char *work_endpoint;        //  broker PUSH -> handlers PULL
    char *records_endpoint;     //  handlers PUSH -> persister PULL
    char *results_endpoint;     //  handlers, persister PUSH -> broker PULL
    char *events_endpoint;      //  persister DEALER -> coordinator ROUTER
    char *winners_endpoint;     //  coordinator PUB -> front-ends SUB
    char *broker_endpoint;      //  front-ends DEALER <-> broker ROUTER
    bool actors_insecure;       //  Binds open to other hosts without CURVE
    char *curve_cert;           //  This actor's CURVE certificate; NULL: CURVE off
    char *curve_public_dir;     //  Public certificates of the actors let in
    char *agency_auth_name;     //  AGENCY_AUTH as written: off, per-agency, required
    lot_auth_t agency_auth;     //  ... and as a value
    long secure_port;           //  Agencies' CURVE port (ZMTP), with agency_auth
    char *agency_cert;          //  Its certificate: the key agencies pin
    char *agency_keys;          //  Enrolled agencies' public certificates
    long agencies_enrolled;     //  Agencies with a key there at start (shown)
    long metrics_port;          //  HTTP port of /metrics; 0: off
    lot_metrics_t *metrics;     //  What the actors count: NULL when off. Not
                                //  a setting: lot_server gives it, and owns it
} lot_settings_t;

//  Loads defaults for the mode, then config_file (NULL: ./config.ini when
//  it exists), then the environment. Returns NULL with *error set (free
//  it) when a file cannot be read or a value is invalid, and when CURVE is
//  asked for but its certificate or public directory cannot be used
//  (lot_curve_check).
lot_settings_t *lot_settings_new (lot_mode_t mode, const char *config_file,
                                  char **error);

void lot_settings_destroy (lot_settings_t **self_p);

//  Logs `action: config | result: success` with every effective setting.
void lot_settings_log (const lot_settings_t *self, const char *program);

//  The address an actor binds for an endpoint: "tcp://ADDRESS:port" as it
//  is (127.0.0.1 or [::1]: loopback only; 0.0.0.0, [::] or *: every
//  interface), "tcp://NAME:port" -> "tcp://*:port" (every interface), and
//  port * -> 0 (one the kernel picks); other transports unchanged.
//  Returns a fresh string.
char *lot_endpoint_bind_form (const char *endpoint);

//  Whether a tcp:// endpoint's host is an IPv6 address ("tcp://[::1]:5560"),
//  which a socket reaches only with ZMQ_IPV6 on.
bool lot_endpoint_ipv6 (const char *endpoint);

//  Whether an endpoint, bound, takes connections from other hosts: any
//  tcp:// one but a loopback address's (127.0.0.0/8, [::1]), so every
//  interface and a name too. inproc:// and ipc:// never do.
bool lot_endpoint_exposed (const char *endpoint);

//  Parses the program's arguments: [--config PATH] [--help]. Returns 0
//  and sets *config_file (NULL when absent), 1 after printing usage,
//  -1 for bad arguments.
int lot_settings_parse_args (int argc, char *argv [], const char *usage,
                             const char **config_file);

//  Prints the settings' table (lot_options_print_help), for --help.
void lot_settings_print_help (FILE *out);

#endif
