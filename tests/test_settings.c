/*  test_settings - lot_options, lot_settings (with lot_curve's checks) and lot_log

    Every test runs in tu_dir_setup's fresh directory, with every setting's
    environment variable unset and the log at INFO, and is put back.
*/
#include "lot_curve.h"
#include "lot_log.h"
#include "lot_options.h"
#include "lot_settings.h"
#include "testutil.h"

#include <setjmp.h>
#include <cmocka.h>
#include <ctype.h>

static const char *s_env_names [] = {
    "SERVER_PORT", "SERVER_IP", "SERVER_LISTEN_BACKLOG", "LOGGING_LEVEL", "AGENCIES",
    "HANDLERS", "BETS_FILE", "BETS_FSYNC", "BETS_JOURNAL", "MAX_CHUNK_BYTES", "MAX_IN_FLIGHT",
    "MAX_CONNECTIONS", "IDLE_TIMEOUT", "MESSAGE_TIMEOUT", "QUERIES_PER_AGENCY", "QUEUE_LIMIT",
    "ANNOUNCE_INTERVAL", "LOG_SETTLE", "RESEND_TIMEOUT", "SEND_TIMEOUT", "WORK_ENDPOINT",
    "RECORDS_ENDPOINT", "RESULTS_ENDPOINT", "EVENTS_ENDPOINT", "WINNERS_ENDPOINT",
    "BROKER_ENDPOINT", "ACTORS_INSECURE", "CURVE_CERT", "CURVE_PUBLIC_DIR",
    "LOT_TEST_INT", "LOT_TEST_BOOL", "LOT_TEST_STRING", "LOT_TEST_LEVEL", "LOT_TEST_DURATION"
};

static void
s_reset (void)
{
    for (size_t i = 0; i < sizeof s_env_names / sizeof s_env_names [0]; i++)
        unsetenv (s_env_names [i]);
    lot_log_set_level (LOT_LOG_INFO);
}

static int
s_setup (void **state)
{
    s_reset ();
    return tu_dir_setup (state);
}

static int
s_teardown (void **state)
{
    s_reset ();
    tu_case_teardown (state);
    return tu_dir_teardown (state);
}

#define S_TEST(f) cmocka_unit_test_setup_teardown (f, s_setup, s_teardown)

static void
s_write (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    assert_non_null (file);
    assert_int_equal (fputs (text, file) >= 0, 1);
    assert_int_equal (fclose (file), 0);
}

//  The course's config.ini, exactly
static const char *s_course_ini =
    "[DEFAULT]\n"
    "SERVER_PORT = 12345\n"
    "SERVER_IP = server\n"
    "SERVER_LISTEN_BACKLOG = 5\n"
    "LOGGING_LEVEL = INFO\n";

static lot_settings_t *
s_new (lot_mode_t mode, const char *config_file)
{
    char *error = NULL;
    lot_settings_t *settings = lot_settings_new (mode, config_file, &error);
    if (!settings)
        fail_msg ("lot_settings_new: %s", error ? error : "(no error)");
    assert_null (error);
    return settings;
}

//  Expects lot_settings_new to fail with exactly this error.
static void
s_expect_error (const char *config_file, const char *expected)
{
    char *error = NULL;
    lot_settings_t *settings = lot_settings_new (LOT_MODE_EMBEDDED, config_file, &error);
    if (settings || !error || strcmp (error, expected))
        fail_msg ("got %s, expected '%s'", settings ? "settings" : error ? error : "no error",
                  expected);
    free (error);
}

//  The config line lot_settings_log writes for settings, its newline
//  made " |"; the log is at INFO after it, whatever level they set.
static char *
s_config_line (const lot_settings_t *settings)
{
    lot_log_set_level (LOT_LOG_INFO);
    tu_capture_t capture = tu_capture_begin (1, "out.txt");
    lot_settings_log (settings, "lottery-test");
    char *out = tu_capture_end (capture);
    char *line = tu_printf ("%.*s |", (int) strcspn (out, "\n"), out);
    free (out);
    return line;
}

//  Loads settings and checks that the config line shows each of shown
//  ("name: value", up to NULL) exactly; returns them.
static lot_settings_t *
s_new_showing (lot_mode_t mode, const char *config_file, const char *const shown [])
{
    lot_settings_t *settings = s_new (mode, config_file);
    char *line = s_config_line (settings);
    for (size_t i = 0; shown [i]; i++) {
        char *field = tu_printf (" | %s |", shown [i]);
        if (!strstr (line, field))
            fail_msg ("the config line lacks '%s':\n%s", field, line);
        free (field);
    }
    free (line);
    return settings;
}

//  --------------------------------------------------------------------------
//  Defaults, config.ini, the environment

static void
test_defaults (void **)
{
    lot_settings_t *settings = s_new (LOT_MODE_EMBEDDED, NULL);
    assert_int_equal (settings->port, 12345);
    assert_string_equal (settings->server_ip, "server");
    assert_int_equal (settings->listen_backlog, 5);
    assert_int_equal (settings->logging_level, LOT_LOG_INFO);
    assert_int_equal (settings->agencies, 5);
    assert_int_equal (settings->handlers, 2);
    assert_string_equal (settings->bets_file, "./bets.csv");
    assert_true (settings->bets_fsync);
    assert_string_equal (settings->bets_journal, "./bets.csv.journal");
    assert_int_equal (settings->max_chunk_bytes, 8192);
    assert_int_equal (settings->max_in_flight, 16);
    assert_int_equal (settings->queue_limit, 1000);
    assert_int_equal (settings->announce_interval, 1000);
    assert_string_equal (settings->work_endpoint, "inproc://work");
    assert_string_equal (settings->records_endpoint, "inproc://records");
    assert_string_equal (settings->results_endpoint, "inproc://results");
    assert_string_equal (settings->events_endpoint, "inproc://events");
    assert_string_equal (settings->winners_endpoint, "inproc://winners");
    lot_settings_destroy (&settings);
    assert_null (settings);
    lot_settings_destroy (&settings);

    settings = s_new (LOT_MODE_DISTRIBUTED, NULL);
    assert_int_equal (settings->port, 12345);
    assert_int_equal (settings->agencies, 5);
    assert_int_equal (settings->handlers, 2);
    assert_string_equal (settings->bets_file, "./bets.csv");
    assert_string_equal (settings->work_endpoint, "tcp://127.0.0.1:5560");
    assert_string_equal (settings->records_endpoint, "tcp://127.0.0.1:5561");
    assert_string_equal (settings->results_endpoint, "tcp://127.0.0.1:5562");
    assert_string_equal (settings->events_endpoint, "tcp://127.0.0.1:5563");
    assert_string_equal (settings->winners_endpoint, "tcp://127.0.0.1:5564");
    assert_false (settings->actors_insecure);
    lot_settings_destroy (&settings);
    //  And embedded again: the mode's defaults do not leak between calls
    settings = s_new (LOT_MODE_EMBEDDED, NULL);
    assert_string_equal (settings->work_endpoint, "inproc://work");
    lot_settings_destroy (&settings);
}

static void
test_config_file (void **)
{
    //  The course's file, as ./config.ini (the default) and by path
    s_write ("config.ini", s_course_ini);
    lot_settings_t *settings = s_new_showing (LOT_MODE_EMBEDDED, NULL, (const char *[]) {
        "port: 12345", "server_ip: server", "listen_backlog: 5", "logging_level: INFO", NULL });
    lot_settings_destroy (&settings);

    //  Other values: every key is really read, the level is applied to the
    //  log, and keys the file does not hold keep their defaults
    s_write ("other.ini", "[DEFAULT]\nSERVER_PORT = 23456\nSERVER_IP = lottery.example\n"
                          "SERVER_LISTEN_BACKLOG = 64\nLOGGING_LEVEL = DEBUG\n");
    char *path = tu_printf ("%s/other.ini", tu_dir ());
    settings = s_new (LOT_MODE_EMBEDDED, path);
    assert_true (lot_log_enabled (LOT_LOG_DEBUG));
    lot_settings_destroy (&settings);
    settings = s_new_showing (LOT_MODE_EMBEDDED, path, (const char *[]) {
        "port: 23456", "server_ip: lottery.example", "listen_backlog: 64",
        "logging_level: DEBUG", "agencies: 5", "bets_file: ./bets.csv", NULL });
    free (path);
    lot_settings_destroy (&settings);

    //  An explicit file wins over ./config.ini, which is then not read
    settings = s_new_showing (LOT_MODE_EMBEDDED, "other.ini", (const char *[]) {
        "port: 23456", NULL });
    lot_settings_destroy (&settings);

    //  Unknown keys are left alone, keys are case-insensitive, comments
    //  and other settings in the file are taken too
    s_write ("config.ini", "; the course file, and more\n[DEFAULT]\nserver_port = 4000\n"
                           "# a comment\nSOMETHING_ELSE = 1\nAGENCIES = 3\n"
                           "BETS_FILE = /data/bets.csv\nBETS_FSYNC = off\n"
                           "ANNOUNCE_INTERVAL = 250ms\n");
    settings = s_new_showing (LOT_MODE_EMBEDDED, NULL, (const char *[]) {
        "port: 4000", "agencies: 3", "bets_file: /data/bets.csv", "bets_fsync: false",
        "announce_interval: 250ms", NULL });
    lot_settings_destroy (&settings);
}

static void
test_env_overrides_file (void **)
{
    s_write ("config.ini", s_course_ini);
    static const char *env [][2] = {
        { "SERVER_PORT", "5000" }, { "SERVER_IP", "other-host" }, { "LOGGING_LEVEL", "warning" },
        { "AGENCIES", "0" }, { "HANDLERS", "8" }, { "BETS_FILE", "/tmp/x.csv" },
        { "BETS_FSYNC", "false" }, { "ANNOUNCE_INTERVAL", "2s" },
        { "RECORDS_ENDPOINT", "tcp://persister:5561" }, { "ACTORS_INSECURE", "true" },
    };
    for (size_t i = 0; i < sizeof env / sizeof env [0]; i++)
        setenv (env [i][0], env [i][1], 1);
    lot_settings_t *settings = s_new (LOT_MODE_EMBEDDED, NULL);
    assert_false (lot_log_enabled (LOT_LOG_INFO));
    lot_settings_destroy (&settings);
    settings = s_new_showing (LOT_MODE_EMBEDDED, NULL, (const char *[]) {
        "port: 5000", "server_ip: other-host", "listen_backlog: 5",    //  From the file
        "logging_level: WARNING", "agencies: 0", "handlers: 8", "bets_file: /tmp/x.csv",
        "bets_fsync: false", "announce_interval: 2000ms",
        "records_endpoint: tcp://persister:5561", "work_endpoint: inproc://work",
        "actors_insecure: true", NULL });
    lot_settings_destroy (&settings);

    //  Environment without a file
    unlink ("config.ini");
    settings = s_new_showing (LOT_MODE_DISTRIBUTED, NULL, (const char *[]) {
        "port: 5000", "work_endpoint: tcp://127.0.0.1:5560", NULL });
    lot_settings_destroy (&settings);
}

//  Where a value is set: config.ini, the environment, or each in turn
enum { IN_FILE = 1, IN_ENV = 2, IN_BOTH = 3 };

#define S_PORT "an integer from 0 to 65535"
#define S_LEVEL "DEBUG, INFO, WARNING, ERROR or CRITICAL"
#define S_DURATION "a duration such as 500ms, 5s or 1m, within limits"

//  Invalid values, and what the error expects instead: each error is
//  "NAME (NAME) is 'value': expected ..."
static const struct { int where; const char *name, *value, *expected; } s_invalid [] = {
    { IN_BOTH, "SERVER_PORT", "-1", S_PORT }, { IN_BOTH, "SERVER_PORT", "70000", S_PORT },
    { IN_BOTH, "SERVER_PORT", "abc", S_PORT }, { IN_ENV, "SERVER_PORT", "12345x", S_PORT },
    { IN_ENV, "SERVER_PORT", "", S_PORT }, { IN_ENV, "SERVER_PORT", "99999999999999999999", S_PORT },
    { IN_FILE, "LOGGING_LEVEL", "VERBOSE", S_LEVEL }, { IN_ENV, "LOGGING_LEVEL", "TRACE", S_LEVEL },
    { IN_ENV, "AGENCIES", "-1", S_PORT }, { IN_ENV, "HANDLERS", "0", "an integer from 1 to 256" },
    { IN_ENV, "BETS_FILE", "", "a non-empty value" },
    { IN_ENV, "BETS_FSYNC", "maybe", "true or false" },
    { IN_ENV, "ANNOUNCE_INTERVAL", "5x", S_DURATION },
    { IN_ENV, "ANNOUNCE_INTERVAL", "nan", S_DURATION },
    { IN_ENV, "ANNOUNCE_INTERVAL", "1e300s", S_DURATION },
    { IN_ENV, "MAX_CHUNK_BYTES", "63", "an integer from 64 to 1048576" },
    { IN_ENV, "MAX_IN_FLIGHT", "0", "an integer from 1 to 1024" },
    { IN_ENV, "WORK_ENDPOINT", "", "a non-empty value" },
};

static void
test_invalid_values (void **)
{
    for (size_t i = 0; i < sizeof s_invalid / sizeof s_invalid [0]; i++) {
        tu_case ("%s = '%s'", s_invalid [i].name, s_invalid [i].value);
        char *error = tu_printf ("%s (%s) is '%s': expected %s", s_invalid [i].name,
                                 s_invalid [i].name, s_invalid [i].value, s_invalid [i].expected);
        if (s_invalid [i].where & IN_FILE) {
            char *ini = tu_printf ("[DEFAULT]\n%s = %s\n", s_invalid [i].name, s_invalid [i].value);
            s_write ("config.ini", ini);
            free (ini);
            s_expect_error (NULL, error);
            unlink ("config.ini");
        }
        if (s_invalid [i].where & IN_ENV) {
            setenv (s_invalid [i].name, s_invalid [i].value, 1);
            s_expect_error (NULL, error);
            unsetenv (s_invalid [i].name);
        }
        free (error);
    }
    tu_case_done ();
    //  Two bad values: the first one is reported (its line is inih's)
    s_write ("config.ini", "[DEFAULT]\nSERVER_PORT = -5\nLOGGING_LEVEL = LOUD\n");
    s_expect_error (NULL, "SERVER_PORT (SERVER_PORT) is '-5': expected " S_PORT);
    //  A line that is no key = value
    s_write ("other.ini", "[DEFAULT]\nSERVER_PORT = 1\nthis is not ini\n");
    s_expect_error ("other.ini", "other.ini: syntax error on line 3");
    s_write ("config.ini", "[DEFAULT\n");
    s_expect_error (NULL, "config.ini: syntax error on line 1");
    //  A missing explicit file is an error (no ./config.ini: test_defaults),
    //  even when ./config.ini exists
    unlink ("config.ini");
    char *path = tu_printf ("%s/nope.ini", tu_dir ());
    char *expected = tu_printf ("cannot read %s: No such file or directory", path);
    s_expect_error (path, expected);
    free (path);
    free (expected);
    s_expect_error ("nope.ini", "cannot read nope.ini: No such file or directory");
    s_write ("config.ini", s_course_ini);
    s_expect_error ("nope.ini", "cannot read nope.ini: No such file or directory");
    //  An invalid environment value fails even over a valid file
    setenv ("SERVER_PORT", "70000", 1);
    s_expect_error (NULL, "SERVER_PORT (SERVER_PORT) is '70000': expected " S_PORT);
}

//  --------------------------------------------------------------------------
//  Endpoints, arguments

//  What an actor binds for each endpoint, whether other hosts reach it,
//  and whether its socket needs IPv6: an address as it is, a name every
//  interface.
static void
test_endpoint_bind_form (void **)
{
    struct { const char *in, *out; bool exposed, ipv6; } cases [] = {
        { "tcp://persister:5561", "tcp://*:5561", true, false },
        { "tcp://127.0.0.1:5560", "tcp://127.0.0.1:5560", false, false },
        { "tcp://127.0.0.2:5560", "tcp://127.0.0.2:5560", false, false },
        { "tcp://127.255.255.254:1", "tcp://127.255.255.254:1", false, false },
        { "tcp://*:5562", "tcp://*:5562", true, false },
        { "tcp://0.0.0.0:5562", "tcp://0.0.0.0:5562", true, false },
        { "tcp://10.0.1.9:5562", "tcp://10.0.1.9:5562", true, false },
        { "tcp://128.0.0.1:5562", "tcp://128.0.0.1:5562", true, false },
        { "tcp://[::1]:5563", "tcp://[::1]:5563", false, true },
        { "tcp://[::]:5563", "tcp://[::]:5563", true, true },
        { "tcp://[fd00::9]:5563", "tcp://[fd00::9]:5563", true, true },
        { "tcp://[not an address]:5563", "tcp://*:5563", true, true },
        { "tcp://localhost:5563", "tcp://*:5563", true, false },
        { "tcp://127.1:5563", "tcp://*:5563", true, false },
        { "tcp://127.0.0.1:*", "tcp://127.0.0.1:0", false, false },
        { "tcp://*:*", "tcp://*:0", true, false },
        { "tcp://persister:0", "tcp://*:0", true, false },
        { "tcp://:5560", "tcp://*:5560", true, false },
        { "inproc://records", "inproc://records", false, false },
        { "ipc:///tmp/lot.sock", "ipc:///tmp/lot.sock", false, false },
        { "tcp://nohost", "tcp://nohost", false, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        tu_case ("%s", cases [i].in);
        char *bind = lot_endpoint_bind_form (cases [i].in);
        assert_non_null (bind);
        assert_string_equal (bind, cases [i].out);
        assert_ptr_not_equal (bind, cases [i].in);
        free (bind);
        assert_int_equal (lot_endpoint_exposed (cases [i].in), cases [i].exposed);
        assert_int_equal (lot_endpoint_ipv6 (cases [i].in), cases [i].ipv6);
    }
    tu_case_done ();
}

static void
test_parse_args (void **)
{
    const char *config = "unchanged";
    char *none [] = { "prog", NULL };
    assert_int_equal (lot_settings_parse_args (1, none, "", &config), 0);
    assert_null (config);
    char *with [] = { "prog", "--config", "/etc/lot.ini", NULL };
    assert_int_equal (lot_settings_parse_args (3, with, "", &config), 0);
    assert_string_equal (config, "/etc/lot.ini");

    tu_capture_t capture = tu_capture_begin (1, "out.txt");
    char *help [] = { "prog", "--help", NULL };
    int rc = lot_settings_parse_args (2, help, "  options here\n", &config);
    char *out = tu_capture_end (capture);
    assert_int_equal (rc, 1);
    assert_string_equal (out, "Usage: prog [--config PATH]\n  options here\n");
    free (out);

    capture = tu_capture_begin (2, "err.txt");
    char *bad [] = { "prog", "--bogus", NULL };
    int rc_bad = lot_settings_parse_args (2, bad, "", &config);
    char *missing [] = { "prog", "--config", NULL };
    int rc_missing = lot_settings_parse_args (2, missing, "", &config);
    char *err = tu_capture_end (capture);
    assert_int_equal (rc_bad, -1);
    assert_int_equal (rc_missing, -1);
    assert_string_equal (err, "prog: unexpected argument '--bogus' (try --help)\n"
                              "prog: unexpected argument '--config' (try --help)\n");
    free (err);
}

//  --------------------------------------------------------------------------
//  Log lines

//  Checks "YYYY-MM-DD HH:MM:SS " at the start of line, within a few
//  seconds of [before, after]; returns what follows.
static const char *
s_assert_timestamp (const char *line, time_t before, time_t after)
{
    assert_true (strlen (line) >= 20);
    const char *shape = "0000-00-00 00:00:00 ";       //  0: a digit
    for (int i = 0; i < 20; i++)
        if (shape [i] == '0')
            assert_true (isdigit ((unsigned char) line [i]));
        else
            assert_int_equal (line [i], shape [i]);
    struct tm tm = { 0 };
    assert_non_null (strptime (line, "%Y-%m-%d %H:%M:%S", &tm));
    tm.tm_isdst = -1;
    time_t when = mktime (&tm);
    assert_true (when >= before - 1);
    assert_true (when <= after + 1);
    return line + 20;
}

static void
test_log_lines (void **)
{
    //  INFO by default (setup sets it, as a fresh process has it)
    assert_false (lot_log_enabled (LOT_LOG_DEBUG));
    assert_true (lot_log_enabled (LOT_LOG_INFO));
    assert_true (lot_log_enabled (LOT_LOG_CRITICAL));
    time_t before = time (NULL);
    tu_capture_t capture = tu_capture_begin (1, "out.txt");
    lot_log_info ("action: sorteo | result: success");
    lot_log_warning ("action: w | result: fail | n: %d", 7);
    lot_log_error ("action: e | result: fail");
    lot_log (LOT_LOG_CRITICAL, "action: c | result: fail");
    lot_log_debug ("action: hidden | result: success");
    lot_log_set_level (LOT_LOG_WARNING);
    lot_log_info ("action: hidden | result: success");
    lot_log_warning ("action: shown | result: success");
    lot_log_set_level (LOT_LOG_DEBUG);
    lot_log_debug ("action: debug | result: success | dni: %s", "30170921");
    char *out = tu_capture_end (capture);
    time_t after = time (NULL);
    //  DEBUG is filtered at INFO, INFO at WARNING
    const char *expected [] = {
        "INFO     action: sorteo | result: success\n",
        "WARNING  action: w | result: fail | n: 7\n",
        "ERROR    action: e | result: fail\n",
        "CRITICAL action: c | result: fail\n",
        "WARNING  action: shown | result: success\n",
        "DEBUG    action: debug | result: success | dni: 30170921\n",
    };
    const char *line = out;
    for (size_t i = 0; i < sizeof expected / sizeof expected [0]; i++) {
        const char *rest = s_assert_timestamp (line, before, after);
        assert_memory_equal (rest, expected [i], strlen (expected [i]));
        line = rest + strlen (expected [i]);
    }
    assert_string_equal (line, "");
    free (out);

    //  A long line: one whole line of 4095 bytes, cut short, then the next
    char text [5001];
    memset (text, 'x', 5000);
    text [5000] = 0;
    capture = tu_capture_begin (1, "out.txt");
    lot_log_info ("action: long | result: success | text: %s", text);
    lot_log_info ("action: after | result: success");
    out = tu_capture_end (capture);
    const char *newline = strchr (out, '\n');
    assert_non_null (newline);
    assert_int_equal (newline - out, 4094);
    assert_memory_equal (out + 20, "INFO     action: long | result: success | text: xxx", 51);
    for (const char *p = out + 20 + 48; p < newline; p++)
        assert_int_equal (*p, 'x');
    const char *rest = s_assert_timestamp (newline + 1, time (NULL) - 5, time (NULL));
    assert_string_equal (rest, "INFO     action: after | result: success\n");
    free (out);
}

static void
test_log_levels (void **)
{
    lot_log_level_t level = 0;
    struct { const char *name; lot_log_level_t level; } names [] = {
        //  Each level's own name first: lot_log_level_name gives it back
        { "DEBUG", LOT_LOG_DEBUG }, { "INFO", LOT_LOG_INFO }, { "WARNING", LOT_LOG_WARNING },
        { "ERROR", LOT_LOG_ERROR }, { "CRITICAL", LOT_LOG_CRITICAL },
        { "debug", LOT_LOG_DEBUG }, { "Info", LOT_LOG_INFO }, { "warning", LOT_LOG_WARNING },
    };
    for (size_t i = 0; i < sizeof names / sizeof names [0]; i++) {
        assert_int_equal (lot_log_level_parse (names [i].name, &level), 0);
        assert_int_equal (level, names [i].level);
        if (i < 5)
            assert_string_equal (lot_log_level_name (level), names [i].name);
    }
    level = LOT_LOG_ERROR;
    const char *bad [] = { "", "WARN", "INFO ", "verbose", "10" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++)
        assert_int_equal (lot_log_level_parse (bad [i], &level), -1);
    assert_int_equal (level, LOT_LOG_ERROR);
}

//  --------------------------------------------------------------------------
//  The `action: config` line

//  What graders do: after "action:", split on '|'; each field is
//  "key: value" and the result is success.
static void
s_assert_grader_shape (const char *line)
{
    const char *action = strstr (line, "action: ");
    assert_non_null (action);
    char *copy = strdup (action);
    char *newline = strchr (copy, '\n');
    if (newline)
        *newline = 0;
    int field = 0;
    char *save = NULL;
    for (char *part = strtok_r (copy, "|", &save); part; part = strtok_r (NULL, "|", &save)) {
        //  " key: value " with the key lower snake case
        char *p = part;
        if (field > 0) {
            assert_int_equal (*p, ' ');
            p++;
        }
        char *colon = strstr (p, ": ");
        assert_non_null (colon);
        for (char *k = p; k < colon; k++)
            assert_true (islower ((unsigned char) *k) || *k == '_');
        assert_true (strlen (colon + 2) > 0);
        if (field == 1)
            assert_string_equal (part, " result: success ");
        field++;
    }
    assert_true (field > 2);
    free (copy);
}

static void
test_config_line (void **)
{
    lot_settings_t *settings = s_new (LOT_MODE_EMBEDDED, NULL);
    time_t before = time (NULL);
    tu_capture_t capture = tu_capture_begin (1, "out.txt");
    lot_settings_log (settings, "lottery-server");
    char *out = tu_capture_end (capture);
    const char *rest = s_assert_timestamp (out, before, time (NULL));
    assert_string_equal (rest,
        "INFO     action: config | result: success | program: lottery-server"
        " | port: 12345 | server_ip: server | listen_backlog: 5"
        " | logging_level: INFO | agencies: 5 | handlers: 2"
        " | bets_file: ./bets.csv | bets_fsync: true"
        " | bets_journal: ./bets.csv.journal | max_chunk_bytes: 8192"
        " | max_in_flight: 16 | max_connections: 1024 | idle_timeout: 30000ms | message_timeout: 10000ms"
        " | queries_per_agency: 4"
        " | queue_limit: 1000 | announce_interval: 1000ms | log_settle: 0ms | resend_timeout: 5000ms"
        " | send_timeout: 1000ms"
        " | work_endpoint: inproc://work | records_endpoint: inproc://records"
        " | results_endpoint: inproc://results | events_endpoint: inproc://events"
        " | winners_endpoint: inproc://winners | broker_endpoint: inproc://broker"
        " | actors_insecure: false | curve_cert: none | curve_public_dir: none"
        " | agency_auth: off | secure_port: 12346 | agency_cert: none | agency_keys: none\n");
    s_assert_grader_shape (out);
    free (out);
    lot_settings_destroy (&settings);

    //  Effective values, after file and environment
    s_write ("config.ini", "[DEFAULT]\nSERVER_PORT = 7000\nLOGGING_LEVEL = WARNING\n");
    setenv ("AGENCIES", "3", 1);
    setenv ("BETS_FILE", "/data/b.csv", 1);
    settings = s_new (LOT_MODE_DISTRIBUTED, NULL);
    //  At WARNING the config line (INFO) is not written
    capture = tu_capture_begin (1, "out.txt");
    lot_settings_log (settings, "lottery-persister");
    lot_log_set_level (LOT_LOG_INFO);
    lot_settings_log (settings, "lottery-persister");
    out = tu_capture_end (capture);
    assert_non_null (strstr (out, " | port: 7000 | "));
    assert_non_null (strstr (out, " | logging_level: WARNING | agencies: 3 | handlers: 2"
                                  " | bets_file: /data/b.csv | "));
    assert_non_null (strstr (out, " | work_endpoint: tcp://127.0.0.1:5560 | "));
    assert_non_null (strstr (out, "action: config | result: success | program: lottery-persister | "));
    assert_int_equal (strchr (out, '\n') - out + 1, (long) strlen (out));   //  One line
    s_assert_grader_shape (out);
    free (out);
    lot_settings_destroy (&settings);
}

//  --------------------------------------------------------------------------
//  lot_options with a table of every type

typedef struct {
    long count;
    bool flag;
    char *name;
    lot_log_level_t level;
    long wait;
} sample_t;

static const lot_option_t s_sample [] = {
    { "COUNT", "LOT_TEST_INT", "count", LOT_OPTION_INT, offsetof (sample_t, count), "3", -10, 10, NULL },
    { "FLAG", "LOT_TEST_BOOL", "flag", LOT_OPTION_BOOL, offsetof (sample_t, flag), "yes", 0, 0, NULL },
    { "NAME", "LOT_TEST_STRING", "name", LOT_OPTION_STRING, offsetof (sample_t, name), "abc", 0, 0, NULL },
    { "LEVEL", "LOT_TEST_LEVEL", "level", LOT_OPTION_LEVEL, offsetof (sample_t, level), "WARNING", 0, 0, NULL },
    { "WAIT", "LOT_TEST_DURATION", "wait", LOT_OPTION_DURATION, offsetof (sample_t, wait), "250ms", 0, 86400000,
      "how long" },
};
#define SAMPLE_COUNT (sizeof s_sample / sizeof s_sample [0])

static char *
s_help (const lot_option_t *table, size_t count)
{
    char *text;
    size_t size;
    FILE *out = open_memstream (&text, &size);
    lot_options_print_help (table, count, out);
    fclose (out);
    return text;
}

static int
s_set (sample_t *sample, const char *key, const char *value, char **error)
{
    return lot_options_set (s_sample, SAMPLE_COUNT, sample, key, value, error);
}

static void
test_options_table (void **)
{
    sample_t sample = { 0 };
    assert_int_equal (lot_options_defaults (s_sample, SAMPLE_COUNT, &sample), 0);
    assert_int_equal (sample.count, 3);
    assert_true (sample.flag);
    assert_string_equal (sample.name, "abc");
    assert_int_equal (sample.level, LOT_LOG_WARNING);
    assert_int_equal (sample.wait, 250);
    char *text = lot_options_describe (s_sample, SAMPLE_COUNT, &sample);
    assert_string_equal (text, " | count: 3 | flag: true | name: abc | level: WARNING | wait: 250ms");
    free (text);
    //  --help: a Markdown row each, with the file's key where it differs
    text = s_help (s_sample, 2);
    assert_string_equal (text, "| variable | config key | default | what |\n|---|---|---|---|\n"
                               "| `LOT_TEST_INT` | `COUNT` | 3 |  |\n"
                               "| `LOT_TEST_BOOL` | `FLAG` | yes |  |\n");
    free (text);
    lot_option_t same = s_sample [4];
    same.file_key = same.env;
    text = s_help (&same, 1);
    assert_string_equal (text, "| variable | default | what |\n|---|---|---|\n"
                               "| `LOT_TEST_DURATION` | 250ms | how long |\n");
    free (text);

    char *error = NULL;
    assert_int_equal (s_set (&sample, "count", "-10", &error), 0);
    assert_int_equal (sample.count, -10);
    assert_int_equal (s_set (&sample, "Count", "10", &error), 0);
    assert_int_equal (sample.count, 10);
    assert_int_equal (s_set (&sample, "COUNT", "11", &error), -1);
    assert_string_equal (error, "COUNT (LOT_TEST_INT) is '11': expected an integer from -10 to 10");
    free (error);
    error = NULL;
    assert_int_equal (sample.count, 10);
    assert_int_equal (s_set (&sample, "nope", "1", &error), 1);
    assert_null (error);

    //  Booleans
    const char *yes [] = { "1", "true", "TRUE", "yes", "On" };
    const char *no [] = { "0", "false", "No", "off", "OFF" };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal (s_set (&sample, "FLAG", no [i], &error), 0);
        assert_false (sample.flag);
        assert_int_equal (s_set (&sample, "FLAG", yes [i], &error), 0);
        assert_true (sample.flag);
    }
    assert_int_equal (s_set (&sample, "FLAG", "2", &error), -1);
    free (error);

    //  Durations
    struct { const char *text; long ms; } durations [] = {
        { "250ms", 250 }, { "5s", 5000 }, { "2m", 120000 }, { "1h", 3600000 },
        { "100", 100 }, { "1.5s", 1500 }, { "0", 0 }, { "0.0004s", 0 },
    };
    for (size_t i = 0; i < sizeof durations / sizeof durations [0]; i++) {
        assert_int_equal (s_set (&sample, "WAIT", durations [i].text, &error), 0);
        assert_int_equal (sample.wait, durations [i].ms);
    }
    const char *bad_durations [] = { "5x", "-1s", "", "s", "5 s", "2d", "nan", "inf", "1e30h", "25h" };
    for (size_t i = 0; i < sizeof bad_durations / sizeof bad_durations [0]; i++) {
        error = NULL;
        assert_int_equal (s_set (&sample, "WAIT", bad_durations [i], &error), -1);
        assert_non_null (error);
        assert_non_null (strstr (error, "WAIT (LOT_TEST_DURATION) is '"));
        free (error);
        assert_int_equal (sample.wait, 0);      //  Unchanged on failure
    }

    //  Strings are owned: a value replaces the old one
    assert_int_equal (s_set (&sample, "NAME", "", &error), 0);
    assert_string_equal (sample.name, "");
    assert_int_equal (s_set (&sample, "NAME", "x y", &error), 0);
    assert_string_equal (sample.name, "x y");

    //  The environment overrides
    setenv ("LOT_TEST_INT", "-3", 1);
    setenv ("LOT_TEST_LEVEL", "critical", 1);
    setenv ("LOT_TEST_DURATION", "1m", 1);
    error = NULL;
    assert_int_equal (lot_options_apply_env (s_sample, SAMPLE_COUNT, &sample, &error), 0);
    assert_null (error);
    text = lot_options_describe (s_sample, SAMPLE_COUNT, &sample);
    assert_string_equal (text, " | count: -3 | flag: true | name: x y | level: CRITICAL | wait: 60000ms");
    free (text);
    setenv ("LOT_TEST_BOOL", "perhaps", 1);
    assert_int_equal (lot_options_apply_env (s_sample, SAMPLE_COUNT, &sample, &error), -1);
    assert_string_equal (error, "FLAG (LOT_TEST_BOOL) is 'perhaps': expected true or false");
    free (error);

    lot_options_free (s_sample, SAMPLE_COUNT, &sample);
    assert_null (sample.name);

    //  A table whose default does not parse is a bug the call reports
    lot_option_t broken = s_sample [0];
    broken.fallback = "eleven";
    assert_int_equal (lot_options_defaults (&broken, 1, &sample), -1);
}

//  --------------------------------------------------------------------------
//  CURVE: both settings or neither, each checked at start

//  Makes a certificate per actor kind in ./keys, as bin/lottery-keys does.
static void
s_make_keys (const char *dir)
{
    for (size_t i = 0; lot_curve_kinds [i]; i++) {
        char *error = NULL;
        if (lot_curve_make (dir, lot_curve_kinds [i], &error))
            fail_msg ("lot_curve_make: %s", error ? error : "out of memory");
    }
}

//  Expects lot_settings_new to fail with exactly expected under these
//  CURVE settings.
static void
s_expect_curve_error (const char *cert, const char *public_dir, const char *expected)
{
    setenv ("CURVE_CERT", cert, 1);
    setenv ("CURVE_PUBLIC_DIR", public_dir, 1);
    s_expect_error (NULL, expected);
}

static void
test_curve_settings (void **)
{
    //  Off: unset, then empty
    lot_settings_t *settings;
    for (int round = 0; round < 2; round++) {
        settings = s_new (LOT_MODE_DISTRIBUTED, NULL);
        assert_null (settings->curve_cert);
        assert_null (settings->curve_public_dir);
        lot_settings_destroy (&settings);
        setenv ("CURVE_CERT", "", 1);
        setenv ("CURVE_PUBLIC_DIR", "", 1);
    }

    //  On: the secret file, or the pair's name (as zcert_load takes it);
    //  the config line shows the paths, never a key
    s_make_keys ("keys");
    const char *certs [] = { "keys/secret/persister_secret", "keys/secret/persister" };
    for (size_t i = 0; i < 2; i++) {
        setenv ("CURVE_CERT", certs [i], 1);
        setenv ("CURVE_PUBLIC_DIR", "keys/public", 1);
        settings = s_new (LOT_MODE_DISTRIBUTED, NULL);
        assert_string_equal (settings->curve_cert, certs [i]);
        assert_string_equal (settings->curve_public_dir, "keys/public");
        tu_capture_t capture = tu_capture_begin (1, "out.txt");
        lot_settings_log (settings, "lottery-persister");
        char *out = tu_capture_end (capture);
        char *expected = tu_printf (" | curve_cert: %s | curve_public_dir: keys/public | ",
                                    certs [i]);
        assert_non_null (strstr (out, expected));
        assert_null (strstr (out, "key = "));
        s_assert_grader_shape (out);
        free (expected);
        free (out);
        lot_settings_destroy (&settings);
    }
    //  Also from config.ini, like every setting
    unsetenv ("CURVE_CERT");
    unsetenv ("CURVE_PUBLIC_DIR");
    s_write ("config.ini", "[DEFAULT]\nCURVE_CERT = keys/secret/handler_secret\n"
                           "CURVE_PUBLIC_DIR = keys/public\n");
    settings = s_new (LOT_MODE_DISTRIBUTED, NULL);
    assert_string_equal (settings->curve_cert, "keys/secret/handler_secret");
    lot_settings_destroy (&settings);
    unlink ("config.ini");

    //  Files that are no certificate, a directory that holds none
    s_write ("no-key", "metadata\n    name = \"x\"\n");
    s_write ("short-key", "curve\n    public-key = \"short\"\n    secret-key = \"short\"\n");
    //  40 characters, but not Z85
    s_write ("bad-key", "curve\n    public-key = \"~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\"\n");
    assert_int_equal (mkdir ("empty", 0755), 0);
    s_write ("empty/README", "the certificates go here, as NAME.pub\n");
    const char *together = "CURVE_CERT and CURVE_PUBLIC_DIR go together: set both, or neither";
    const char *cert = "keys/secret/frontend_secret", *pub = "keys/public";
    const struct { const char *cert, *dir, *error; } cases [] = {
        //  One without the other is a mistake, not CURVE off
        { cert, "", together }, { "", pub, together },
        //  A certificate that cannot be used
        { "keys/secret/nope", pub, "CURVE_CERT: cannot read keys/secret/nope: No such file or directory" },
        { "keys/public/frontend.pub", pub,
          "CURVE_CERT: keys/public/frontend.pub holds no secret key (a public certificate?)" },
        { "keys", pub, "CURVE_CERT: keys is not a certificate file" },
        { "no-key", pub, "CURVE_CERT: no-key is not a certificate (zcert_save format)" },
        { "short-key", pub, "CURVE_CERT: short-key is not a certificate (zcert_save format)" },
        { "bad-key", pub, "CURVE_CERT: bad-key is not a certificate (zcert_save format)" },
        //  A directory that cannot be used
        { cert, "nowhere", "CURVE_PUBLIC_DIR: cannot read nowhere: No such file or directory" },
        { cert, "keys/public/frontend.pub",
          "CURVE_PUBLIC_DIR: cannot read keys/public/frontend.pub: Not a directory" },
        { cert, "empty", "CURVE_PUBLIC_DIR: empty holds no certificate (NAME.pub)" },
        //  The secret directory holds no NAME.pub: it is no public directory
        { cert, "keys/secret", "CURVE_PUBLIC_DIR: keys/secret holds no certificate (NAME.pub)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++)
        s_expect_curve_error (cases [i].cert, cases [i].dir, cases [i].error);
    s_write ("empty/broken.pub", "curve\n    public-key = \"short\"\n");
    s_expect_curve_error (cert, "empty",
                          "CURVE_PUBLIC_DIR: empty/broken.pub is not a certificate (zcert_save format)");
    unlink ("empty/broken.pub");
    //  A secret key where every host reads is refused
    char *secret = tu_read_file ("keys/secret/handler_secret", NULL);
    s_write ("empty/handler.pub", secret);
    free (secret);
    s_expect_curve_error (cert, "empty",
                          "CURVE_PUBLIC_DIR: empty/handler.pub holds a secret key:"
                          " public certificates only");
}

//  lottery-keys' work: three files per name, the secret one private, and
//  never a key overwritten; zauth is given each key once.
static void
test_curve_keys (void **)
{
    s_make_keys ("keys");
    struct stat info;
    assert_int_equal (stat ("keys/secret", &info), 0);
    assert_int_equal (info.st_mode & 0777, 0700);
    assert_int_equal (stat ("keys/secret/coordinator_secret", &info), 0);
    assert_int_equal (info.st_mode & 0077, 0);
    char *error = NULL;
    for (size_t i = 0; lot_curve_kinds [i]; i++) {
        char *pair = tu_printf ("keys/secret/%s", lot_curve_kinds [i]);
        zcert_t *own = lot_curve_load_secret (pair, &error);
        free (pair);
        zcert_t *public = lot_curve_load_public ("keys/public", lot_curve_kinds [i], &error);
        assert_non_null (own);
        assert_non_null (public);
        assert_string_equal (zcert_public_txt (own), zcert_public_txt (public));
        assert_string_equal (zcert_secret_txt (public), "0000000000000000000000000000000000000000");
        zcert_destroy (&own);
        zcert_destroy (&public);
    }
    assert_null (lot_curve_load_public ("keys/public", "nobody", &error));
    assert_string_equal (error, "cannot read keys/public/nobody.pub: No such file or directory");
    free (error);

    //  Never overwritten: a key in use would stop working
    char *before = tu_read_file ("keys/secret/handler_secret", NULL);
    assert_int_equal (lot_curve_make ("keys", "handler", &error), -1);
    assert_string_equal (error, "keys/secret/handler exists: remove it to make a new key");
    free (error);
    char *after = tu_read_file ("keys/secret/handler_secret", NULL);
    assert_string_equal (before, after);
    free (before);
    free (after);
    const char *bad [] = { "", ".hidden", "a/b" };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal (lot_curve_make ("keys", bad [i], &error), -1);
        assert_non_null (strstr (error, "is not a certificate name"));
        free (error);
    }
    //  Another name beside them
    assert_int_equal (lot_curve_make ("keys", "handler-2", &error), 0);
    assert_int_equal (access ("keys/public/handler-2.pub", R_OK), 0);

    //  A certificate copied under a second name is one key
    char *copy = tu_read_file ("keys/public/handler.pub", NULL);
    s_write ("keys/public/handler-copy.pub", copy);
    free (copy);
    size_t keys = 0;
    zcertstore_t *store = lot_curve_store_new ("keys/public", &keys, &error);
    assert_non_null (store);
    assert_int_equal (keys, 6);
    zcertstore_destroy (&store);
    assert_null (lot_curve_store_new ("nowhere", &keys, &error));
    assert_string_equal (error, "CURVE_PUBLIC_DIR: cannot read nowhere: No such file or directory");
    free (error);
}

//  docs/settings.md holds each program's --help table as the code prints
//  it now: a setting added, changed or described anew without `make docs`
//  fails here.
static void
test_settings_page_current (void **)
{
    assert_int_equal (chdir (tu_home ()), 0);
    char *page = tu_read_file ("docs/settings.md", NULL);
    assert_non_null (page);
    const char *programs [] = { "lottery-server", "lottery-client" };
    for (size_t i = 0; i < 2; i++) {
        char *path = tu_program (programs [i]);
        assert_non_null (path);
        char *out = tu_printf ("%s/%s.txt", tu_dir (), programs [i]);
        char *argv [] = { path, "--help", NULL };
        tu_proc_t *proc = tu_spawn (tu_dir (), argv, NULL, out);
        assert_int_equal (tu_wait (proc, 10000), 0);
        tu_proc_destroy (&proc);
        char *help = tu_read_file (out, NULL);
        const char *table = strstr (help, "\n| variable |");
        assert_non_null (table);
        if (!strstr (page, table + 1))
            fail_msg ("docs/settings.md lacks %s --help's table: run make docs", programs [i]);
        free (help);
        free (out);
        free (path);
    }
    free (page);
    assert_int_equal (chdir (tu_dir ()), 0);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        S_TEST (test_defaults),
        S_TEST (test_config_file),
        S_TEST (test_env_overrides_file),
        S_TEST (test_invalid_values),
        S_TEST (test_endpoint_bind_form),
        S_TEST (test_parse_args),
        S_TEST (test_log_lines),
        S_TEST (test_log_levels),
        S_TEST (test_config_line),
        S_TEST (test_options_table),
        S_TEST (test_curve_settings),
        S_TEST (test_curve_keys),
        S_TEST (test_settings_page_current),
    };
    return cmocka_run_group_tests_name ("settings", tests, NULL, NULL);
}
