/*  lot_agency - what an agency does: send its bets, then ask for its winners  */
#include "lot_agency.h"
#include "lot_feed.h"
#include "lot_link.h"
#include "lot_signals.h"
#include "lot_log.h"
#include "lot_upload.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DOCUMENT_MAX 32             //  Bytes kept of a winner's document

typedef char s_document_t [DOCUMENT_MAX];

static const char *s_env_names [LOT_BET_FIELDS] = {
    [LOT_BET_FIRST_NAME] = "NOMBRE",
    [LOT_BET_LAST_NAME] = "APELLIDO",
    [LOT_BET_DOCUMENT] = "DOCUMENTO",
    [LOT_BET_BIRTHDATE] = "NACIMIENTO",
    [LOT_BET_NUMBER] = "NUMERO"
};

struct _lot_agency_t {
    const lot_client_config_t *config;
    char agency [24];               //  The id in decimal, as sent
    lot_link_t *link;               //  The connection to the server
    lot_upload_t *upload;           //  The bets, on the link
};

//  Logs a fail line and returns status, unless a signal stopped the run:
//  that is no failure, and the status is 0. A step that failed on the
//  link has no line of its own when connecting said why (lot_link_said).
static int
s_fail (int status, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_fail (int status, const char *format, ...)
{
    if (lot_signals_caught ())
        return 0;
    char line [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof line, format, args);
    va_end (args);
    lot_log_error ("%s", line);
    return status;
}

static lot_span_t
s_agency_span (lot_agency_t *self)
{
    return (lot_span_t) { .data = self->agency, .size = strlen (self->agency) };
}

//  ---------------------------------------------------------------------
//  The winners

//  Sends 'W' and reads the whole answer: *count documents in *documents
//  (free it). Returns 0, or -1 with nothing kept.
static int
s_query_winners (lot_agency_t *self, s_document_t **documents, unsigned *count)
{
    lot_link_t *link = self->link;
    uint8_t query [1 + 2 + sizeof self->agency];
    size_t size = lot_codec_query_encode (query, sizeof query, s_agency_span (self));
    if (size == 0)
        return lot_link_fail (link, "agency id %s too long for 'W'", self->agency);
    lot_answer_t answer;
    if (lot_link_send (link, query, size)
    ||  lot_link_recv (link, LOT_ANSWER_WINNERS, &answer))
        return -1;
    lot_winners_reader_t reader = answer.winners;
    *count = reader.count;
    *documents = calloc (*count ? *count : 1, sizeof **documents);
    if (!*documents)
        return lot_link_fail (link, "out of memory");
    lot_span_t document;
    for (unsigned i = 0; lot_codec_winners_next (&reader, &document); i++)
        lot_log_printable (document.data, document.size, (*documents) [i],
                           sizeof (*documents) [i]);
    return 0;
}

//  Asks until the whole answer came, asking again on a new connection
//  when one drops, for at most winners.timeout from the first query.
static int
s_ask_winners (lot_agency_t *self)
{
    lot_link_t *link = self->link;
    if (lot_link_connect (link, "winners_connection", NULL, NULL))
        return lot_link_said (link) ? 1 : 0;   //  Else a signal
    lot_link_set_deadline (link, self->config->winners_timeout);
    s_document_t *documents = NULL;
    unsigned count = 0;
    while (s_query_winners (self, &documents, &count) && lot_link_dropped (link)) {
        lot_link_close_dropped (link);
        //  A period first: a server that drops every query is not hammered
        if (lot_link_pause (link, self->config->loop_period)
        ||  lot_link_connect (link, "winners_connection", NULL, NULL))
            break;
    }
    lot_link_set_deadline (link, -1);
    if (!documents)
        return lot_link_said (link) ? 1
             : s_fail (1, "action: consulta_ganadores | result: fail | agencia: %s"
                       " | reason: %s", self->agency, lot_link_reason (link));
    lot_link_close (link, LOT_LOG_DEBUG);
    lot_log_info ("action: consulta_ganadores | result: success | cant_ganadores: %u"
                  " | agencia: %s", count, self->agency);
    for (unsigned i = 0; i < count; i++)
        lot_log_info ("action: ganador | result: success | agencia: %s | dni: %s",
                      self->agency, documents [i]);
    free (documents);
    return 0;
}

//  ---------------------------------------------------------------------
//  The two conversations

//  The data file's bets, then the winners.
static int
s_run_bets (lot_agency_t *self)
{
    size_t bets;
    if (lot_feed_file_check (self->config->data_file, s_agency_span (self),
                             (size_t) self->config->max_chunk_bytes, &bets))
        return 1;
    if (lot_upload_send_file (self->upload, bets))
        return lot_link_said (self->link) ? 1
             : s_fail (1, "action: apuestas_enviadas | result: fail | cantidad: %ld"
                       " | reason: %s", lot_upload_stored (self->upload),
                       lot_link_reason (self->link));
    lot_link_close (self->link, LOT_LOG_DEBUG);
    lot_upload_close (self->upload, LOT_LOG_DEBUG);
    lot_log_info ("action: apuestas_enviadas | result: success | cantidad: %ld",
                  lot_upload_stored (self->upload));
    return s_ask_winners (self);
}

//  The single bet of the environment, when there is no data file.
static int
s_run_single (lot_agency_t *self)
{
    lot_span_t bet [LOT_BET_FIELDS];
    char missing [128] = "";
    size_t set = 0;
    for (int i = 0; i < LOT_BET_FIELDS; i++) {
        const char *value = getenv (s_env_names [i]);
        if (value) {
            bet [i] = (lot_span_t) { .data = value, .size = strlen (value) };
            set++;
        }
        else
            snprintf (missing + strlen (missing), sizeof missing - strlen (missing),
                      "%s%s", *missing ? ", " : "", s_env_names [i]);
    }
    if (set == 0)
        return s_fail (2, "action: archivo_apuestas | result: fail | file: %s"
                       " | reason: no data file, and no single bet in the"
                       " environment (NOMBRE, APELLIDO, DOCUMENTO, NACIMIENTO,"
                       " NUMERO)", self->config->data_file);
    if (set < LOT_BET_FIELDS)
        return s_fail (2, "action: apuesta_enviada | result: fail | reason:"
                       " no data file, and the single bet lacks %s", missing);
    lot_bet_t checked;
    lot_bet_field_t field;
    const char *reason = lot_bet_check_fields (&checked, bet, &field);
    if (reason)
        return s_fail (2, "action: apuesta_enviada | result: fail | field: %s"
                       " | reason: %s", s_env_names [field], reason);
    const char *document = bet [LOT_BET_DOCUMENT].data;
    const char *number = bet [LOT_BET_NUMBER].data;
    if (lot_upload_send_single (self->upload, bet))
        return lot_link_said (self->link) ? 1
             : s_fail (1, "action: apuesta_enviada | result: fail | dni: %s"
                       " | numero: %s | reason: %s", document, number,
                       lot_link_reason (self->link));
    lot_link_close (self->link, LOT_LOG_DEBUG);
    lot_log_info ("action: apuesta_enviada | result: success | dni: %s | numero: %s",
                  document, number);
    return 0;
}

//  ---------------------------------------------------------------------

lot_agency_t *
lot_agency_new (const lot_client_config_t *config)
{
    assert (config);
    lot_agency_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    snprintf (self->agency, sizeof self->agency, "%ld", config->id);
    self->link = lot_link_new (config);
    self->upload = self->link ? lot_upload_new (config, self->link) : NULL;
    if (!self->upload)
        lot_agency_destroy (&self);
    return self;
}

void
lot_agency_destroy (lot_agency_t **self_p)
{
    if (*self_p) {
        lot_agency_t *self = *self_p;
        //  The connection's close line before the data file's
        if (self->link)
            lot_link_close (self->link, LOT_LOG_DEBUG);
        lot_upload_destroy (&self->upload);
        lot_link_destroy (&self->link);
        free (self);
        *self_p = NULL;
    }
}

int
lot_agency_run (lot_agency_t *self)
{
    //  Docker makes an empty directory of a missing bind-mount source
    const char *path = self->config->data_file;
    struct stat info;
    bool missing;
    if (stat (path, &info) == 0)
        missing = S_ISDIR (info.st_mode);
    else
    if (errno == ENOENT || errno == ENOTDIR)
        missing = true;
    else
        return s_fail (1, "action: archivo_apuestas | result: fail | file: %s"
                       " | reason: %s", path, strerror (errno));
    int rc = missing ? s_run_single (self) : s_run_bets (self);
    //  After a signal, say what was open; otherwise it is routine
    lot_log_level_t level = lot_signals_caught () ? LOT_LOG_INFO : LOT_LOG_DEBUG;
    lot_link_close (self->link, level);
    lot_upload_close (self->upload, level);
    return lot_signals_caught () ? 0 : rc;
}
