/*  lot_server - what every server program does, in order  */
#include "lot_server.h"
#include "lot_actor.h"
#include "lot_curve.h"
#include "lot_exporter.h"
#include "lot_log.h"
#include "lot_zap.h"

#include <signal.h>
#include <sys/resource.h>

#define SIGNAL_CHECK_MSECS 100
#define FILES_SPARE 256         //  Descriptors besides the connections: files, sockets, the log
#define USAGE \
    "Reads config.ini from the working directory unless --config is given;\n" \
    "the variables below override its keys, and give the other settings\n" \
    "(docs/settings.md):\n\n"

static volatile sig_atomic_t s_interrupted;
static volatile sig_atomic_t s_reload;

static void
s_signal_handler (int signal)
{
    if (signal == SIGHUP)
        s_reload = 1;
    else
        s_interrupted = 1;
}

void
lot_server_catch_signals (void)
{
    zsys_init ();               //  Which installs czmq's handler: replaced
    zsys_handler_set (s_signal_handler);
    struct sigaction action = { .sa_handler = s_signal_handler };
    sigemptyset (&action.sa_mask);
    sigaction (SIGHUP, &action, NULL);
}

bool
lot_server_interrupted (void)
{
    return s_interrupted != 0;
}

static bool
s_agencies_part (const lot_server_part_t *parts, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (streq (parts [i].name, name))
            return parts [i].agencies;
    return false;
}

//  With METRICS_PORT, what the actors count (settings->metrics, before
//  any starts) and its HTTP endpoint. NULL when off, or (logged) when it
//  cannot listen.
static lot_exporter_t *
s_exporter_new (lot_settings_t *settings, const char *program)
{
    if (!settings->metrics_port)
        return NULL;
    char *error = NULL;
    settings->metrics = lot_metrics_new ();
    lot_exporter_t *exporter = settings->metrics
        ? lot_exporter_new ((int) settings->metrics_port, settings->metrics, &error) : NULL;
    if (exporter)
        lot_log_info ("action: metrics | result: success | program: %s | port: %ld",
                      program, settings->metrics_port);
    else {
        lot_log_error ("action: metrics | result: fail | program: %s | port: %ld"
                       " | reason: %s", program, settings->metrics_port,
                       error ? error : "out of memory");
        lot_metrics_destroy (&settings->metrics);
    }
    free (error);
    return exporter;
}

//  After the last actor: nothing counts any more.
static void
s_exporter_destroy (lot_exporter_t **exporter_p, lot_settings_t *settings)
{
    if (*exporter_p) {
        lot_exporter_destroy (exporter_p);
        lot_log_info ("action: close | result: success | resource: metrics");
    }
    lot_metrics_destroy (&settings->metrics);
}


//  Every agency connection is a descriptor, and many systems start a
//  process with 1,024 of them: the soft limit goes up to the hard one,
//  and a hard one too low for MAX_CONNECTIONS is said at start.
static void
s_raise_open_files (const lot_settings_t *settings, const char *program)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit))
        return;
    if (limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit (RLIMIT_NOFILE, &limit);
    }
    rlim_t needed = (rlim_t) settings->max_connections + FILES_SPARE;
    if (limit.rlim_cur < needed)
        lot_log_warning ("action: open_files | result: in_progress | program: %s"
                         " | limit: %llu | max_connections: %ld | reason: fewer open"
                         " files than MAX_CONNECTIONS and %d more: raise the hard"
                         " limit (ulimit -Hn, LimitNOFILE, --ulimit nofile)", program,
                         (unsigned long long) limit.rlim_cur, settings->max_connections,
                         FILES_SPARE);
}

int
lot_server_run (int argc, char *argv [], const char *program, lot_mode_t mode,
                const lot_server_part_t *parts, size_t count)
{
    //  lot_log flushes each line, or a held group of lines at once
    setvbuf (stdout, NULL, _IOFBF, 1 << 16);
    const char *config_file;
    int rc = lot_settings_parse_args (argc, argv, USAGE, &config_file);
    if (rc > 0)
        lot_settings_print_help (stdout);
    if (rc)
        return rc > 0 ? 0 : 2;
    char *error = NULL;
    lot_settings_t *settings = lot_settings_new (mode, config_file, &error);
    if (!settings) {
        lot_log_error ("action: config | result: fail | program: %s | reason: %s",
                       program, error ? error : "out of memory");
        free (error);
        return 1;
    }
    lot_settings_log (settings, program);
    s_raise_open_files (settings, program);
    lot_exporter_t *exporter = s_exporter_new (settings, program);
    if (settings->metrics_port && !exporter) {
        lot_settings_destroy (&settings);
        return 1;
    }

    lot_server_catch_signals ();
    zsys_set_logstream (NULL);      //  Our own log lines only
    //  With CURVE on, the keys let in: before any actor binds (with no ZAP
    //  handler libzmq lets every CURVE client in), gone after the last
    bool agencies = false;
    for (size_t i = 0; i < count; i++)
        agencies |= parts [i].agencies && settings->agency_auth != LOT_AUTH_OFF;
    zactor_t *zap = NULL;
    if (settings->curve_cert || agencies) {
        size_t keys = 0;
        zap = lot_zap_new (settings->curve_public_dir, agencies ? settings->agency_keys : NULL,
                           settings->agencies, &keys, &error);
        if (!zap) {
            lot_log_error ("action: curve_auth | result: fail | program: %s | reason: %s",
                           program, error ? error : "out of memory");
            free (error);
            s_exporter_destroy (&exporter, settings);
            lot_settings_destroy (&settings);
            return 1;
        }
        if (settings->curve_cert)
            lot_log_info ("action: curve_auth | result: success | program: %s"
                          " | public_dir: %s | keys: %zu", program,
                          settings->curve_public_dir, keys);
    }
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += parts [i].replicated ? (size_t) settings->handlers : 1;
    zactor_t **actors = calloc (total, sizeof *actors);
    const char **names = calloc (total, sizeof *names);
    assert (actors && names);
    size_t started = 0;
    rc = 0;
    for (size_t i = 0; i < count && rc == 0; i++) {
        size_t replicas = parts [i].replicated ? (size_t) settings->handlers : 1;
        for (size_t r = 0; r < replicas && rc == 0; r++) {
            names [started] = parts [i].name;
            actors [started] = lot_actor_start (parts [i].actor, settings);
            if (actors [started])
                started++;
            else {
                lot_log_error ("action: start | result: fail | program: %s"
                               " | actor: %s", program, parts [i].name);
                rc = 1;
            }
        }
    }
    if (rc == 0) {
        lot_log_info ("action: start | result: success | program: %s | actors: %zu",
                      program, started);
        //  Nothing is ever read from the actors: this waits for a signal.
        //  The kernel may hand SIGTERM to any thread that does not block
        //  it, an actor's among them (valgrind's scheduler does), and then
        //  this poll goes on: the flag the handler sets is what counts.
        zpoller_t *poller = zpoller_new (NULL);
        for (size_t i = 0; i < started; i++)
            zpoller_add (poller, actors [i]);
        if (zap)
            zpoller_add (poller, zap);
        while (!lot_server_interrupted ()) {
            void *which = zpoller_wait (poller, SIGNAL_CHECK_MSECS);
            if (s_reload) {
                s_reload = 0;   //  SIGHUP: the enrolled agencies again
                for (size_t i = 0; i < started && agencies; i++)
                    if (s_agencies_part (parts, count, names [i]))
                        zstr_send (actors [i], "RELOAD");
                if (agencies)
                    zstr_send (zap, "RELOAD");
            }
            else
            if (which && which == zap) {
                //  Without it libzmq would let every CURVE client in
                lot_log_error ("action: curve_auth | result: fail | program: %s"
                               " | reason: the key check ended", program);
                rc = 1;
                break;
            }
            else
            if (which || !zpoller_expired (poller))
                break;          //  An actor ended, or a signal came here
        }
        zpoller_destroy (&poller);
    }
    while (started > 0) {
        started--;
        zactor_destroy (&actors [started]);
        lot_log_info ("action: stop | result: success | actor: %s", names [started]);
    }
    free (actors);
    free (names);
    zactor_destroy (&zap);
    s_exporter_destroy (&exporter, settings);
    lot_log_info ("action: exit | result: %s | program: %s | status: %d",
                  rc == 0 ? "success" : "fail", program, rc);
    lot_settings_destroy (&settings);
    return rc;
}
