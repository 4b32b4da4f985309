/*  test_client_config - the agency client's settings: config.yaml, the
    CLI_* variables over it, the defaults, what it refuses, and the real
    lottery-client refusing to start without them
*/
#include "client_fake.h"
#include "lot_client_config.h"

static lot_client_config_t *
s_config (const char *path)
{
    char *error = NULL;
    lot_client_config_t *config = lot_client_config_new (path, &error);
    if (!config)
        print_error ("unexpected config error: %s\n", error ? error : "(none)");
    free (error);
    assert_non_null (config);
    return config;
}

//  Expects loading to fail with an error that mentions text.
static void
s_config_fails (const char *path, const char *text)
{
    char *error = NULL;
    lot_client_config_t *config = lot_client_config_new (path, &error);
    assert_null (config);
    assert_non_null (error);
    if (!strstr (error, text))
        print_error ("error '%s' does not mention '%s'\n", error, text);
    assert_non_null (strstr (error, text));
    free (error);
}

//  Every setting a config should hold
typedef struct {
    long id;
    const char *address, *host, *port;
    long loop_amount, loop_period;
    lot_log_level_t log_level;
    long batch;
    const char *data_file;
    long chunk_bytes, window, protocol, winners_timeout;
} s_want_t;

static void
s_config_is (const char *path, const s_want_t *want)
{
    lot_client_config_t *config = s_config (path);
    assert_int_equal (config->id, want->id);
    assert_string_equal (config->server_address, want->address);
    assert_string_equal (config->server_host, want->host);
    assert_string_equal (config->server_port, want->port);
    assert_int_equal (config->loop_amount, want->loop_amount);
    assert_int_equal (config->loop_period, want->loop_period);
    assert_int_equal (config->log_level, want->log_level);
    assert_int_equal (config->batch_max_amount, want->batch);
    assert_string_equal (config->data_file, want->data_file);
    assert_int_equal (config->max_chunk_bytes, want->chunk_bytes);
    assert_int_equal (config->window, want->window);
    assert_int_equal (config->protocol_version, want->protocol);
    assert_int_equal (config->winners_timeout, want->winners_timeout);
    lot_client_config_destroy (&config);
    assert_null (config);
}

static void
test_config_sources (void **)
{
    //  No config.yaml in the working directory: every default
    setenv ("CLI_ID", "1", 1);
    s_config_is (NULL, &(s_want_t) {
        1, "server:12345", "server", "12345", 5, 5000, LOT_LOG_INFO, 10,
        ".data/agency-1.csv", 8192, 16, 3, 600000 });

    //  The course's keys, and keys of other tools, left alone
    cf_write ("config.yaml",
        "# agency settings, as in the course, plus keys of other tools\n"
        "server:\n  address: \"example.org:4321\"\n"
        "loop:\n  amount: 7\n  period: \"250ms\"\n"
        "other:\n  list: [1, 2, {level: ignored}]\n  nested:\n    deep: x\n"
        "log:\n  level: \"DEBUG\"\n"
        "batch:\n  maxAmount: 42\n  window: 3\n"
        "protocol:\n  version: 1\n"
        "winners:\n  timeout: \"90s\"\n");
    setenv ("CLI_ID", "4", 1);
    s_config_is ("config.yaml", &(s_want_t) {
        4, "example.org:4321", "example.org", "4321", 7, 250, LOT_LOG_DEBUG, 42,
        ".data/agency-4.csv", 8192, 3, 1, 90000 });

    //  The environment over the file; the file alone gives the id when
    //  the environment does not
    cf_write ("config.yaml", "id: 9\nserver: {address: \"a:1\"}\nloop: {amount: 2, period: 1s}\n"
                             "log: {level: ERROR}\nbatch: {maxAmount: 3}\n");
    unsetenv ("CLI_ID");
    lot_client_config_t *config = s_config ("config.yaml");
    assert_int_equal (config->id, 9);
    lot_client_config_destroy (&config);
    static const char *env [][2] = {
        { "CLI_ID", "12" }, { "CLI_SERVER_ADDRESS", "[::1]:23456" },
        { "CLI_LOOP_AMOUNT", "11" }, { "CLI_LOOP_PERIOD", "1m" },
        { "CLI_LOG_LEVEL", "warning" }, { "CLI_BATCH_MAXAMOUNT", "65535" },
        { "CLI_DATA_FILE", "/data/mine.csv" }, { "CLI_MAX_CHUNK_BYTES", "64" },
        { "CLI_WINDOW", "1" }, { "CLI_PROTOCOL_VERSION", "1" },
        { "CLI_WINNERS_TIMEOUT", "300ms" },
    };
    for (size_t i = 0; i < CF_COUNT (env); i++)
        setenv (env [i][0], env [i][1], 1);
    s_config_is ("config.yaml", &(s_want_t) {
        12, "[::1]:23456", "::1", "23456", 11, 60000, LOT_LOG_WARNING, 65535,
        "/data/mine.csv", 64, 1, 1, 300 });
}

static void
test_config_durations (void **)
{
    static const struct { const char *text; long ms; } cases [] = {
        { "5s", 5000 }, { "250ms", 250 }, { "1m", 60000 }, { "0", 0 }, { "1.5s", 1500 }
    };
    setenv ("CLI_ID", "1", 1);
    CF_EACH (i, cases, cases [i].text) {
        setenv ("CLI_LOOP_PERIOD", cases [i].text, 1);
        lot_client_config_t *config = s_config ("/dev/null");
        assert_int_equal (config->loop_period, cases [i].ms);
        lot_client_config_destroy (&config);
    }
    //  And from the file
    unsetenv ("CLI_LOOP_PERIOD");
    lot_client_config_t *config = s_config (cf_write ("config.yaml", "loop:\n  period: 1m\n"));
    assert_int_equal (config->loop_period, 60000);
    lot_client_config_destroy (&config);
}

static void
test_config_invalid (void **)
{
    static const struct { const char *yaml; const char *mentions; } files [] = {
        { "loop:\n  period: \"5 parsecs\"\n", "loop.period" },
        { "loop:\n  period: \"-1s\"\n", "loop.period" },
        { "batch:\n  maxAmount: 0\n", "batch.maxAmount" },
        { "batch:\n  maxAmount: 65536\n", "batch.maxAmount" },
        { "batch:\n  window: 0\n", "batch.window" }, { "loop:\n  amount: five\n", "loop.amount" },
        { "log:\n  level: LOUD\n", "log.level" },
        { "protocol:\n  version: 4\n", "protocol.version" },
        { "protocol:\n  version: 0\n", "protocol.version" },
        { "winners:\n  timeout: 0\n", "winners.timeout" },
        { "winners:\n  timeout: never\n", "winners.timeout" },
        { "server:\n  address: \"server\"\n", "server.address" },
        { "server:\n  address: \"server:0\"\n", "server.address" },
        { "server:\n  address: \":12345\"\n", "server.address" },
        { "server: [\n", "line" }, { "just a scalar\n", "mapping" },
    };
    setenv ("CLI_ID", "1", 1);
    CF_EACH (i, files, files [i].yaml)
        s_config_fails (cf_write ("config.yaml", files [i].yaml), files [i].mentions);
    //  A file named explicitly must exist
    s_config_fails ("/nonexistent/config.yaml", "cannot read");

    static const struct { const char *name, *value; } envs [] = {
        { "CLI_ID", "abc" }, { "CLI_ID", "0" }, { "CLI_ID", "-3" },
        { "CLI_ID", "" }, { "CLI_BATCH_MAXAMOUNT", "0" },
        { "CLI_LOOP_PERIOD", "soon" }, { "CLI_MAX_CHUNK_BYTES", "63" },
        { "CLI_LOOP_AMOUNT", "0" }, { "CLI_DATA_FILE", "" },
        { "CLI_SERVER_ADDRESS", "server:http" }, { "CLI_PROTOCOL_VERSION", "4" },
        { "CLI_WINNERS_TIMEOUT", "0" }, { "CLI_WINDOW", "1025" },
    };
    CF_EACH (i, envs, envs [i].name) {
        setenv ("CLI_ID", "1", 1);
        setenv (envs [i].name, envs [i].value, 1);
        s_config_fails ("/dev/null", strcmp (envs [i].name, "CLI_SERVER_ADDRESS")
                                     ? envs [i].name : "server.address");
        unsetenv (envs [i].name);
    }
    //  No agency number at all
    unsetenv ("CLI_ID");
    s_config_fails ("/dev/null", "CLI_ID");
}

static void
test_client_config_fail (void **)
{
    cf_client_t *client = cf_client_new (1);
    snprintf (client->env_text [0], sizeof client->env_text [0], "CLI_LOOP_AMOUNT=2");
    cf_client_start (client);                   //  No CLI_ID
    const char *parts [] = { "action: config | result: fail", "CLI_ID", NULL };
    assert_int_equal (tu_count_lines (cf_client_exits (client, 2), parts), 1);

    //  A config file named on the command line must exist
    client = cf_client_new (1);
    char *argv [] = { cf_client_path, "--config", "missing.yaml", NULL };
    client->proc = tu_spawn (tu_dir (), argv, client->env, CF_LOG);
    const char *missing [] = { "action: config | result: fail", "missing.yaml", NULL };
    assert_int_equal (tu_count_lines (cf_client_exits (client, 2), missing), 1);
}

int
main (void)
{
    const struct CMUnitTest tests [] = {
        CF_TEST (test_config_sources),
        CF_TEST (test_config_durations),
        CF_TEST (test_config_invalid),
        CF_TEST (test_client_config_fail),
    };
    return cmocka_run_group_tests (tests, cf_init, cf_end);
}
