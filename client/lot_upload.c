/*  lot_upload - an agency's bets to the server, in v1, v2 or v3, resumed after drops  */
#include "lot_upload.h"
#include "lot_signals.h"
#include "lot_feed.h"

#include <czmq.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _lot_upload_t {
    const lot_client_config_t *config;
    lot_link_t *link;
    char agency [24];               //  The id in decimal, as sent
    lot_feed_t *feed;               //  Made at the first connection
    lot_feed_single_t *single;      //  The single bet, or NULL: the data file
    lot_feed_file_t *file;          //  The data file while it is sent
    size_t file_bets;               //  Bets in the data file, checked
    uint8_t *packet;                //  The 'N' header, then the chunk
    uint8_t *chunk;                 //  max_chunk_bytes, inside packet
    unsigned *counts;               //  Bets of each chunk out, window of them
    lot_feed_pace_t pace;           //  Of the progress lines
    long stored;                    //  The agency's bets stored, as far as known
    long version;                   //  The protocol spoken: protocol.version,
                                    //  2 once the server refused v3, or 1 once
                                    //  it showed it has no v2
    bool heard_v2;                  //  The server answered 'S' once: it has v2
    bool hello_dropped;             //  An 'H' dropped unanswered before any 'S'
    bool v1_dropped;                //  A v1 connection dropped mid-upload
    bool fell_back;                 //  A warning said v1 is spoken
    bool fell_back_v2;              //  A warning said v2 is spoken
    uint32_t server_stored;         //  What the last 'S' said: bets stored,
    bool server_finished;           //  whether the last chunk is,
    uint8_t server_digest [LOT_DIGEST_SIZE];    //  and the digest of those bets
    lot_digest_t *digest;           //  Of the data file's first bets, as skipped
};

lot_upload_t *
lot_upload_new (const lot_client_config_t *config, lot_link_t *link)
{
    assert (config);
    assert (link);
    lot_upload_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->link = link;
    self->version = config->protocol_version;
    snprintf (self->agency, sizeof self->agency, "%ld", config->id);
    self->packet = malloc (LOT_NUMBERED_HEADER + (size_t) config->max_chunk_bytes);
    self->counts = malloc ((size_t) config->window * sizeof *self->counts);
    self->digest = lot_digest_new ();
    if (!self->packet || !self->counts || !self->digest)
        lot_upload_destroy (&self);
    else
        self->chunk = self->packet + LOT_NUMBERED_HEADER;
    return self;
}

void
lot_upload_destroy (lot_upload_t **self_p)
{
    if (*self_p) {
        lot_upload_t *self = *self_p;
        lot_upload_close (self, LOT_LOG_DEBUG);
        lot_feed_destroy (&self->feed);
        lot_feed_single_destroy (&self->single);
        free (self->packet);
        free (self->counts);
        lot_digest_destroy (&self->digest);
        free (self);
        *self_p = NULL;
    }
}

long
lot_upload_stored (lot_upload_t *self)
{
    return self->stored;
}

void
lot_upload_close (lot_upload_t *self, lot_log_level_t level)
{
    if (self->file) {
        lot_log (level, "action: close | result: success | resource: data_file"
                 " | file: %s", lot_feed_file_path (self->file));
        lot_feed_file_destroy (&self->file);
    }
}

static lot_span_t
s_agency_span (lot_upload_t *self)
{
    return (lot_span_t) { .data = self->agency, .size = strlen (self->agency) };
}

//  ---------------------------------------------------------------------
//  The greeting

//  Says 'H' and reads the answer into server_stored, server_finished and
//  (v3) server_digest. Returns 0; 1 when worth another try: the connection
//  dropped, or the agency is busy on a connection the server has not seen
//  die yet; 2 when the server showed it does not speak v2; 3 when it
//  refused v3 (one of ours from before the digest, which speaks v2); or -1.
static int
s_hello (lot_upload_t *self)
{
    uint8_t hello [3 + 2 + LOT_HELLO_AGENCY_MAX];
    size_t size = lot_codec_hello_encode (hello, sizeof hello, (unsigned) self->version,
                                          s_agency_span (self));
    if (size == 0)
        return lot_link_fail (self->link, "agency id %s too long for 'H'", self->agency);
    lot_answer_t answer;
    bool v3 = self->version >= LOT_PROTOCOL_VERSION;
    if (lot_link_send (self->link, hello, size)
    ||  lot_link_recv (self->link, v3 ? LOT_ANSWER_STORED : LOT_ANSWER_STORED_V2,
                       &answer)) {
        if (lot_link_rejected (self->link, LOT_REASON_BUSY))
            return 1;
        //  The secure port speaks v3: never anything weaker
        if (v3 && lot_link_rejected (self->link, LOT_REASON_VERSION)
        &&  !self->config->auth_cert)
            return 3;
        //  A v1 server answers something else ('E' "unknown message tag",
        //  say). A close, a reset or silence may say the
        //  same, or be one of ours that could not take the connection (its
        //  table full, a restart), and v1 would then send the file again
        //  from its first bet: only the second in a row says v1. Once a
        //  server said 'S', a drop is only a drop
        bool dropped = lot_link_dropped (self->link);
        if (!self->heard_v2 && !lot_signals_caught () && !self->config->auth_cert
        &&  (!dropped || self->hello_dropped))
            return 2;
        self->hello_dropped |= dropped;
        return dropped ? 1 : -1;
    }
    self->server_stored = answer.stored;
    self->server_finished = answer.finished;
    if (v3)
        memcpy (self->server_digest, answer.digest, LOT_DIGEST_SIZE);
    self->heard_v2 = true;
    return 0;
}

//  Greets a new bets connection (a lot_link_greet_fn): in v2 and v3, 'H'
//  and its 'S'. A server that refuses v3 is tried again at once in v2, one
//  that does not speak v2 in v1, as TLS and HTTP/2 clients fall back.
static int
s_greet (void *arg, lot_link_t *link)
{
    lot_upload_t *self = arg;
    int rc = self->version >= 2 ? s_hello (self) : 0;
    if (rc == 3) {
        lot_link_close (link, LOT_LOG_DEBUG);
        lot_log (self->fell_back_v2 ? LOT_LOG_DEBUG : LOT_LOG_WARNING,
                 "action: protocolo | result: success | version: 2 | server: %s"
                 " | reason: 'H' %d refused (%s): the server speaks v2, without the"
                 " digest; a resume is not checked", self->config->server_address,
                 LOT_PROTOCOL_VERSION, lot_link_reason (link));
        self->fell_back_v2 = true;
        self->version = LOT_PROTOCOL_V2;
        return 2;
    }
    if (rc == 2 && self->v1_dropped)
        //  Only an 'S' can say whether the chunk the drop cut was stored
        return lot_link_fail (link, "the connection dropped in v1, and the server"
                              " speaks v1 only: it cannot say whether the chunk out"
                              " was stored");
    if (rc == 2) {
        //  Closed here, so that its close line comes before the warning
        lot_link_close (link, LOT_LOG_DEBUG);
        lot_log (self->fell_back ? LOT_LOG_DEBUG : LOT_LOG_WARNING,
                 "action: protocolo | result: success | version: 1 | server: %s"
                 " | reason: no 'S' to 'H' (%s): the server speaks the course's"
                 " protocol only", self->config->server_address, lot_link_reason (link));
        self->fell_back = true;
        self->version = 1;
    }
    return rc;
}

//  ---------------------------------------------------------------------
//  The chunks

//  The server holds bets of the agency that are not the client's own
//  (someone else stored them under its name): it says so on the link, for
//  the fail line, and to the server with 'E' and the same reason, in place
//  of a chunk, so that the conflict is logged there too. Nothing more is
//  uploaded: the client's bets would follow someone else's. Returns -1.
static int
s_conflict (lot_upload_t *self, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
s_conflict (lot_upload_t *self, const char *format, ...)
{
    char reason [LOT_REASON_MAX + 1];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    uint8_t error [LOT_ANSWER_MAX];
    size_t size = lot_codec_error_encode (error, sizeof error, reason);
    //  A server that went meanwhile changes nothing: the reason is ours.
    //  v2 has no such 'E' (a v2 server would take it for a broken chunk)
    if (self->version >= LOT_PROTOCOL_VERSION)
        lot_link_send (self->link, error, size);
    return lot_link_fail (self->link, "%s", reason);
}

//  Adds a bet of the data file to the digest, as its bets-file line.
static int
s_digest_add (lot_upload_t *self, const lot_span_t fields [LOT_BET_FIELDS])
{
    lot_bet_t bet;
    lot_bet_field_t field;
    if (lot_bet_check_fields (&bet, fields, &field))
        return -1;              //  The file changed since it was checked
    bet.agency = (unsigned) self->config->id;
    return lot_digest_add_bet (self->digest, &bet);
}

//  Sets the feed to go on after the first self->stored bets: the data
//  file is opened again and that many bets skipped (it was checked whole
//  already); the single bet is simply sent next. An agency the server
//  calls finished (v2 and v3) must hold the whole file; check (after a v3
//  'S'): the skipped bets must be the ones the server holds, by its digest.
//  The single bet is not checked: it goes after whatever is stored.
static int
s_restart (lot_upload_t *self, bool check)
{
    lot_feed_next_fn *next = lot_feed_single_next;
    void *source = self->single;
    if (!self->single) {
        if ((size_t) self->stored > self->file_bets)
            return s_conflict (self, "the server holds %ld bets of agency %s, more than"
                               " the %zu of the data file: the stored bets are not its"
                               " own", self->stored, self->agency, self->file_bets);
        if (self->version >= 2 && self->server_finished
        &&  (size_t) self->stored < self->file_bets)
            return s_conflict (self, "the server holds %ld bets of agency %s and calls"
                               " it finished, before the %zu of the data file: the"
                               " stored bets are not its own", self->stored, self->agency,
                               self->file_bets);
        lot_upload_close (self, LOT_LOG_DEBUG);
        const char *path = self->config->data_file;
        self->file = lot_feed_file_new (path);
        if (!self->file)
            return lot_link_fail (self->link, "%s: %s", path, strerror (errno));
        lot_digest_reset (self->digest);
        lot_span_t fields [LOT_BET_FIELDS];
        while (lot_feed_file_bets (self->file) < (size_t) self->stored)
            if (lot_feed_file_next (self->file, fields) <= 0
            ||  (check && s_digest_add (self, fields)))
                return lot_link_fail (self->link, "the data file changed while it"
                                      " was sent");
        uint8_t own [LOT_DIGEST_SIZE];
        lot_digest_get (self->digest, own);
        if (check && memcmp (own, self->server_digest, LOT_DIGEST_SIZE))
            return s_conflict (self, "the %ld bets the server holds for agency %s are"
                               " not its own: their digest differs from that of the"
                               " data file's first %ld bets", self->stored, self->agency,
                               self->stored);
        next = lot_feed_file_next;
        source = self->file;
    }
    else
        lot_feed_single_rewind (self->single);
    if (self->feed)
        lot_feed_restart (self->feed, next, source);
    else
        self->feed = lot_feed_new (next, source);
    return self->feed ? 0 : lot_link_fail (self->link, "out of memory");
}

//  Sends the feed's next chunk; in v2 numbered with position, its first
//  bet's. Returns the bets in it, or -1.
static int
s_send_chunk (lot_upload_t *self, long position, bool *last)
{
    lot_chunk_writer_t writer;
    if (lot_codec_chunk_start (&writer, self->chunk,
                               (size_t) self->config->max_chunk_bytes, s_agency_span (self)))
        return lot_link_fail (self->link, "max_chunk_bytes too small for a chunk");
    int count = lot_feed_fill (self->feed, &writer,
                               (unsigned) self->config->batch_max_amount, last);
    if (count < 0)
        return lot_link_fail (self->link, lot_feed_oversized (self->feed)
                              ? "a bet does not fit in max_chunk_bytes"
                              : "a bad record in the data file");
    //  The header goes just before the chunk: one packet, one write
    uint8_t *packet = self->chunk;
    size_t size = lot_codec_chunk_finish (&writer, *last);
    if (self->version >= 2) {
        packet = self->packet;
        size += lot_codec_numbered_encode (packet, LOT_NUMBERED_HEADER,
                                           (uint32_t) position);
    }
    return lot_link_send (self->link, packet, size) ? -1 : count;
}

//  Logs how far the upload is, when the pace says so: the bets the server
//  confirmed, and what part of the data file they are.
static void
s_progress (lot_upload_t *self)
{
    if (self->single || !lot_feed_pace_due (&self->pace, zclock_mono ()))
        return;
    long percent = self->file_bets ? self->stored * 100 / (long) self->file_bets : 100;
    lot_log_info ("action: progreso | result: in_progress | agencia: %s"
                  " | enviadas: %ld | porcentaje: %ld", self->agency,
                  self->stored, percent);
}

//  Sends the feed's bets in chunks, up to window of them unanswered in v2
//  (v1: each confirmed before the next). Answers come in the order of the
//  chunks: each 'O' confirms the oldest one out, and self->stored counts
//  the bets confirmed. A chunk's position follows the one sent before it.
static int
s_send_chunks (lot_upload_t *self)
{
    size_t window = self->version >= 2 ? (size_t) self->config->window : 1;
    assert (window > 0);        //  The config's range starts at 1
    size_t out = 0, oldest = 0;     //  Chunks unanswered: counts [oldest...]
    long sent = self->stored;       //  Bets sent
    bool last = false;
    while (!last || out > 0) {
        if (!last && out < window) {
            int count = s_send_chunk (self, sent, &last);
            if (count < 0)
                return -1;
            self->counts [(oldest + out++) % window] = (unsigned) count;
            sent += count;
            continue;
        }
        lot_answer_t answer;
        if (lot_link_recv (self->link, LOT_ANSWER_OK, &answer))
            return -1;
        unsigned count = self->counts [oldest];
        oldest = (oldest + 1) % window;
        out--;
        self->stored += count;
        lot_log_debug ("action: chunk_enviado | result: success | cantidad: %u", count);
        if (!last || out > 0)
            s_progress (self);
    }
    return 0;
}

//  Sends the bets until the last chunk is stored. v1: 'B', then the
//  chunks from the last one confirmed. v2 and v3: 'H', then the chunks from
//  where the 'S' says (v3 checks its digest first). After a drop, v2 and
//  v3 go on on a new connection. Configured v1 cannot learn what a
//  dropped connection stored, so a drop ends it; v1 fallen back to asks
//  'H' again, a loop.period later: a v2 server that dropped a new
//  connection (at its connection limit, say) looked like a v1 one, and
//  its 'S' now says what the v1 chunks stored, while a v1 one ends it. A
//  connection that begins with no more bets stored than the one before
//  is a stall: loop.amount of them in a row end the upload, so a server
//  that drops every chunk is not fed for ever.
static int
s_send (lot_upload_t *self)
{
    long begun = -1;            //  Bets stored when the last connection began
    long stalls = 0;
    while (true) {
        if (lot_link_connect (self->link, "bets_connection", s_greet, self))
            return -1;
        long stored = self->version >= 2 ? (long) self->server_stored : self->stored;
        bool resumed = begun >= 0;
        stalls = resumed && stored <= begun ? stalls + 1 : 0;
        if (stalls >= self->config->loop_amount)
            return lot_link_fail (self->link, "the connection dropped %ld times in a row"
                                  " with no more bets stored", stalls);
        begun = self->stored = stored;
        uint8_t tag = LOT_TAG_BETS;
        if (self->version >= 2) {
            lot_log (resumed ? LOT_LOG_INFO : LOT_LOG_DEBUG,
                     "action: %s | result: success | agencia: %s | almacenadas: %ld"
                     " | terminada: %d", resumed ? "reconectar" : "saludo",
                     self->agency, self->stored, self->server_finished);
        }
        //  Checked first even when finished: a stranger's last chunk must
        //  not pass for this agency's
        if (s_restart (self, self->version >= LOT_PROTOCOL_VERSION))
            return -1;
        if (self->version >= 2 && self->server_finished)
            return 0;
        if ((self->version >= 2 || lot_link_send (self->link, &tag, 1) == 0)
        &&  s_send_chunks (self) == 0)
            return 0;
        if (!lot_link_dropped (self->link) || self->config->protocol_version < 2)
            return -1;
        lot_link_close_dropped (self->link);
        if (self->version < 2) {
            self->v1_dropped = true;
            self->version = self->config->protocol_version;
            if (lot_link_pause (self->link, self->config->loop_period))
                return -1;
        }
    }
}

int
lot_upload_send_file (lot_upload_t *self, size_t file_bets)
{
    self->file_bets = file_bets;
    lot_feed_pace_init (&self->pace, zclock_mono ());
    return s_send (self);
}

int
lot_upload_send_single (lot_upload_t *self, const lot_span_t fields [LOT_BET_FIELDS])
{
    lot_feed_single_destroy (&self->single);
    self->single = lot_feed_single_new (fields);
    if (!self->single)
        return lot_link_fail (self->link, "out of memory");
    return s_send (self);
}
