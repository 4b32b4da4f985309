/*  lot_link - one connection to the server: connect and retry, send, receive an answer  */
#include "lot_link.h"
#include "lot_codec.h"
#include "lot_secure.h"
#include "lot_tcp.h"
#include "lot_wait.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_REJECTED "rejected by the server: "
#define S_TEXT_MAX 200              //  Bytes kept of an error reason

//  The transport is one of two: with auth.cert the CURVE one, else TCP.
struct _lot_link_t {
    const lot_client_config_t *config;
    lot_wait_t *wait;               //  Limits of every wait; why a step failed
    lot_tcp_t *tcp;                 //  Without auth.cert: the TCP connection
    lot_secure_t *secure;           //  With auth.cert: the CURVE link
    lot_inbox_t *inbox;             //  What the server sent, not read yet
    const char *resource;           //  Its name in log lines
    const char *server;             //  The server's address, as configured
    bool said;                      //  A fail line said why connecting failed
};

//  ---------------------------------------------------------------------
//  The link's state

lot_link_t *
lot_link_new (const lot_client_config_t *config)
{
    assert (config);
    lot_link_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->config = config;
    self->server = config->auth_cert ? config->auth_address : config->server_address;
    self->wait = lot_wait_new (config->server_timeout);
    self->inbox = lot_inbox_new ();
    char *error = NULL;
    if (self->wait && !config->auth_cert)
        self->tcp = lot_tcp_new (config, self->wait);
    else
    if (self->wait && !(self->secure = lot_secure_new (config, self->wait, &error)))
        lot_log_error ("action: autenticacion | result: fail | reason: %s",
                       error ? error : "out of memory");
    free (error);
    if (!self->inbox || !(self->tcp || self->secure)) {
        lot_link_destroy (&self);
        return NULL;
    }
    return self;
}

void
lot_link_destroy (lot_link_t **self_p)
{
    assert (self_p);
    if (*self_p) {
        lot_link_t *self = *self_p;
        lot_link_close (self, LOT_LOG_DEBUG);
        lot_tcp_destroy (&self->tcp);
        lot_secure_destroy (&self->secure);
        lot_inbox_destroy (&self->inbox);
        lot_wait_destroy (&self->wait);
        free (self);
        *self_p = NULL;
    }
}

int
lot_link_fail (lot_link_t *self, const char *format, ...)
{
    char reason [LOT_WAIT_REASON_MAX];
    va_list args;
    va_start (args, format);
    vsnprintf (reason, sizeof reason, format, args);
    va_end (args);
    return lot_wait_fail (self->wait, "%s", reason);
}

const char *
lot_link_reason (lot_link_t *self)
{
    return lot_wait_reason (self->wait);
}

bool
lot_link_dropped (lot_link_t *self)
{
    return lot_wait_dropped (self->wait);
}

bool
lot_link_said (lot_link_t *self)
{
    return self->said;
}

bool
lot_link_rejected (lot_link_t *self, const char *reason)
{
    const char *said = lot_wait_reason (self->wait);
    size_t prefix = strlen (S_REJECTED);
    return strncmp (said, S_REJECTED, prefix) == 0 && strcmp (said + prefix, reason) == 0;
}

void
lot_link_set_deadline (lot_link_t *self, long ms)
{
    lot_wait_set_deadline (self->wait, ms);
}

int
lot_link_pause (lot_link_t *self, long ms)
{
    return lot_wait_pause (self->wait, ms);
}

//  ---------------------------------------------------------------------
//  Sending, and receiving the answers

int
lot_link_send (lot_link_t *self, const void *data, size_t size)
{
    if (self->secure)
        return lot_secure_send (self->secure, data, size);
    return lot_tcp_send (self->tcp, data, size);
}

//  Reads until the answer of that kind at the inbox's front is whole: 1
//  when it is (taken), 0 when the bytes are no such answer, -1 when the
//  link failed.
static int
s_recv (lot_link_t *self, lot_answer_kind_t kind, lot_answer_t *answer)
{
    lot_codec_status_t status;
    while ((status = lot_inbox_take (self->inbox, kind, answer)) == LOT_CODEC_INCOMPLETE)
        if (self->secure ? lot_secure_fill (self->secure, self->inbox)
                         : lot_tcp_fill (self->tcp, self->inbox))
            return -1;
    return status == LOT_CODEC_COMPLETE;
}

int
lot_link_recv (lot_link_t *self, lot_answer_kind_t kind, lot_answer_t *answer)
{
    int rc = s_recv (self, kind, answer);
    if (rc)
        return rc > 0 ? 0 : -1;
    if ((rc = s_recv (self, LOT_ANSWER_ERROR, answer)) < 0)
        return -1;
    if (rc > 0) {
        char text [S_TEXT_MAX];
        lot_log_printable (answer->reason.data, answer->reason.size, text, sizeof text);
        return lot_link_fail (self, S_REJECTED "%s", text);
    }
    size_t size;
    const uint8_t *front = lot_inbox_front (self->inbox, &size);
    //  Byte 5, after the tag and stored, is its finished byte
    if (front [0] == LOT_TAG_STORED && size >= 6)
        return lot_link_fail (self, "unexpected answer from the server: 'S' with"
                              " finished 0x%02x", front [5]);
    return lot_link_fail (self, "unexpected answer 0x%02x from the server", front [0]);
}

//  ---------------------------------------------------------------------
//  Connections

//  One try: 0 when connected and greeted, 1 when worth another try, -1
//  when not. A greeting that asks for it is tried again at once.
static int
s_connect_try (lot_link_t *self, lot_link_greet_fn *greet, void *arg)
{
    while (true) {
        lot_wait_clear_dropped (self->wait);
        if (self->secure ? lot_secure_connect (self->secure) : lot_tcp_connect (self->tcp))
            return lot_wait_stopped (self->wait) ? -1 : 1;
        int rc = greet ? greet (arg, self) : 0;
        if (rc)
            lot_link_close (self, LOT_LOG_DEBUG);
        if (rc != 2)
            return rc;
    }
}

int
lot_link_connect (lot_link_t *self, const char *resource, lot_link_greet_fn *greet,
                  void *arg)
{
    const lot_client_config_t *config = self->config;
    self->resource = resource;
    self->said = false;
    int rc;
    for (long attempt = 1; ; attempt++) {
        rc = s_connect_try (self, greet, arg);
        if (rc == 0) {
            lot_log_debug ("action: conectar | result: success | resource: %s"
                           " | server: %s | address: %s", resource, self->server,
                           self->secure ? config->auth_address : lot_tcp_address (self->tcp));
            return 0;
        }
        if (lot_wait_stopped (self->wait))
            return -1;
        if (rc < 0 || attempt >= config->loop_amount)
            break;
        lot_log_info ("action: conectar | result: in_progress | server: %s"
                      " | intento: %ld | reason: %s",
                      self->server, attempt, lot_link_reason (self));
        if (lot_link_pause (self, config->loop_period))
            return -1;
    }
    if (rc < 0)
        lot_log_error ("action: conectar | result: fail | server: %s | reason: %s",
                       self->server, lot_link_reason (self));
    else
        lot_log_error ("action: conectar | result: fail | server: %s | intentos: %ld"
                       " | reason: %s", self->server, config->loop_amount,
                       lot_link_reason (self));
    self->said = true;
    return -1;
}

void
lot_link_close (lot_link_t *self, lot_log_level_t level)
{
    if (self->inbox)
        lot_inbox_clear (self->inbox);
    bool open = self->secure ? lot_secure_close (self->secure)
              : self->tcp && lot_tcp_close (self->tcp);
    if (open)
        lot_log (level, "action: close | result: success | resource: %s", self->resource);
}

void
lot_link_close_dropped (lot_link_t *self)
{
    lot_log_info ("action: reconectar | result: in_progress | agencia: %ld"
                  " | reason: %s", self->config->id, lot_link_reason (self));
    lot_link_close (self, LOT_LOG_DEBUG);
}
